import NIOCore
import ShellacCache
import VCL

/// One client connection's HTTP/1 session: reads requests (pipelined or not), keeps the
/// connection alive between them, enforces the idle and request timeouts, and drains when the
/// server stops. Each complete request goes to the connection's `RequestStateMachine`, which
/// runs it through Varnish's request steps and writes its response; the next request is read
/// when that response is done. Lives on one event loop.
final class ClientConnectionHandler: ChannelInboundHandler, RequestOwner {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// A `PROXY` listener's connection: its header comes first.
        case awaitingProxyHeader
        case awaitingHead
        /// Reading a whole body before the request begins (the VCL calls `std.cache_req_body`).
        case readingBody(RequestHead, RequestBodyReader, ByteBuffer)
        /// The request runs; `streaming`, when set, is its body still arriving.
        case responding
        /// The response is done before the body was all read: the rest is read and dropped.
        case drainingBody
        case piping(PipeSession)
        case closed
    }

    private let server: ServerContext
    private var parser: RequestParser
    /// This connection's copy of the server's parameters, refreshed before each request head
    /// when `param.set` has changed them.
    private var parameters: Parameters
    private var parametersVersion: Int
    private var context: ChannelHandlerContext?
    private var requests: RequestStateMachine?
    private var deadline: ConnectionDeadline?
    private var input: ByteBuffer?
    private var state = State.awaitingHead
    private(set) var isDraining = false
    private var inputClosed = false
    /// Why the connection is closing, once it is (`SessClose`, `MAIN.sc_*`).
    private var closeReason: SessionCloseReason?
    private var processingInput = false
    /// The body of the request under way, while it streams in (the reader, and where its
    /// bytes go; after the response, nowhere: the rest is read and dropped).
    private var streaming: (reader: RequestBodyReader, body: RequestBody)?

    /// What a PROXY header said of the client and the server.
    private(set) var proxiedAddresses: (client: SocketAddress?, server: SocketAddress?) = (nil, nil)

    private let expectsProxyHeader: Bool
    /// The listen socket this connection came in on (`local.socket`, `local.endpoint`).
    let listener: VCLListener

    init(server: ServerContext, expectsProxyHeader: Bool = false,
         listener: VCLListener = VCLListener(name: "a0", endpoint: "")) {
        self.server = server
        self.expectsProxyHeader = expectsProxyHeader
        self.listener = listener
        if expectsProxyHeader { state = .awaitingProxyHeader }
        self.parametersVersion = server.live.version
        self.parameters = server.live.current
        self.parser = RequestParser(maxHeadSize: parameters.httpRequestSize)
        parser.maxFieldLineLength = parameters.httpRequestHeaderLength
    }

    /// `sess.timeout_idle` as VCL set it for this connection.
    private var idleTimeoutOverride: Double?

    func setSessionIdleTimeout(_ seconds: Double) {
        idleTimeoutOverride = seconds
        parameters.timeoutIdle = seconds
    }

    private func refreshParameters() {
        let version = server.live.version
        guard version != parametersVersion else { return }
        parametersVersion = version
        parameters = server.live.current
        if let idleTimeoutOverride { parameters.timeoutIdle = idleTimeoutOverride }
        parser = RequestParser(maxHeadSize: parameters.httpRequestSize)
        parser.maxFieldLineLength = parameters.httpRequestHeaderLength
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        requests = RequestStateMachine(owner: self, server: server, channel: context, parameters: parameters)
        deadline = ConnectionDeadline(eventLoop: context.eventLoop) { [unowned self] in deadlineExpired() }
    }

    func channelActive(context: ChannelHandlerContext) {
        requests?.counters.increment(.sessions)
        // The session's own transaction id, as Varnish numbers them.
        requests?.logSessionOpen(listener: expectsProxyHeader ? "a0" : "a0")
        server.openConnections.add(1, ordering: .relaxed)
        deadline?.armIdle(parameters.timeoutIdle)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.openConnections.subtract(1, ordering: .relaxed)
        streaming?.body.fail()
        streaming = nil
        if case .piping(let pipe) = state {
            pipe.clientDidClose()
            requests?.counters.add(.pipesOpen, -1)
        }
        state = .closed
        deadline?.stop()
        requests?.abandon()
        let reason = closeReason ?? .remoteClose
        requests?.counters.increment(reason.counter)
        requests?.logSessionClose(reason)
        requests = nil  // it holds the context, which holds this handler
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch state {
        case .piping(let pipe): return pipe.clientSent(bytes)
        case .closed: return
        case .awaitingProxyHeader, .awaitingHead, .readingBody, .responding, .drainingBody: break
        }
        input.setOrWriteBuffer(&bytes)
        if let input, input.readableBytes > parameters.httpRequestSize + parameters.httpRequestBodyMax {
            close(.overflow)  // a client pipelining far more than it reads
            return
        }
        processInput()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .piping(let pipe) = state {
            pipe.clientWritabilityChanged()
        } else if context.channel.isWritable {
            requests?.clientBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        close(.sendError)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // The server is stopping: finish the response under way, then close.
            isDraining = true
            switch state {
            case .awaitingHead where (input?.readableBytes ?? 0) == 0, .awaitingProxyHeader: close(.responseClose)
            default: break
            }
        } else if case ChannelEvent.inputClosed = event {
            // The client sent all it will (`printf ... | nc`): answer what it asked, then close.
            inputClosed = true
            switch state {
            case .awaitingHead, .awaitingProxyHeader:
                processInput()
                if case .awaitingHead = state { close(.remoteClose) }
                if case .awaitingProxyHeader = state { close(.remoteClose) }
            case .readingBody, .drainingBody: close(.remoteClose)
            case .responding where streaming != nil:
                streaming?.body.fail()
                streaming = nil
                close(.remoteClose)
            case .piping(let pipe): pipe.clientInputClosed()
            case .responding, .closed: break
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: - Reading requests

    /// Parses and answers every complete request in the input, in order. Re-entered (without
    /// recursion) when an asynchronous response finishes.
    private func processInput() {
        guard !processingInput, let requests else { return }
        processingInput = true
        defer { processingInput = false }
        while true {
            switch state {
            case .awaitingProxyHeader:
                guard var buffer = input, buffer.readableBytes > 0 else { return }
                switch ProxyHeader.parse(buffer) {
                case .needMore:
                    deadline?.armRequest(parameters.timeoutRequest)
                    return
                case .invalid:
                    return close(.junk)  // not a PROXY header: nothing on this connection can be trusted
                case .complete(let length, let client, let server):
                    buffer.moveReaderIndex(forwardBy: length)
                    input = buffer
                    proxiedAddresses = (client, server)
                    state = .awaitingHead
                }
            case .awaitingHead:
                guard var buffer = input, buffer.readableBytes > 0 else { return }
                refreshParameters()
                switch parser.parse(buffer) {
                case .incomplete:
                    deadline?.armRequest(parameters.timeoutRequest)
                    return
                case .failure(let status, let reason):
                    return fail(status: status, reason: reason)
                case .head(let head, let consumed):
                    // The head as it came, for the transaction log (a slice: no copy).
                    requests.rawHead = buffer.getSlice(at: buffer.readerIndex, length: consumed)
                    requests.counters.add(.requestHeaderBytes, consumed)
                    buffer.moveReaderIndex(forwardBy: consumed)
                    input = buffer
                    deadline?.cancel()
                    begin(head)
                }
            case .readingBody(let head, var reader, var whole):
                guard var buffer = input else { return }
                let outcome = reader.read(from: &buffer)
                input = buffer
                switch outcome {
                case .needMore(let part):
                    if var part { requests.countRequestBody(part.readableBytes); whole.writeBuffer(&part) }
                    state = .readingBody(head, reader, whole)
                    deadline?.armIdle(parameters.timeoutIdle)
                    return
                case .failure(let status, let reason):
                    return fail(status: status, reason: reason)
                case .complete(let part):
                    if var part { requests.countRequestBody(part.readableBytes); whole.writeBuffer(&part) }
                    state = .responding
                    requests.start(head, body: RequestBody(whole: whole), xid: requests.makeXID(), parameters: parameters)
                }
            case .responding where streaming != nil, .drainingBody:
                if !pumpBody() { return }
            case .responding, .piping, .closed:
                return
            }
        }
    }

    private func begin(_ received: RequestHead) {
        guard let requests, let context else { return }
        var head = received
        head.prepareForVCL(httpsScheme: parameters.httpsScheme)
        switch head.body {
        case .none where head.minorVersion == 0 && (head.method == "POST" || head.method == "PUT"):
            // An HTTP/1.0 body can only be framed by Content-Length (RFC 1945 §7.2; Varnish too).
            fail(status: 400, reason: "Bad Request")
        case .none:
            state = .responding
            requests.start(head, body: nil, xid: requests.makeXID(), parameters: parameters)
        case .length(let length) where length > parameters.httpRequestBodyMax:
            fail(status: 413, reason: "Content Too Large")
        case .length, .chunked:
            // A client that sent its body already needs no 100 Continue (as Varnish).
            let owesContinue = head.expectsContinue && (input?.readableBytes ?? 0) == 0
            let reader = RequestBodyReader(framing: head.body, limit: parameters.httpRequestBodyMax)
            if server.vcl.active.cachesRequestBody {
                // Read before vcl_recv (std.cache_req_body may want it): the 100 goes now.
                if owesContinue { sendContinue() }
                state = .readingBody(head, reader, context.channel.allocator.buffer(capacity: 0))
                deadline?.armIdle(parameters.timeoutIdle)
                return
            }
            // The request begins now; its body streams to the backend as it arrives.
            var declared: Int?
            if case .length(let length) = head.body { declared = length }
            let body = RequestBody(declaredLength: declared)
            body.onDrained = { [unowned self] in resumeReading() }
            if owesContinue { body.owedContinue = { [unowned self] in sendContinue() } }
            streaming = (reader, body)
            state = .responding
            requests.start(head, body: body, xid: requests.makeXID(), parameters: parameters)
        }
    }

    /// `100 Continue`: the client may send its body.
    private func sendContinue() {
        context?.writeAndFlush(wrapOutboundOut(ByteBuffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
    }

    /// Moves the body bytes in the input on to the request's body (or drops them once the
    /// response is done). False when the input is spent or the client is paused.
    private func pumpBody() -> Bool {
        guard var (reader, body) = streaming else { return true }
        guard var buffer = input, buffer.readableBytes > 0 else {
            deadline?.armIdle(parameters.timeoutIdle)
            return false
        }
        let outcome = reader.read(from: &buffer)
        input = buffer
        switch outcome {
        case .needMore(let part):
            streaming = (reader, body)
            if let part { requests?.countRequestBody(part.readableBytes); body.append(part) }
            if body.shouldPause() {
                deadline?.cancel()
                context?.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            } else {
                deadline?.armIdle(parameters.timeoutIdle)
            }
            return false
        case .failure(let status, let reason):
            // Bad chunking or too large, with the request already under way: its fetch fails.
            // The client gets the error instead, unless its response has begun (then the
            // connection just closes).
            streaming = nil
            body.fail()
            guard let requests, !requests.hasStartedResponse, case .responding = state else {
                close(.badBody)
                return false
            }
            requests.abandon()
            fail(status: status, reason: reason)
            return false
        case .complete(let part):
            streaming = nil
            deadline?.cancel()
            if let part { requests?.countRequestBody(part.readableBytes); body.append(part) }
            body.finish()
            if case .drainingBody = state { state = .awaitingHead }
            return true
        }
    }

    /// The backend took the body bytes it was behind on: read the client again.
    private func resumeReading() {
        context?.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        processInput()
    }

    /// A request that cannot be read: the error page, then the connection closes.
    private func fail(status: Int, reason: String) {
        guard let requests else { return }
        input = nil
        state = .responding
        requests.reject(status: status, reason: reason, xid: requests.makeXID())
    }

    // MARK: - RequestOwner

    func requestFinished(keepAlive: Bool) {
        guard let context else { return }
        if !keepAlive || isDraining || (inputClosed && !Self.holdsCompleteHead(input, parser: parser)) {
            closeReason = !keepAlive ? requests?.closeReason : inputClosed ? .remoteClose : .responseClose
            state = .closed
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        context.flush()
        if let (_, body) = streaming {
            // Answered before its body was all sent (a synth, a miss): read the rest, drop it.
            body.discardRest()
            state = .drainingBody
            deadline?.armIdle(parameters.timeoutIdle)
            processInput()
            return
        }
        state = .awaitingHead
        deadline?.armIdle(parameters.timeoutIdle)
        if (input?.readableBytes ?? 0) > 0 {
            requests?.counters.increment(.sessionReadAhead)
            processInput()
        } else {
            input = nil  // drop the spent buffer so an idle connection holds no memory
            requests?.counters.increment(.sessionHerds)
        }
    }

    func startPiping(_ pipe: PipeSession) -> ByteBuffer? {
        state = .piping(pipe)
        requests?.counters.increment(.pipesOpen)
        deadline?.cancel()
        defer { input = nil }
        return input
    }

    func pipeFailed() {
        // (Closing takes the connection out of `.piping`: count the pipe as done here.)
        if case .piping = state { requests?.counters.add(.pipesOpen, -1) }
        close(.sendError)
    }

    /// Whether `input` still holds a whole request head to answer (after the client half-closed).
    private static func holdsCompleteHead(_ input: ByteBuffer?, parser: RequestParser) -> Bool {
        guard let input, input.readableBytes > 0 else { return false }
        if case .incomplete = parser.parse(input) { return false }
        return true
    }

    // MARK: - Closing

    private func deadlineExpired() {
        switch state {
        case .awaitingProxyHeader, .awaitingHead, .readingBody, .drainingBody: close(.timeout)
        case .responding where streaming != nil:
            // The client stopped sending its body. Before the response has begun the body
            // fails instead (so does the fetch sending it: a 503), and the connection closes
            // after that answer, as Varnish's body read times out.
            guard let (_, body) = streaming, let requests, !requests.hasStartedResponse else { return close(.timeout) }
            streaming = nil
            requests.keepAlive = false
            body.fail()
        case .responding, .piping, .closed: break
        }
    }

    private func close(_ reason: SessionCloseReason) {
        guard let context else { return }
        if closeReason == nil { closeReason = reason }
        state = .closed
        deadline?.stop()
        context.close(promise: nil)
    }
}
