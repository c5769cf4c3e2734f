import NIOCore
import ShellacCache
import VCL

/// One object's way to the client: the cursor into its body and how it is framed.
struct Delivery {
    var object: CachedObject
    var isHit: Bool
    /// This client's own fetch (a miss or a pass): it may read the object while private.
    var isOwner: Bool
    var cursor = 0
    var headersSent = false
    var chunked = false
    /// Parked until the client's connection is writable again.
    var waitsForClient = false
    /// A 206 sends body bytes `rangeLow..<rangeEnd` only; `bodyOffset` counts the body
    /// bytes passed so far.
    var isRanged = false
    var rangeLow = 0
    var rangeEnd = 0
    var bodyOffset = 0
    /// A gzip object going to a client that does not accept gzip: the inflater.
    var gunzip: Gunzipper?
    /// A plain include in a gzip ESI page: its bytes go in stored blocks.
    var wrapsInStoredBlocks = false
    /// An ESI page whose `vcl_deliver` turned ESI off (`resp.do_esi`, `resp.filters`).
    var esiTurnedOff = false
    /// An include whose `vcl_deliver` has run already (it turned ESI off for its page).
    var includeHeadDone = false
    /// A waiter on someone else's fetch slept before its response head came (`busy_wakeup`).
    var sleptOnBusy = false
    /// `send_timeout`: past this time (set when the head is written) no more is sent.
    var sendDeadline = Double.infinity
    /// `writeHead` answered with a 304 (decided after vcl_deliver): nothing more is sent.
    var answeredNotModified = false
    /// A waiter on a busy object: when the head comes it goes through `vcl_hit` first.
    var awaitsHit = false
}

/// deliver and transmit: `vcl_deliver`, then the object's bytes as they arrive and as fast
/// as the client takes them (framing, 304, HEAD, streaming wake-ups, flow control).
extension RequestStateMachine {
    /// Fields a 304 repeats from the stored response (RFC 9110 §15.4.5).
    private static let keptOn304 = ["Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Last-Modified", "Vary"]

    func deliver(_ object: CachedObject, isHit: Bool, isOwner: Bool) -> RequestStep {
        delivery = Delivery(object: object, isHit: isHit, isOwner: isOwner)
        deliveryGeneration += 1
        return .transmit
    }

    /// The client's connection became writable: a delivery parked on it goes on.
    func clientBecameWritable() {
        if let esiChild { return esiChild.clientBecameWritable() }
        guard delivery?.waitsForClient == true else { return }
        delivery?.waitsForClient = false
        run(.transmit)
    }

    /// An include that failed is left out of the page (Varnish has no way to say so in it);
    /// with esi_include_onerror the page stops there, unless the include said
    /// onerror="continue".
    private func includeFailed() -> RequestStep {
        delivery = nil
        if parameters.esiIncludeOnError && !esiContinueOnError { esiAborted = true }
        return .done
    }

    /// Sends what the object has past the cursor, while the client can take it. Parks on the
    /// object (a wake-up when it changes) or on the client (its writability).
    func transmit() -> RequestStep {
        guard var current = delivery else { return .done }
        while true {
            // Most reads find data (every hit does): only a read that finds nothing new pays for
            // a wake-up closure, and it repeats the read with it so no change is missed.
            var read = current.object.read(
                from: current.cursor, headersSeen: current.headersSent, isOwner: current.isOwner, listener: nil)
            if case .waiting = read {
                read = current.object.read(
                    from: current.cursor, headersSeen: current.headersSent, isOwner: current.isOwner,
                    listener: makeWakeUp())
            }
            switch read {
            case .waiting:
                if !current.isOwner && !current.headersSent { current.sleptOnBusy = true }
                delivery = current
                return .waiting
            case .failed:
                delivery = nil
                if esiLevel > 0 { return includeFailed() }
                if current.headersSent {
                    keepAlive = false
                    return .done
                }
                // As in Varnish, a failed fetch (VCL abandoned it, or vcl_backend_error gave
                // up) is a 503 made by vcl_synth on the client side.
                return .synth(status: 503, reason: current.object.failureReason ?? "Service Unavailable")
            case .abandoned:
                // The object we waited on turned out private: look up again (which now finds
                // the hit-for-miss mark and fetches for us alone).
                return lookUpAgain()
            case .progress(let metadata, let chunks, let phase):
                if current.sleptOnBusy {
                    current.sleptOnBusy = false
                    counters.increment(.cacheBusyWakeups)
                }
                if current.headersSent, HTTPDate.currentTime() > current.sendDeadline {
                    // send_timeout: the response has been going out too long (Varnish checks it
                    // before each write). The connection closes on a cut response.
                    return closeDelivery()
                }
                if esiLevel > 0, !current.headersSent, parameters.esiIncludeOnError,
                    metadata.status != 200, metadata.status != 204
                {
                    // With esi_include_onerror an include that is not a 200 or 204 (such as
                    // vcl_backend_error's page) is a failed include, as in Varnish.
                    return includeFailed()
                }
                if !current.headersSent {
                    // (Unless VCL said req.hash_ignore_vary: any variant will do, as the lookup said.)
                    if !current.isOwner && !metadata.variant.isEmpty && !metadata.variant.matches(request.headers)
                        && vclSession?.context.req.hashIgnoreVary != true
                    {
                        return lookUpAgain()
                    }
                    if current.awaitsHit {
                        // The busy object this request waited on has its head: it is a hit now,
                        // as Varnish's rushed waiter finds it (obj.hits counts it, vcl_hit runs).
                        delivery = nil
                        counters.increment(.cacheHits)
                        current.object.hits.add(1, ordering: .relaxed)
                        hitIsStale = false
                        return .hit(current.object, refresh: nil)
                    }
                    if current.isOwner && !current.isHit && request.method != "GET" && request.method != "HEAD" {
                        invalidateAfterUnsafeRequest(
                            status: metadata.status, headers: metadata.headers, response: current.object)
                    }
                    if metadata.headerSlots > parameters.httpMaxHeaders {
                        let limit = parameters.httpMaxHeaders
                        // More header lines than http_max_hdr lets a response have: varnishd
                        // cannot make resp from the object, and answers with vcl_synth's 500.
                        logAsRequest()
                        vsl.record(.error, "Too many headers to Decode object (\(metadata.headerSlots) vs. \(limit))")
                        delivery = nil
                        return .synth(status: 500, reason: nil)
                    }
                    // Any 200 may become a 304 for a client whose condition it meets: a
                    // hit, a miss (it fetched unconditionally) or a pass, as in Varnish.
                    // (With a vcl_deliver of the user's, the 304 is decided after it: writeHead.)
                    if esiLevel == 0, metadata.status == 200, request.isConditional, vclSession?.defines(.deliver) != true,
                        ConditionalRequest.isNotModified(
                            method: request.method, request: request.headers, status: metadata.status,
                            response: metadata.headers, storedAt: current.object.lifetime.entered,
                            strong: request.headers.contains("Range"))
                    {
                        delivery = nil
                        writeNotModified(metadata.headers, object: current.object)
                        return .done
                    }
                    head: do {
                        if phase == .complete, let document = esiDocument(of: current.object, metadata: metadata) {
                            // An ESI page: its head (with no length), then its segments.
                            if esiLevel == 0 {
                                let action = writeHead(metadata, phase: phase, chunks: chunks, delivery: &current, esi: true)
                                guard action == .deliver else {
                                    delivery = nil
                                    return otherwise(action)
                                }
                                if current.answeredNotModified {
                                    delivery = nil
                                    return .done
                                }
                                if current.esiTurnedOff {
                                    // vcl_deliver said resp.do_esi = false: the body goes as stored.
                                    current.headersSent = true
                                    break head
                                }
                                esiChunked = current.chunked
                                startESIStream(metadata)
                            } else {
                                let action = runDeliverForInclude(
                                    metadata, object: current.object, isHit: current.isHit, esi: true)
                                guard action == .deliver else {
                                    delivery = nil
                                    return otherwise(action)
                                }
                                // vcl_deliver may have turned ESI off: the include goes in as stored.
                                current.includeHeadDone = includeTurnedESIOff()
                            }
                            if !current.includeHeadDone {
                                esi = ESIProgress(document: document, inline: metadata.inlineBody, chunks: Array(chunks))
                                delivery = nil
                                return .esi
                            }
                        }
                        if esiLevel > 0, let stream = esiGzip, metadata.isGzip {
                            // A gzip include in a gzip page: spliced in whole, once complete.
                            guard phase == .complete else {
                                if current.object.notifyWhenSettled(makeWakeUp()) {
                                    delivery = current
                                    return .waiting
                                }
                                continue
                            }
                            let action = runDeliverForInclude(metadata, object: current.object, isHit: current.isHit)
                            delivery = nil
                            guard action == .deliver else { return otherwise(action) }
                            writeGzipInclude(metadata, chunks: chunks, object: current.object, into: stream)
                            return .done
                        }
                        if esiLevel > 0 {
                            // An include: vcl_deliver runs, but only its body goes into the page.
                            let action = current.includeHeadDone
                                ? VCLAction.deliver : runDeliverForInclude(metadata, object: current.object, isHit: current.isHit)
                            guard action == .deliver else {
                                delivery = nil
                                return otherwise(action)
                            }
                            current.headersSent = true
                            current.chunked = esiChunked
                            if deliversGunzipped(metadata) {
                                countGunzip()
                                guard startGunzip(&current) else { return closeDelivery() }
                            }
                            current.wrapsInStoredBlocks = esiGzip != nil
                            if metadata.hasInlineBody {
                                let inline = ByteBuffer(bytes: metadata.inlineBody)
                                if let stream = esiGzip {
                                    writeStoredBlocks(inline, into: stream)
                                } else if current.gunzip != nil {
                                    guard writeGunzipped([inline], delivery: &current) != nil else { return closeDelivery() }
                                } else {
                                    writeESIPart(inline)
                                }
                            }
                            delivery = current
                            continue
                        }
                        let action = writeHead(metadata, phase: phase, chunks: chunks, delivery: &current)
                        guard action == .deliver else {
                            // vcl_deliver restarted, or answered with a synth: this object is not sent.
                            delivery = nil
                            return otherwise(action)
                        }
                        if current.answeredNotModified {
                            delivery = nil
                            return .done
                        }
                        current.headersSent = true
                    }
                }
                let sendsBody = request.method != "HEAD" && ResponseStatus.hasBody(metadata.status)
                let sent: Int
                if sendsBody, current.wrapsInStoredBlocks, let stream = esiGzip {
                    for chunk in chunks { writeStoredBlocks(chunk, into: stream) }
                    sent = chunks.count
                } else if sendsBody, current.gunzip != nil {
                    guard let inflated = writeGunzipped(chunks, delivery: &current) else { return closeDelivery() }
                    sent = inflated
                    if current.isRanged && current.bodyOffset >= current.rangeEnd {
                        delivery = nil
                        return .done
                    }
                } else if current.isRanged {
                    sent = writeRange(chunks, of: &current)
                    if current.bodyOffset >= current.rangeEnd {
                        // The range is sent: the rest of the object (maybe still arriving) is not needed.
                        delivery = nil
                        return .done
                    }
                } else {
                    sent = sendsBody ? writeBody(chunks, chunked: current.chunked) : chunks.count
                }
                current.cursor += sent
                if current.isOwner && !current.isHit {
                    current.object.discardRead(upTo: current.cursor, window: ObjectFetcher.privateWindow)
                }
                if sent < chunks.count {
                    // The client takes no more for now: wait until it has drained.
                    current.waitsForClient = true
                    delivery = current
                    channel.flush()
                    return .waiting
                }
                if phase == .complete {
                    if current.chunked && sendsBody && esiLevel == 0 { write(ByteBuffer(staticString: "0\r\n\r\n")) }
                    delivery = nil
                    return .done
                }
                channel.flush()
            }
        }
    }

    /// The body cannot go on (a stored gzip body that does not inflate): the connection
    /// closes, so the client sees a cut response rather than a wrong one.
    private func closeDelivery() -> RequestStep {
        delivery = nil
        keepAlive = false
        return .done
    }

    /// Writes chunks while the client's connection stays writable; returns how many went.
    private func writeBody(_ chunks: ArraySlice<ByteBuffer>, chunked: Bool) -> Int {
        var sent = 0
        for chunk in chunks {
            writeBodyPart(chunk, chunked: chunked)
            sent += 1
            if !channel.channel.isWritable { break }
        }
        return sent
    }

    /// One piece of a response body, as a chunk of its own when the body is chunked.
    func writeBodyPart(_ part: ByteBuffer, chunked: Bool) {
        guard part.readableBytes > 0 else { return }
        countBodyBytes(part.readableBytes)
        guard chunked else { return write(part) }
        var size = channel.channel.allocator.buffer(capacity: 10)
        size.writeChunkSize(part.readableBytes)
        write(size)
        write(part)
        write(ByteBuffer(staticString: "\r\n"))
    }

    /// Writes the part of `chunks` inside the delivery's range (slices of the shared buffers,
    /// no copies), while the client takes it; returns how many chunks went.
    private func writeRange(_ chunks: ArraySlice<ByteBuffer>, of delivery: inout Delivery) -> Int {
        var sent = 0
        for chunk in chunks {
            writeWindowed(chunk, delivery: &delivery)
            sent += 1
            if !channel.channel.isWritable || delivery.bodyOffset >= delivery.rangeEnd { break }
        }
        return sent
    }

    /// The object found was not for this request after all: look up again, or pass after
    /// three tries.
    private func lookUpAgain() -> RequestStep {
        delivery = nil
        relookups += 1
        return relookups > 3 ? .pass : .hash
    }

    /// A one-shot callback that resumes this delivery on this connection's loop, unless the
    /// connection has moved on to another response since.
    private func makeWakeUp() -> @Sendable () -> Void {
        let generation = deliveryGeneration
        let loopBound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        let eventLoop = channel.eventLoop
        return {
            eventLoop.execute {
                let machine = loopBound.value
                if machine.deliveryGeneration == generation, machine.delivery != nil { machine.run(.transmit) }
            }
        }
    }

    /// Writes the response head: `vcl_deliver`'s status line and fields, then the framing
    /// (the delivery learns whether the body goes chunked, and its range for a 206). Writes
    /// nothing, and returns what `vcl_deliver` said, unless that is `.deliver`.
    /// `vcl_deliver` for an include: it runs (and may restart or answer with a synth), but
    /// what it makes of the head goes nowhere.
    private func runDeliverForInclude(
        _ metadata: ObjectMetadata, object: CachedObject, isHit: Bool, esi: Bool = false
    ) -> VCLAction {
        var scratch = channel.channel.allocator.buffer(capacity: 0)
        if let session = vclSession {
            session.context.resp.doESI = esi
            session.context.resp.gunzipFilter = false
            session.context.resp.rangeFilter = false
            session.context.resp.explicitFilters = nil
        }
        let action = policy.writeDeliveryHead(
            object, metadata: metadata, xid: xid, isHit: isHit, now: HTTPDate.currentTime(), into: &scratch)
        logResponseHead(scratch, from: 0, storedHTTP10: metadata.fromHTTP10)
        logCall("DELIVER", action)
        return action
    }

    /// Whether the include's `vcl_deliver` just turned its ESI off (`resp.do_esi = false`, or
    /// a `resp.filters` without esi). Not `req.esi`: ESI cannot be turned off midstream that
    /// way, in Varnish (e00016) as here.
    private func includeTurnedESIOff() -> Bool {
        guard let session = vclSession else { return false }
        return !session.context.resp.effectiveFilters.esi
    }

    private func writeHead(
        _ metadata: ObjectMetadata, phase: ObjectPhase, chunks: ArraySlice<ByteBuffer>, delivery: inout Delivery,
        esi wantsESI: Bool = false
    ) -> VCLAction {
        let now = HTTPDate.currentTime()
        let object = delivery.object
        var sendsInlineBody = metadata.hasInlineBody && request.method != "HEAD" && ResponseStatus.hasBody(metadata.status)
        var out = channel.channel.allocator.buffer(
            capacity: (sendsInlineBody ? metadata.storedBytes.count : metadata.headerLength) + 160)
        // Varnish offers ranges on every shared 200 (a hit's object is never private).
        let acceptsRanges = parameters.httpRangeSupport && metadata.status == 200 && (delivery.isHit || !object.isPrivate)
        var inflates = ResponseStatus.hasBody(metadata.status) && deliversGunzipped(metadata)
        var ranges = parameters.httpRangeSupport
        var esi = wantsESI
        if let session = vclSession {
            let asksRange = request.headers.contains("Range")
            // What vcl_deliver sees as resp.do_esi and resp.filters, and may turn off.
            session.context.resp.doESI = wantsESI
            session.context.resp.gunzipFilter = inflates
            session.context.resp.rangeFilter = ranges && metadata.status == 200 && asksRange
            session.context.resp.explicitFilters = nil
            let action = policy.writeDeliveryHead(
                object, metadata: metadata, xid: xid, isHit: delivery.isHit || passedFromHit, now: now, into: &out)
            logResponseHead(out, from: 0, storedHTTP10: metadata.fromHTTP10)
            logCall("DELIVER", action)
            guard action == .deliver else { return action }
            if session.deliverClosesConnection { keepAlive = false }
            // Any 200 may become a 304 for a client whose condition it meets, decided on resp
            // as vcl_deliver left it (Varnish's cnt_transmit: a Last-Modified VCL changed counts).
            if esiLevel == 0, session.context.resp.status == 200, request.isConditional,
                ConditionalRequest.isNotModified(
                    method: request.method, request: request.headers, status: 200, response: session.context.resp.headers,
                    storedAt: object.lifetime.entered, strong: request.headers.contains("Range"))
            {
                writeNotModified(session.context.resp.headers, object: object)
                delivery.answeredNotModified = true
                return .deliver
            }
            let filters = session.context.resp.effectiveFilters
            esi = esi && filters.esi && session.context.req.esi
            inflates = inflates && filters.gunzip
            ranges = ranges && (filters.range || !asksRange)
            delivery.esiTurnedOff = wantsESI && !esi
        } else {
            let action = policy.writeDeliveryHead(
                object, metadata: metadata, xid: xid, isHit: delivery.isHit || passedFromHit, now: now, into: &out)
            logResponseHead(out, from: 0, storedHTTP10: metadata.fromHTTP10)
            logCall("DELIVER", action)
            guard action == .deliver else { return action }
        }
        if inflates || esi { out = Self.rewrittenHead(out, droppingContentEncoding: inflates) }
        if inflates { logResponseUnset("Content-Encoding", value: metadata.headers["Content-Encoding"] ?? "gzip") }
        if inflates { countGunzip() }
        // (An ESI page inflates run by run: see esiStep.)
        let gunzips = inflates && !esi
        if gunzips {
            if request.method != "HEAD" && !startGunzip(&delivery) { keepAlive = false }
            sendsInlineBody = false
        }
        logTimestamp("Process", at: now)
        delivery.sendDeadline = now + parameters.sendTimeout
        logFilters(esi: esi, gunzip: inflates, range: ranges && request.headers.contains("Range"))
        // The fields added after vcl_deliver are logged from here (see the end).
        var tailStart = out.writerIndex
        if acceptsRanges { out.writeStaticString("Accept-Ranges: bytes\r\n") }
        delivery.chunked = false
        var inlineBody = metadata.inlineBody
        if esi { sendsInlineBody = false }
        if ResponseStatus.hasBody(metadata.status) {
            var length: Int?
            if esi {
                // An ESI page's length is known only once its includes are in.
            } else if gunzips {
                length = phase == .complete ? object.gzipBits?.plainLength : nil
            } else if metadata.hasInlineBody {
                length = metadata.inlineBody.count
            } else if request.method == "HEAD", let declared = metadata.declaredLength {
                length = declared  // a passed HEAD's object has no body to count
            } else if phase == .complete {
                length = chunks.reduce(0) { $0 + $1.readableBytes }
            } else if let declared = metadata.declaredLength {
                length = declared
            }
            if let total = length, request.method == "GET", ranges,
               let range = request.headers["Range"], Self.status(of: out) == 200 {
                switch rangeOutcome(range, total: total, metadata: metadata) {
                case .full:
                    break
                case .partial(let low, let high):
                    let before = out.readableBytes
                    out = Self.replacingStatusLine(of: out, with: "HTTP/1.1 206 Partial Content\r\n")
                    tailStart += out.readableBytes - before
                    logAsRequest()
                    vsl.record(.respStatus, "206")
                    vsl.record(.respReason, "Partial Content")
                    out.writeString("Content-Range: bytes \(low)-\(high)/\(total)\r\n")
                    length = high - low + 1
                    delivery.isRanged = true
                    delivery.rangeLow = low
                    delivery.rangeEnd = high + 1
                    inlineBody = inlineBody.dropFirst(low).prefix(high - low + 1)
                case .unsatisfiable:
                    let before = out.readableBytes
                    out = Self.replacingStatusLine(of: out, with: "HTTP/1.1 416 Range Not Satisfiable\r\n")
                    tailStart += out.readableBytes - before
                    logAsRequest()
                    vsl.record(.respStatus, "416")
                    vsl.record(.respReason, "Range Not Satisfiable")
                    out.writeString("Content-Range: bytes */\(total)\r\n")
                    length = 0
                    delivery.isRanged = true
                    delivery.rangeLow = 0
                    delivery.rangeEnd = 0
                    sendsInlineBody = false
                }
            }
            if let length {
                out.writeStaticString("Content-Length: ")
                out.writeDecimal(length)
                out.writeStaticString("\r\n")
            } else if request.method == "HEAD" {
                // Length unknown yet: say nothing rather than guess.
            } else if request.minorVersion == 1 {
                out.writeStaticString("Transfer-Encoding: chunked\r\n")
                delivery.chunked = true
            } else {
                keepAlive = false  // HTTP/1.0 without a length: the close ends the body
            }
        }
        writeConnectionHeader(&out)
        logResponseHead(out, from: tailStart)
        out.writeStaticString("\r\n")
        countHeadBytes(out.readableBytes)
        if sendsInlineBody {
            out.writeBytes(inlineBody)  // small objects: one write
            countBodyBytes(inlineBody.count)
        }
        write(out)
        if gunzips, metadata.hasInlineBody, request.method != "HEAD", delivery.gunzip != nil {
            if writeGunzipped([ByteBuffer(bytes: metadata.inlineBody)], delivery: &delivery) == nil { keepAlive = false }
        }
        return .deliver
    }

    /// What a `Range` asks of a stored 200 of `total` bytes, `If-Range` included.
    private func rangeOutcome(_ range: String, total: Int, metadata: ObjectMetadata) -> ByteRange.Outcome {
        if let ifRange = request.headers["If-Range"] {
            let stored = metadata.headers
            guard ByteRange.ifRangeHolds(
                ifRange, etag: stored["ETag"], lastModified: stored["Last-Modified"], date: stored["Date"])
            else { return .full }
        }
        return ByteRange.evaluate(Substring(range), length: total)
    }

    /// The status code of the status line at the start of `head` (0 if it has none).
    private static func status(of head: ByteBuffer) -> Int {
        guard let line = head.getBytes(at: head.readerIndex, length: min(12, head.readableBytes)), line.count == 12
        else { return 0 }
        return line[9..<12].reduce(0) { $0 * 10 + Int($1) - 48 }
    }

    /// `head` with its first line replaced by `line` (for a 206 or a 416).
    private static func replacingStatusLine(of head: ByteBuffer, with line: String) -> ByteBuffer {
        let view = head.readableBytesView
        guard let lineEnd = view.firstIndex(of: UInt8(ascii: "\n")) else { return head }
        var result = ByteBuffer()
        result.reserveCapacity(head.readableBytes + 32)
        result.writeString(line)
        result.writeBytes(view[view.index(after: lineEnd)...])
        return result
    }

    private func writeNotModified(_ fields: HeaderList, object: CachedObject) {
        var out = channel.channel.allocator.buffer(capacity: 256)
        out.writeStaticString("HTTP/1.1 304 Not Modified\r\n")
        for field in fields where Self.keptOn304.contains(where: { field.name.equalsIgnoringASCIICase($0) }) {
            out.writeString(field.name)
            out.writeStaticString(": ")
            out.writeString(field.value)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("Age: ")
        out.writeDecimal(object.lifetime.age(at: HTTPDate.currentTime()))
        out.writeStaticString("\r\nX-Varnish: ")
        out.writeDecimal(xid)
        out.writeStaticString(" ")
        out.writeDecimal(object.xid)
        out.writeStaticString("\r\nVia: 1.1 shellac\r\n")
        writeConnectionHeader(&out)
        logResponseHead(out, from: 0)
        out.writeStaticString("\r\n")
        countHeadBytes(out.readableBytes)
        write(out)
    }
}
