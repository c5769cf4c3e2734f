import NIOCore
import ShellacCache
import VCL

/// Where a page read as ESI is in its delivery: the segments, and the next one to send.
struct ESIProgress {
    var document: ESIDocument
    /// The stored body: inline bytes, or the chunks.
    var inline: ArraySlice<UInt8>
    var chunks: [ByteBuffer]
    var next = 0
    /// The includes' `req_top.*`, made at the first include of the page.
    var top: VCLTopRequest?
}

/// The parent of an ESI include: told when its child request is done.
final class ESIParent: RequestOwner {
    private unowned let parent: RequestStateMachine

    init(parent: RequestStateMachine) { self.parent = parent }

    var isDraining: Bool { parent.owner.isDraining }
    func requestFinished(keepAlive: Bool) { parent.esiChildFinished() }
    func startPiping(_ pipe: PipeSession) -> ByteBuffer? { nil }
    func pipeFailed() {}
    func setSessionIdleTimeout(_ seconds: Double) {}
    var proxiedAddresses: (client: SocketAddress?, server: SocketAddress?) { parent.owner.proxiedAddresses }
    var listener: VCLListener { parent.owner.listener }
}

/// ESI delivery (Varnish's `cache_esi_deliver.c`): the page's verbatim bytes, and between
/// them each include as a sub-request of its own through VCL (its own lookup, cache entry
/// and TTL), written in order into the page's chunked (HTTP/1.1) or close-delimited
/// (HTTP/1.0) body. An include may itself be ESI, up to `max_esi_depth`.
extension RequestStateMachine {
    /// Whether this delivery is read as ESI: VCL asked for it (`beresp.do_esi`), the body
    /// parsed as ESI, `req.esi` is on, and the depth allows.
    func esiDocument(of object: CachedObject, metadata: ObjectMetadata) -> ESIDocument? {
        guard metadata.mayBeESI, request.method != "HEAD", esiLevel < parameters.maxESIDepth,
              vclSession?.context.req.esi ?? true else { return nil }
        return object.esiDocument
    }

    /// Sends the verbatim segments up to the next include, then starts that include; at the
    /// end of the page, ends the body.
    func esiStep() -> RequestStep {
        guard var progress = esi else { return .done }
        while progress.next < progress.document.segments.count {
            if esiAborted { return abortPage() }
            let segment = progress.document.segments[progress.next]
            progress.next += 1
            switch segment {
            case .verbatim(let range):
                if let stream = esiGzip {
                    for part in slices(range, of: progress) { writeStoredBlocks(part, into: stream) }
                } else {
                    writeESIBytes(range, of: progress)
                }
            case .compressed(let range, let crc, let plainLength):
                let pieces = slices(range, of: progress)
                if let stream = esiGzip {
                    for piece in pieces { writeESIPart(piece) }
                    stream.add(crc: crc, length: plainLength)
                } else {
                    // A plain page: the run inflated (it stands alone: see `ESIGzip`).
                    guard let plain = try? Gunzipper.inflatePiece(pieces, allocator: channel.channel.allocator) else {
                        keepAlive = false
                        return .done
                    }
                    for part in plain { writeESIPart(part) }
                }
            case .include(var src, let continueOnError):
                if src.hasPrefix("https://") {
                    // Varnish drops these unless told to fetch them as http://.
                    guard parameters.esiIgnoreHTTPS else { continue }
                    src = "http://" + src.dropFirst(8)
                }
                let top = progress.top ?? esiTop ?? topRequest()
                progress.top = top
                esi = progress
                // What the page has so far goes out before the include, which may take a while.
                channel.flush()
                startInclude(src, continueOnError: continueOnError, top: top)
                // A child answered at once (a hit) has finished already: go on here.
                if esiChild != nil { return .waiting }
            }
        }
        if esiAborted { return abortPage() }
        esi = nil
        delivery = nil
        if esiLevel == 0, let stream = esiGzip {
            writeESIPart(ByteBuffer(bytes: GzipStream.tail(crc: stream.crc, length: stream.length)))
            esiGzip = nil
        }
        if esiLevel == 0 && esiChunked { write(ByteBuffer(staticString: "0\r\n\r\n")) }
        return .done
    }

    /// An include failed and took the page down (`esi_include_onerror`): nothing more is
    /// sent, and the client's connection closes with the body unfinished.
    private func abortPage() -> RequestStep {
        esi = nil
        delivery = nil
        esiGzip = nil
        if esiLevel == 0 { keepAlive = false }
        return .done
    }

    /// A child include is done: the page goes on (unless it is still starting it).
    func esiChildFinished() {
        if esiChild?.esiAborted == true { esiAborted = true }
        esiChild = nil
        guard !startingInclude else { return }
        run(.esi)
    }

    private func startInclude(_ src: String, continueOnError: Bool, top: VCLTopRequest) {
        var headers = request.headers
        var uri = src
        if src.hasPrefix("http://") || src.hasPrefix("https://") {
            // Another host: its Host header, its path.
            let rest = src.drop { $0 != "/" }.dropFirst(2)
            let host = rest.prefix { $0 != "/" }
            uri = String(rest.dropFirst(host.count))
            if uri.isEmpty { uri = "/" }
            headers.set("Host", String(host))
        } else if !src.hasPrefix("/") {
            // Relative to the including page's path.
            let path = request.uri.prefix { $0 != "?" }
            let directory = path.lastIndex(of: "/").map { path[...$0] } ?? "/"
            uri = directory + src
        }
        headers.remove("Range")
        headers.remove("If-None-Match")
        headers.remove("If-Modified-Since")
        // Includes are asked for in the page's coding (and delivered in it: see ESIGzipDelivery).
        if esiGzip != nil { headers.set("Accept-Encoding", "gzip") } else { headers.remove("Accept-Encoding") }
        var head = RequestHead(
            method: "GET", uri: uri, minorVersion: request.minorVersion, headers: headers, body: .none,
            expectsContinue: false, keepAlive: true)
        head.connectionNamed = request.connectionNamed  // the page's received lines stay marked
        let child = RequestStateMachine(owner: esiAdapter, server: server, channel: channel, parameters: parameters)
        child.esiLevel = esiLevel + 1
        child.esiChunked = esiChunked
        child.esiGzip = esiGzip
        child.esiContinueOnError = continueOnError
        child.esiTop = top
        child.sessionXID = sessionXID
        let childXID = makeXID()
        child.logParent = (xid, "esi")
        logLink("req", xid: childXID, reason: "esi")
        esiChild = child
        counters.increment(.esiRequests)
        startingInclude = true
        child.start(head, body: nil, xid: childXID, parameters: parameters)
        startingInclude = false
    }

    /// Writes body bytes `range` of the page (slices of its stored buffers), framed as the page is.
    private func writeESIBytes(_ range: Range<Int>, of progress: ESIProgress) {
        for part in slices(range, of: progress) { writeESIPart(part) }
    }

    /// Body bytes `range` of the page: slices of its stored buffers (a copy when inline).
    private func slices(_ range: Range<Int>, of progress: ESIProgress) -> [ByteBuffer] {
        if !progress.inline.isEmpty {
            let start = progress.inline.startIndex
            return [ByteBuffer(bytes: progress.inline[(start + range.lowerBound)..<(start + range.upperBound)])]
        }
        var parts: [ByteBuffer] = []
        var offset = 0
        for chunk in progress.chunks {
            let end = offset + chunk.readableBytes
            let low = max(offset, range.lowerBound)
            let high = min(end, range.upperBound)
            if low < high, let slice = chunk.getSlice(at: chunk.readerIndex + (low - offset), length: high - low) {
                parts.append(slice)
            }
            offset = end
            if offset >= range.upperBound { break }
        }
        return parts
    }

    /// One piece of an ESI page's body, chunk-framed when the page is chunked.
    func writeESIPart(_ part: ByteBuffer) {
        writeBodyPart(part, chunked: esiChunked)
    }

    /// This request as its includes' `req_top.*` (made once per page, at its first include).
    private func topRequest() -> VCLTopRequest {
        var top = VCLClientRequest()
        top.method = request.method
        top.url = request.uri
        top.proto = request.proto
        top.headers = request.headers
        return VCLTopRequest(request: top, time: vclSession?.context.now ?? HTTPDate.currentTime())
    }
}
