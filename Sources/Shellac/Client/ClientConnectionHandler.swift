import NIOCore
import NIOHTTP1
import NIOPosix
import ShellacCache
import VCL

/// One client connection: reads requests (pipelined or not), runs each through the request
/// states of Varnish's `cache_req_fsm.c` — recv, hash, lookup, then hit, miss, pass, pipe or
/// synth — and delivers responses in order. Lives on one event loop; everything here happens
/// on it, and wake-ups from fetches on other loops are hopped back onto it.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHead
        case readingBody(RequestHead, body: ByteBuffer, decoder: ChunkedDecoder?)
        case responding
        case piping(Channel?)
        case closed
    }

    /// The response being written from a cached (or streaming, or private) object.
    private struct Delivery {
        var object: CachedObject
        var isHit: Bool
        var isOwner: Bool
        var cursor = 0
        var headersSent = false
        var chunked = false
    }

    private let server: ServerContext
    private var parser: RequestParser
    /// This connection's copy of the server's parameters, refreshed before each request head
    /// when `param.set` has changed them.
    private var parameters: Parameters
    private var parametersVersion: Int
    private var context: ChannelHandlerContext?
    private var input: ByteBuffer?
    private var state = State.awaitingHead
    private var timer: Scheduled<Void>?
    private var timerFiresAt = NIODeadline.distantFuture
    private var deadline: NIODeadline?
    private var requestTimerArmed = false
    private var draining = false
    private var inputClosed = false
    private var processingInput = false

    // The request being answered.
    private var request: RequestHead?
    private var requestBody: ByteBuffer?
    private var xid: UInt64 = 0
    private var keepAlive = true
    private var delivery: Delivery?
    private var deliveryGeneration = 0
    private var relookups = 0
    /// The VCL of this request when the active VCL has user code (nil: the Swift built-in),
    /// borrowed from `vclSessions` until the response is done.
    private var vclSession: VCLSession?
    /// This loop's idle VCL sessions, set when the handler is added.
    private var vclSessions: VCLSessionPool?
    /// The connection's addresses as VCL sees them, converted on its first VCL request.
    private var vclAddresses: (client: VCLIP?, local: VCLIP?)?

    init(server: ServerContext) {
        self.server = server
        self.parametersVersion = server.live.version
        self.parameters = server.live.current
        self.parser = RequestParser(maxHeadSize: parameters.httpRequestSize)
    }

    private func refreshParameters() {
        let version = server.live.version
        guard version != parametersVersion else { return }
        parametersVersion = version
        parameters = server.live.current
        parser = RequestParser(maxHeadSize: parameters.httpRequestSize)
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        vclSessions = server.vclSessions.value(on: context.eventLoop)
    }

    func channelActive(context: ChannelHandlerContext) {
        server.statistics.sessions.add(1, ordering: .relaxed)
        server.connections.add(context.channel)
        armIdleTimer()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.connections.remove(context.channel)
        if case .piping(let backend) = state { backend?.close(promise: nil) }
        state = .closed
        cancelTimer()
        timer?.cancel()
        timer = nil
        delivery = nil
        deliveryGeneration += 1
        releaseVCLSession()
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if case .piping(let backend) = state {
            if let backend { backend.writeAndFlush(bytes, promise: nil) } else { input.setOrWriteBuffer(&bytes) }
            return
        }
        if case .closed = state { return }
        input.setOrWriteBuffer(&bytes)
        if let input, input.readableBytes > parameters.httpRequestSize + parameters.httpRequestBodyMax {
            close()  // a client pipelining far more than it reads
            return
        }
        processInput()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        close()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ShutdownRequest {
            draining = true
            if case .awaitingHead = state, (input?.readableBytes ?? 0) == 0 { close() }
        } else if case ChannelEvent.inputClosed = event {
            // The client sent all it will (`printf ... | nc`): answer what it asked, then close.
            inputClosed = true
            switch state {
            case .awaitingHead:
                processInput()
                if case .awaitingHead = state { close() }
            case .readingBody: close()
            case .piping(let backend): backend?.close(mode: .output, promise: nil)
            case .responding, .closed: break
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Sent to every connection when the server stops gracefully.
    struct ShutdownRequest {}

    // MARK: - Reading requests

    /// Parses and answers every complete request in the input, in order. Re-entered (without
    /// recursion) when an asynchronous response finishes.
    private func processInput() {
        guard !processingInput else { return }
        processingInput = true
        defer { processingInput = false }
        while true {
            switch state {
            case .awaitingHead:
                guard var buffer = input, buffer.readableBytes > 0 else { return }
                refreshParameters()
                switch parser.parse(buffer) {
                case .incomplete:
                    armRequestTimer()
                    return
                case .failure(let status, let reason):
                    server.statistics.badRequests.add(1, ordering: .relaxed)
                    input = nil
                    xid = server.makeXID()
                    keepAlive = false
                    state = .responding
                    writeSynthetic(status: status, reason: reason, isHEAD: false)
                    return
                case .head(let head, let consumed):
                    buffer.moveReaderIndex(forwardBy: consumed)
                    input = buffer
                    cancelTimer()
                    begin(head)
                }
            case .readingBody(let head, var body, var decoder):
                guard var buffer = input else { return }
                let complete: Bool
                if var chunked = decoder {
                    switch chunked.decode(&buffer, into: &body) {
                    case .needMore: complete = false
                    case .done: complete = true
                    case .failure:
                        fail(status: 400, reason: "Bad Request")
                        return
                    }
                    decoder = chunked
                } else {
                    guard case .length(let length) = head.body else { return }
                    let take = min(length - body.readableBytes, buffer.readableBytes)
                    if var slice = buffer.readSlice(length: take) { body.writeBuffer(&slice) }
                    complete = body.readableBytes == length
                }
                input = buffer
                if body.readableBytes > parameters.httpRequestBodyMax {
                    fail(status: 413, reason: "Content Too Large")
                    return
                }
                if complete {
                    requestBody = body
                    state = .responding
                    receive(head)
                } else {
                    state = .readingBody(head, body: body, decoder: decoder)
                    armIdleTimer()
                    return
                }
            case .responding, .piping, .closed:
                return
            }
        }
    }

    private func begin(_ head: RequestHead) {
        releaseVCLSession()  // normally done when the last response finished
        xid = server.makeXID()
        keepAlive = head.keepAlive
        requestBody = nil
        switch head.body {
        case .none:
            state = .responding
            receive(head)
        case .length(let length) where length > parameters.httpRequestBodyMax:
            fail(status: 413, reason: "Content Too Large")
        case .length, .chunked:
            if head.expectsContinue, (input?.readableBytes ?? 0) == 0 {
                var interim = context?.channel.allocator.buffer(capacity: 25) ?? ByteBuffer()
                interim.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
                context?.writeAndFlush(wrapOutboundOut(interim), promise: nil)
            }
            let allocator = context?.channel.allocator ?? ByteBufferAllocator()
            state = .readingBody(
                head, body: allocator.buffer(capacity: 0), decoder: head.body == .chunked ? ChunkedDecoder() : nil)
            armIdleTimer()
        }
    }

    // MARK: - vcl_recv, vcl_hash, lookup (the built-in policy, until VCL drives this)

    private static let knownMethods: Set<String> = [
        "GET", "HEAD", "PUT", "POST", "TRACE", "OPTIONS", "DELETE", "PATCH",
    ]

    private func receive(_ head: RequestHead) {
        server.statistics.clientRequests.add(1, ordering: .relaxed)
        request = head
        relookups = 0
        let loaded = server.vcl.current
        if loaded.program.hasUserCode {
            let session = vclSessions?.borrow(loaded) ?? VCLSession(loaded: loaded)
            vclSession = session
            let addresses = vclAddresses ?? (
                VCLSession.vclAddress(context?.channel.remoteAddress), VCLSession.vclAddress(context?.channel.localAddress))
            vclAddresses = addresses
            session.begin(head, xid: xid, client: addresses.client, local: addresses.local)
            vclReceive(head, session: session)
            return
        }
        if head.method == "PRI" {
            writeSynthetic(status: 405, reason: "Method Not Allowed", isHEAD: false)
        } else if !Self.knownMethods.contains(head.method) {
            pipe(head)
        } else if head.method != "GET" && head.method != "HEAD" {
            pass(head)
        } else if head.headers.contains("Authorization") || head.headers.contains("Cookie") {
            pass(head)
        } else {
            lookup(head)
        }
    }

    private func cacheKey(for head: RequestHead) -> CacheKey {
        var key = CacheKey()
        key.append(head.uri)
        if let host = head.headers["Host"] {
            key.append(host)
        } else {
            key.append(context?.channel.localAddress?.ipAddress ?? "")
        }
        return key
    }

    private func lookup(_ head: RequestHead) {
        lookup(head, key: vclSession.map { vclCacheKey(head, session: $0) } ?? cacheKey(for: head))
    }

    /// The key `vcl_hash` makes. Without a user `vcl_hash` only the built-in one runs, whose
    /// key (URL, then Host or else the server's address) `cacheKey(for:)` makes directly.
    private func vclCacheKey(_ head: RequestHead, session: VCLSession) -> CacheKey {
        guard session.defines(.hash) else { return cacheKey(for: head) }
        _ = session.run(.hash)
        return session.cacheKey()
    }

    private func lookup(_ head: RequestHead, key: CacheKey) {
        let now = HTTPDate.currentTime()
        let result = server.store.lookup(key: key, xid: xid, now: now) { metadata in
            metadata.variant.isEmpty || metadata.variant.matches(head.headers)
        }
        let statistics = server.statistics
        switch result {
        case .hit(let object):
            statistics.cacheHits.add(1, ordering: .relaxed)
            if let session = vclSession, session.defines(.hit), let metadata = object.metadata {
                session.setObject(object, metadata: metadata, now: now)
                switch session.run(.hit) {
                case .deliver: break
                case .miss, .fetch, .pass: return pass(head)
                case .synth(let status, let reason): return vclSynth(status: status, reason: reason)
                case .restart: return vclRestart(head)
                default: return writeSynthetic(status: 503, reason: "VCL failed", isHEAD: head.method == "HEAD")
                }
            }
            deliver(object, isHit: true, isOwner: false)
        case .graced(let object, let refresh):
            statistics.cacheGraceHits.add(1, ordering: .relaxed)
            statistics.cacheHits.add(1, ordering: .relaxed)
            if let refresh { fetch(into: refresh, mode: .store, head: head, background: true) }
            deliver(object, isHit: true, isOwner: false)
        case .busy(let object):
            statistics.cacheBusyWaits.add(1, ordering: .relaxed)
            deliver(object, isHit: true, isOwner: false)
        case .hitForPass:
            statistics.cacheHitForPass.add(1, ordering: .relaxed)
            pass(head)
        case .miss(let object, let hitForMiss):
            if hitForMiss {
                statistics.cacheHitForMiss.add(1, ordering: .relaxed)
            } else {
                statistics.cacheMisses.add(1, ordering: .relaxed)
            }
            if let session = vclSession, session.defines(.miss) {
                let action = session.run(.miss)
                if action != .fetch {
                    // Not fetching after all: let anyone waiting on this busy object go.
                    server.store.remove(object)
                    object.makePrivate()
                    object.fail()
                    switch action {
                    case .pass: return pass(head)
                    case .synth(let status, let reason): return vclSynth(status: status, reason: reason)
                    case .restart: return vclRestart(head)
                    default: return writeSynthetic(status: 503, reason: "VCL failed", isHEAD: head.method == "HEAD")
                    }
                }
            }
            fetch(into: object, mode: .store, head: head, background: false)
            deliver(object, isHit: false, isOwner: true)
        }
    }

    private func pass(_ head: RequestHead) {
        if let session = vclSession, session.defines(.pass) {
            switch session.run(.pass) {
            case .fetch: break
            case .synth(let status, let reason): return vclSynth(status: status, reason: reason)
            case .restart: return vclRestart(head)
            default: return writeSynthetic(status: 503, reason: "VCL failed", isHEAD: head.method == "HEAD")
            }
        }
        server.statistics.passes.add(1, ordering: .relaxed)
        let object = CachedObject(
            key: CacheKey(), xid: xid, lifetime: ObjectLifetime(entered: 0, ttl: 0, grace: 0, keep: 0))
        fetch(into: object, mode: .pass, head: head, background: false)
        deliver(object, isHit: false, isOwner: true)
    }

    // MARK: - VCL-driven request states

    /// `vcl_recv` and what it returns, as `cache_req_fsm.c` does.
    private func vclReceive(_ original: RequestHead, session: VCLSession) {
        let action = session.run(.recv)
        session.applyBans(to: server.store)
        let head = session.effectiveHead(original)
        request = head
        switch action {
        case .hash, .lookup:
            lookup(head)
        case .pass:
            pass(head)
        case .pipe:
            if session.defines(.pipe), case .synth(let status, let reason) = session.run(.pipe) {
                return vclSynth(status: status, reason: reason)
            }
            pipe(head)
        case .purge:
            server.store.purge(key: vclCacheKey(head, session: session))
            switch session.run(.purge) {
            case .synth(let status, let reason): vclSynth(status: status, reason: reason)
            case .restart: vclRestart(head)
            default: vclSynth(status: 200, reason: "Purged")
            }
        case .synth(let status, let reason):
            vclSynth(status: status, reason: reason)
        case .restart:
            vclRestart(head)
        default:
            writeSynthetic(status: 503, reason: "VCL failed", isHEAD: original.method == "HEAD")
        }
    }

    /// `return (restart)`: back to `vcl_recv` with the request as VCL left it. The program
    /// turns too many restarts into a 503 synth.
    private func vclRestart(_ head: RequestHead) {
        guard let session = vclSession else { return writeSynthetic(status: 503, reason: "Restart", isHEAD: false) }
        session.context.req.restarts += 1
        session.context.hashData = []
        vclReceive(head, session: session)
    }

    /// A synthetic response made by `vcl_synth` (status, headers and body are VCL's).
    private func vclSynth(status: Int, reason: String?) {
        guard let context, let session = vclSession else {
            return writeSynthetic(status: status, reason: reason ?? "", isHEAD: false)
        }
        server.statistics.synths.add(1, ordering: .relaxed)
        let vcl = session.context
        vcl.resp = VCLResponse()
        vcl.resp.status = status
        vcl.resp.reason = reason ?? HTTPReason.phrase(status)
        vcl.resp.headers.add("Date", HTTPDate.format(Int64(HTTPDate.currentTime())))
        vcl.resp.headers.add("Server", "Shellac")
        vcl.resp.headers.add("X-Varnish", String(xid))
        vcl.syntheticBody = ""
        switch session.run(.synth) {
        case .restart:
            if let head = request { return vclRestart(head) }
        default:
            break
        }
        var out = context.channel.allocator.buffer(capacity: 512 + vcl.syntheticBody.utf8.count)
        vcl.resp.headers.remove("Content-Length")
        vcl.resp.headers.remove("Connection")
        vcl.resp.headers.remove("Transfer-Encoding")
        VCLSession.serialize(vcl.resp, into: &out)
        out.writeStaticString("Content-Length: ")
        out.writeDecimal(vcl.syntheticBody.utf8.count)
        out.writeStaticString("\r\n")
        if let head = request { writeConnectionHeader(&out, head: head) } else {
            keepAlive = false
            out.writeStaticString("Connection: close\r\n")
        }
        out.writeStaticString("\r\n")
        if request?.method != "HEAD" { out.writeString(vcl.syntheticBody) }
        context.write(wrapOutboundOut(out), promise: nil)
        finishResponse()
    }

    // MARK: - Backend requests

    private func fetch(into object: CachedObject, mode: ObjectFetcher.Mode, head: RequestHead, background: Bool) {
        guard let context else { return }
        var headers = HopByHop.endToEnd(head.headers, alsoDropping: ["content-length", "expect"])
        let method: String
        if mode == .store {
            // A miss fetches the whole object for everyone: the client's conditions and ranges
            // apply to its own delivery, not to the fetch (Varnish does the same).
            method = "GET"
            for name in ["If-None-Match", "If-Modified-Since", "If-Range", "Range"] { headers.remove(name) }
            if let encoding = AcceptEncoding.normalized(headers["Accept-Encoding"]) {
                headers.set("Accept-Encoding", encoding)
            } else {
                headers.remove("Accept-Encoding")
            }
        } else {
            method = head.method
        }
        Self.appendForwardedFor(&headers, clientIP: context.channel.remoteAddress?.ipAddress)
        headers.set("X-Varnish", String(xid))
        headers.add("Via", "1.1 shellac")
        // Only a pass sends the client's body; a miss fetches the object without it.
        let body = mode == .pass ? requestBody : nil
        if let body, body.readableBytes > 0 {
            headers.add("Content-Length", String(body.readableBytes))
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            headers.add("Content-Length", "0")
        }
        var backendPolicy: VCLBackendPolicy?
        if let session = vclSession {
            // The backend side gets its own context: the fetch may outlive this request.
            let policy = VCLBackendPolicy(program: session.program, xid: xid, log: server.log)
            let backendSide = policy.context
            backendSide.bereq.method = method
            backendSide.bereq.url = head.uri
            backendSide.bereq.headers = headers
            backendSide.bereq.backend = session.context.req.backendHint
            backendSide.bereq.uncacheable = mode == .pass
            backendSide.bereq.xid = String(xid)
            backendSide.req.url = session.context.req.url  // a hash director's key
            backendSide.clientIP = session.context.clientIP
            backendSide.serverIP = session.context.serverIP
            backendPolicy = policy
        }
        BackendTransaction(
            object: object, mode: mode, server: server, xid: xid, clientHeaders: head.headers,
            pool: server.pools.value(on: context.eventLoop),
            request: BackendTransaction.Request(method: method, uri: head.uri, headers: headers, body: body),
            vcl: backendPolicy
        ).start()
    }

    /// `X-Forwarded-For`: every line the client sent, combined, then the client's address.
    private static func appendForwardedFor(_ headers: inout HeaderList, clientIP: String?) {
        let clientIP = clientIP ?? "0.0.0.0"
        let earlier = headers.values("X-Forwarded-For")
        headers.set("X-Forwarded-For", earlier.isEmpty ? clientIP : earlier.joined(separator: ", ") + ", " + clientIP)
    }

    // MARK: - Delivery

    private func deliver(_ object: CachedObject, isHit: Bool, isOwner: Bool) {
        delivery = Delivery(object: object, isHit: isHit, isOwner: isOwner)
        deliveryGeneration += 1
        continueDelivery()
    }

    private func continueDelivery() {
        guard let context, var current = delivery, let head = request else { return }
        while true {
            // Most reads find data (every hit does): only a read that finds nothing new pays for
            // a wake-up closure, and it repeats the read with it so no change is missed.
            var read = current.object.read(
                from: current.cursor, headersSeen: current.headersSent, isOwner: current.isOwner, listener: nil)
            if case .waiting = read {
                read = current.object.read(
                    from: current.cursor, headersSeen: current.headersSent, isOwner: current.isOwner,
                    listener: makeWakeUp(context: context))
            }
            switch read {
            case .waiting:
                delivery = current
                return
            case .failed:
                delivery = nil
                if current.headersSent {
                    keepAlive = false
                    finishResponse()
                } else if vclSession != nil {
                    // As in Varnish, a failed fetch (VCL abandoned it, or vcl_backend_error
                    // gave up) is a 503 made by vcl_synth on the client side.
                    vclSynth(status: 503, reason: "Backend fetch failed")
                } else {
                    writeSynthetic(status: 503, reason: "Backend fetch failed", isHEAD: head.method == "HEAD")
                }
                return
            case .abandoned:
                // The object we waited on turned out private: look up again (which now finds
                // the hit-for-miss mark and fetches for us alone).
                delivery = nil
                relookups += 1
                if relookups > 3 { pass(head) } else { lookup(head) }
                return
            case .progress(let metadata, let chunks, let phase):
                if !current.headersSent {
                    if !current.isOwner && !metadata.variant.isEmpty && !metadata.variant.matches(head.headers) {
                        delivery = nil
                        relookups += 1
                        if relookups > 3 { pass(head) } else { lookup(head) }
                        return
                    }
                    if current.isHit, phase == .complete, head.isConditional,
                        ConditionalRequest.isNotModified(
                            method: head.method, request: head.headers, status: metadata.status,
                            response: metadata.headers, storedAt: current.object.lifetime.entered)
                    {
                        delivery = nil
                        writeNotModified(metadata, object: current.object)
                        return
                    }
                    current.chunked = writeHead(metadata, object: current.object, isHit: current.isHit, phase: phase, chunks: chunks)
                    current.headersSent = true
                }
                let sendsBody = head.method != "HEAD" && Self.statusHasBody(metadata.status)
                if sendsBody {
                    for chunk in chunks where chunk.readableBytes > 0 {
                        if current.chunked {
                            var size = context.channel.allocator.buffer(capacity: 10)
                            size.writeChunkSize(chunk.readableBytes)
                            context.write(wrapOutboundOut(size), promise: nil)
                            context.write(wrapOutboundOut(chunk), promise: nil)
                            context.write(wrapOutboundOut(ByteBuffer(staticString: "\r\n")), promise: nil)
                        } else {
                            context.write(wrapOutboundOut(chunk), promise: nil)
                        }
                    }
                }
                current.cursor += chunks.count
                if phase == .complete {
                    if current.chunked && sendsBody {
                        context.write(wrapOutboundOut(ByteBuffer(staticString: "0\r\n\r\n")), promise: nil)
                    }
                    delivery = nil
                    finishResponse()
                    return
                }
                context.flush()
            }
        }
    }

    /// Fields a 304 repeats from the stored response (RFC 9110 §15.4.5).
    private static let keptOn304 = ["Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Last-Modified", "Vary"]

    /// A one-shot callback that resumes this delivery on this connection's loop, unless the
    /// connection has moved on to another response since.
    private func makeWakeUp(context: ChannelHandlerContext) -> @Sendable () -> Void {
        let generation = deliveryGeneration
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        return {
            eventLoop.execute {
                let handler = loopBound.value
                if handler.deliveryGeneration == generation { handler.continueDelivery() }
            }
        }
    }

    private static func statusHasBody(_ status: Int) -> Bool {
        !(status == 204 || status == 304 || (100..<200).contains(status))
    }

    /// Writes the stored header block plus this delivery's fields. Returns whether the body
    /// goes chunked.
    private func writeHead(
        _ metadata: ObjectMetadata, object: CachedObject, isHit: Bool, phase: ObjectPhase,
        chunks: ArraySlice<ByteBuffer>
    ) -> Bool {
        guard let context, let head = request else { return false }
        let sendsInlineBody = metadata.hasInlineBody && head.method != "HEAD" && Self.statusHasBody(metadata.status)
        var out = context.channel.allocator.buffer(
            capacity: (sendsInlineBody ? metadata.storedBytes.count : metadata.headerLength) + 160)
        let now = HTTPDate.currentTime()
        if let session = vclSession, session.defines(.deliver) {
            session.writeDelivery(object, metadata: metadata, xid: xid, isHit: isHit, now: now, into: &out)
        } else {
            out.writeBytes(metadata.headerBlock)
            out.writeStaticString("Age: ")
            out.writeDecimal(object.lifetime.age(at: now))
            out.writeStaticString("\r\nX-Varnish: ")
            out.writeDecimal(xid)
            if isHit {
                out.writeStaticString(" ")
                out.writeDecimal(object.xid)
            }
            out.writeStaticString("\r\nVia: 1.1 shellac\r\n")
        }
        var chunked = false
        if Self.statusHasBody(metadata.status) {
            var length: Int?
            if metadata.hasInlineBody {
                length = metadata.inlineBody.count
            } else if head.method == "HEAD", let declared = metadata.declaredLength {
                length = declared  // a passed HEAD's object has no body to count
            } else if phase == .complete {
                length = chunks.reduce(0) { $0 + $1.readableBytes }
            } else if let declared = metadata.declaredLength {
                length = declared
            }
            if let length {
                out.writeStaticString("Content-Length: ")
                out.writeDecimal(length)
                out.writeStaticString("\r\n")
            } else if head.method == "HEAD" {
                // Length unknown yet: say nothing rather than guess.
            } else if head.minorVersion == 1 {
                out.writeStaticString("Transfer-Encoding: chunked\r\n")
                chunked = true
            } else {
                keepAlive = false  // HTTP/1.0 without a length: the close ends the body
            }
        }
        writeConnectionHeader(&out, head: head)
        out.writeStaticString("\r\n")
        if sendsInlineBody { out.writeBytes(metadata.inlineBody) }  // small objects: one write
        context.write(wrapOutboundOut(out), promise: nil)
        return chunked
    }

    private func writeConnectionHeader(_ out: inout ByteBuffer, head: RequestHead) {
        if !keepAlive || draining {
            keepAlive = false
            out.writeStaticString("Connection: close\r\n")
        } else if head.minorVersion == 0 {
            out.writeStaticString("Connection: keep-alive\r\n")
        }
    }

    private func writeNotModified(_ metadata: ObjectMetadata, object: CachedObject) {
        guard let context, let head = request else { return }
        var out = context.channel.allocator.buffer(capacity: 256)
        out.writeStaticString("HTTP/1.1 304 Not Modified\r\n")
        for field in metadata.headers where Self.keptOn304.contains(where: { field.name.equalsIgnoringASCIICase($0) }) {
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
        writeConnectionHeader(&out, head: head)
        out.writeStaticString("\r\n")
        context.write(wrapOutboundOut(out), promise: nil)
        finishResponse()
    }

    /// A response made here, not fetched: errors, and Varnish's "Guru Meditation" page.
    private func writeSynthetic(status: Int, reason: String, isHEAD: Bool) {
        guard let context else { return }
        server.statistics.synths.add(1, ordering: .relaxed)
        let body = """
            <!DOCTYPE html>
            <html>
              <head><title>\(status) \(reason)</title></head>
              <body>
                <h1>Error \(status) \(reason)</h1>
                <p>\(reason)</p>
                <h3>Guru Meditation:</h3>
                <p>XID: \(xid)</p>
                <hr>
                <p>Shellac cache server</p>
              </body>
            </html>

            """
        var out = context.channel.allocator.buffer(capacity: 512 + body.utf8.count)
        out.writeString("HTTP/1.1 \(status) \(reason)\r\n")
        out.writeString("Date: \(HTTPDate.format(Int64(HTTPDate.currentTime())))\r\n")
        out.writeStaticString("Server: Shellac\r\nContent-Type: text/html; charset=utf-8\r\n")
        if status == 503 { out.writeStaticString("Retry-After: 5\r\n") }
        out.writeStaticString("X-Varnish: ")
        out.writeDecimal(xid)
        out.writeStaticString("\r\nContent-Length: ")
        out.writeDecimal(body.utf8.count)
        out.writeStaticString("\r\n")
        if status >= 400 && status != 404 && status != 503 && status != 405 { keepAlive = false }
        if let head = request { writeConnectionHeader(&out, head: head) } else {
            keepAlive = false
            out.writeStaticString("Connection: close\r\n")
        }
        out.writeStaticString("\r\n")
        if !isHEAD { out.writeString(body) }
        context.write(wrapOutboundOut(out), promise: nil)
        finishResponse()
    }

    private func fail(status: Int, reason: String) {
        server.statistics.badRequests.add(1, ordering: .relaxed)
        keepAlive = false
        input = nil
        state = .responding
        writeSynthetic(status: status, reason: reason, isHEAD: false)
    }

    /// Gives this request's VCL session back to the loop's pool.
    private func releaseVCLSession() {
        guard let session = vclSession else { return }
        vclSession = nil
        session.context.flushLogs(xid: xid, side: .client, to: server.log)
        vclSessions?.giveBack(session)
    }

    private func finishResponse() {
        guard let context else { return }
        request = nil
        requestBody = nil
        releaseVCLSession()
        if !keepAlive || draining || (inputClosed && !Self.holdsCompleteHead(input, parser: parser)) {
            state = .closed
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        context.flush()
        state = .awaitingHead
        armIdleTimer()
        if (input?.readableBytes ?? 0) > 0 {
            processInput()
        } else {
            input = nil  // drop the spent buffer so an idle connection holds no memory
        }
    }

    /// Whether `input` still holds a whole request head to answer (after the client half-closed).
    private static func holdsCompleteHead(_ input: ByteBuffer?, parser: RequestParser) -> Bool {
        guard let input, input.readableBytes > 0 else { return false }
        if case .incomplete = parser.parse(input) { return false }
        return true
    }

    // MARK: - Pipe

    private func pipe(_ head: RequestHead) {
        guard let context else { return }
        server.statistics.pipes.add(1, ordering: .relaxed)
        state = .piping(nil)
        cancelTimer()
        var headers = HopByHop.endToEnd(head.headers)
        Self.appendForwardedFor(&headers, clientIP: context.channel.remoteAddress?.ipAddress)
        headers.set("X-Varnish", String(xid))
        headers.set("Connection", "close")
        var out = context.channel.allocator.buffer(capacity: 512)
        out.writeString("\(head.method) \(head.uri) \(head.proto)\r\n")
        for field in headers { out.writeString("\(field.name): \(field.value)\r\n") }
        if case .length(let length) = head.body { out.writeString("Content-Length: \(length)\r\n") }
        if head.body == .chunked { out.writeStaticString("Transfer-Encoding: chunked\r\n") }
        out.writeStaticString("\r\n")
        let client = context.channel
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let request = out
        let backend = vclSession.map { $0.backend(named: $0.context.req.backendHint, fallback: server.backend) }
            ?? server.backend
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.nanoseconds(Int64(parameters.connectTimeout * 1e9)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(PipeRelayHandler(peer: client))
                }
            }
            .connect(host: backend.host, port: backend.port)
            .whenComplete { result in
                let handler = loopBound.value
                switch result {
                case .success(let backend):
                    guard case .piping = handler.state else {
                        backend.close(promise: nil)
                        return
                    }
                    backend.write(request, promise: nil)
                    if var pending = handler.input, pending.readableBytes > 0 {
                        backend.write(pending.readSlice(length: pending.readableBytes) ?? ByteBuffer(), promise: nil)
                    }
                    handler.input = nil
                    backend.flush()
                    handler.state = .piping(backend)
                case .failure:
                    handler.state = .responding
                    handler.keepAlive = false
                    handler.writeSynthetic(status: 503, reason: "Backend fetch failed", isHEAD: false)
                }
            }
    }

    // MARK: - Timers and closing

    private func armIdleTimer() {
        requestTimerArmed = false
        schedule(after: parameters.timeoutIdle)
    }

    /// Once part of a head has arrived, the whole head must follow within `timeout_req`.
    private func armRequestTimer() {
        guard !requestTimerArmed else { return }
        requestTimerArmed = true
        schedule(after: parameters.timeoutRequest)
    }

    /// Sets when the connection times out. One timer serves every request: it is rescheduled
    /// only when the deadline moves earlier; when it fires early it re-arms for the deadline.
    /// (Scheduling a task per response cost allocations on the hit path.)
    private func schedule(after seconds: Double) {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(seconds * 1e9))
        self.deadline = deadline
        if timer == nil || timerFiresAt > deadline { armTimer(at: deadline) }
    }

    private func armTimer(at when: NIODeadline) {
        timer?.cancel()
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timerFiresAt = when
        timer = context.eventLoop.scheduleTask(deadline: when) {
            loopBound.value.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        guard let deadline else { return }
        if NIODeadline.now() < deadline {
            armTimer(at: deadline)
            return
        }
        self.deadline = nil
        switch state {
        case .awaitingHead, .readingBody: close()
        case .responding, .piping, .closed: break
        }
    }

    private func cancelTimer() {
        deadline = nil  // the timer, if any, finds no deadline and stops
        requestTimerArmed = false
    }

    private func close() {
        guard let context else { return }
        state = .closed
        cancelTimer()
        timer?.cancel()
        timer = nil
        context.close(promise: nil)
    }
}

/// Relays bytes from a piped backend connection to the client, and closes the client when the
/// backend closes.
final class PipeRelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let peer: Channel

    init(peer: Channel) {
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
