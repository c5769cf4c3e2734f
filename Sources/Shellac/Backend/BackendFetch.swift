import NIOCore
import NIOHTTP1
import NIOPosix
import ShellacCache
import ShellacLog

/// Where a fetch delivers what the backend says. Called on the fetch's event loop.
protocol FetchSink: AnyObject {
    func fetchDidReceiveHead(_ head: HTTPResponseHead)
    /// `fetch` may be paused by the sink (`pauseReading`) until its reader catches up.
    func fetchDidReceiveBody(_ buffer: ByteBuffer, from fetch: BackendFetch)
    func fetchDidFinish()
    func fetchDidFail(_ reason: String)
    /// VCL asked for the backend connection to close after this response
    /// (`beresp.http.Connection: close`).
    var closesConnection: Bool { get }
    /// The sink wants none of the rest of the response (vcl_backend_response ended the
    /// attempt): asked after the head; the connection then closes unread.
    var dropsResponse: Bool { get }
}

/// Timeouts for one fetch, from the parameters (or, later, the VCL backend definition).
struct FetchTimeouts: Sendable {
    var connect: Double
    var firstByte: Double
    var betweenBytes: Double
}

/// Sends one request to a backend and streams the response to a sink (Varnish's
/// `cache_fetch.c` minus the policy): borrows a pooled connection, enforces the first-byte and
/// between-bytes timeouts, and retries once on a fresh connection when a reused one turns out
/// to have been closed by the backend before it answered.
final class BackendFetch: BackendExchange {
    private let backend: Backend
    private let pool: BackendConnectionPool
    private let head: HTTPRequestHead
    private let body: RequestBody?
    private let timeouts: FetchTimeouts
    private let counters: CounterBlock
    private var sink: FetchSink?

    private var channel: Channel?
    private var reused = false
    private var retried = false
    private var receivedHead = false
    /// A request body is still going out: the connection cannot be reused before it has.
    private var bodyUnsent = false
    private var timer: Scheduled<Void>?
    /// Reading from the backend is off until the sink's reader catches up.
    private var paused = false
    /// The loop the fetch runs on (its pool's).
    let eventLoop: EventLoop
    /// Called once when the exchange ends, finished or failed (a `.max_connections` slot).
    var onEnd: (() -> Void)?
    /// The fetch's transaction log and when it began: `BackendOpen`, `Timestamp Bereq`,
    /// `BackendReuse` or `BackendClose`.
    var log: (buffer: VSLBuffer, start: Double)?
    /// Where `VBE.*.req` and `VBE.*.fail*` count.
    var backendCounters: BackendCounters?
    /// The client's addresses, for the PROXY header of a `.proxy_header` backend.
    var addresses: (client: SocketAddress?, server: SocketAddress?) = (nil, nil)
    /// The connect holddown, and its remote and local durations (`backend_*_error_holddown`).
    var holddown: (BackendHolddown, remote: Double, local: Double)?
    /// Bytes of this exchange, added to `backendCounters` when it ends.
    private var bytes = (sentHead: 0, sentBody: 0, receivedHead: 0, receivedBody: 0)

    /// Which `fail_*` counter a failed connect counts in.
    static func failure(_ error: Error) -> BackendCounters.Field {
        if let error = error as? ChannelError, case .connectTimeout = error { return .failTimedOut }
        for error in connectErrors(error) {
            if let io = error as? IOError {
                if io.errnoCode == ECONNREFUSED { return .failConnectionRefused }
                if io.errnoCode == ETIMEDOUT { return .failTimedOut }
            }
            if let channel = error as? ChannelError, case .connectTimeout = channel { return .failTimedOut }
        }
        return .failOther
    }

    /// The errors of each address a failed connect tried (NIO wraps them), or the error itself.
    static func connectErrors(_ error: Error) -> [Error] {
        (error as? NIOConnectionError)?.connectionErrors.map(\.error) ?? [error]
    }

    init(
        backend: Backend, pool: BackendConnectionPool, head: HTTPRequestHead, body: RequestBody?,
        timeouts: FetchTimeouts, counters: CounterBlock, sink: FetchSink
    ) {
        self.backend = backend
        self.pool = pool
        self.head = head
        self.body = body
        self.timeouts = timeouts
        self.counters = counters
        self.sink = sink
        self.eventLoop = pool.eventLoop
    }

    func start() {
        counters.increment(.backendRequests)
        backendCounters?.increment(.req, backend: backend.name)
        connect()
    }

    private func connect() {
        pool.acquire(
            backend, connectTimeout: timeouts.connect, holddown: holddown?.0, fresh: backend.proxyHeader != nil
        ).whenComplete { [self] result in
            switch result {
            case .success(let (channel, reused)):
                counters.increment(reused ? .backendReuses : .backendConnections)
                send(on: channel, reused: reused)
            case .failure(let error):
                counters.increment(.backendFailures)
                if error is BackendHolddown.HeldDown {
                    backendCounters?.increment(.fail, backend: backend.name)
                    backendCounters?.increment(.helddown, backend: backend.name)
                    return fail("backend \(backend.name): held down after a failed connect")
                }
                if let (holddown, remote, local) = holddown {
                    holddown.hold(backend, after: error, now: HTTPDate.currentTime(), remote: remote, local: local)
                }
                if let backendCounters {
                    backendCounters.increment(.fail, backend: backend.name)
                    backendCounters.increment(Self.failure(error), backend: backend.name)
                }
                fail("backend connect failed")
            }
        }
    }

    private func send(on channel: Channel, reused: Bool) {
        guard let handler = try? channel.pipeline.syncOperations.handler(type: BackendResponseHandler.self) else {
            channel.close(promise: nil)
            fail("backend connection unusable")
            return
        }
        self.channel = channel
        self.reused = reused
        handler.exchange = self
        if !reused, let backendCounters {
            // VBE.*.conn: open until the connection closes, whichever fetch has it then.
            let name = backend.name
            backendCounters.increment(.conn, backend: name)
            channel.closeFuture.whenComplete { _ in backendCounters.add(.conn, -1, backend: name) }
        }
        if let (log, start) = self.log {
            if log.open(.backendOpen) {
                // Varnish's fields: fd (not known to NIO's users: "-"), name, address, port,
                // local address, local port, connect or reuse.
                log.put("- ")
                log.put(backend.name)
                log.put(byte: UInt8(ascii: " "))
                log.put(backend.host)
                log.put(byte: UInt8(ascii: " "))
                log.put(backend.port)
                log.put(byte: UInt8(ascii: " "))
                let local = channel.localAddress
                log.put(local?.ipAddress ?? "-")
                log.put(byte: UInt8(ascii: " "))
                log.put(local?.port ?? 0)
                log.put(reused ? " reuse" : " connect")
                log.close()
            }
            log.stamp("Bereq", now: HTTPDate.currentTime(), start: start)
        }
        if !reused, let version = backend.proxyHeader,
           let header = ProxyHeaderWriter.header(version: version, client: addresses.client, server: addresses.server),
           let encoder = try? channel.pipeline.syncOperations.context(handlerType: HTTPRequestEncoder.self)
        {
            encoder.write(NIOAny(header), promise: nil)  // below the encoder: raw bytes first
        }
        bytes.sentHead += BackendTransaction.headBytes(head)
        guard let body else {
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            arm(timeouts.firstByte, reason: "first byte timeout")
            return
        }
        // The last write so far: a failed body closes the connection only once it is done.
        // (A flush inside the connect's own callback is held until the socket reports
        // writable; a close before then would drop the head unsent.)
        var lastWrite = channel.write(HTTPClientRequestPart.head(head))
        bodyUnsent = true
        // The body as it arrives; each part, once written, lets the client send more.
        body.send { [self] event in
            switch event {
            case .data(let part):
                let count = part.readableBytes
                guard self.channel === channel else {
                    // The response came and went first (the connection is closed): the rest is
                    // dropped, and the client may send on.
                    return body.written(count)
                }
                bytes.sentBody += count
                lastWrite = channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(part)))
                lastWrite.whenComplete { _ in body.written(count) }
            case .end:
                guard self.channel === channel else { return }
                bodyUnsent = false
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                arm(timeouts.firstByte, reason: "first byte timeout")
            case .failed:
                guard self.channel === channel else { return }
                detach(channel)
                // What was written (the head, body bytes so far) goes out before the close, as
                // Varnish has sent them when the client's body fails.
                channel.flush()
                lastWrite.whenComplete { _ in channel.close(promise: nil) }
                fail("request body unavailable (already sent, or the client went away)")
            }
        }
    }

    func backendDidReceive(_ part: BackendResponsePart) {
        switch part {
        case .head(let response):
            // (1xx interim responses never come here: the decoder skips them.)
            receivedHead = true
            bytes.receivedHead += response.headers.reduce(15 + response.status.reasonPhrase.utf8.count) {
                $0 + $1.name.utf8.count + $1.value.utf8.count + 4
            } + 2
            arm(timeouts.betweenBytes, reason: "between bytes timeout")
            sink?.fetchDidReceiveHead(response)
            if sink?.dropsResponse == true { dropResponse() }
        case .body(let buffer):
            bytes.receivedBody += buffer.readableBytes
            arm(timeouts.betweenBytes, reason: "between bytes timeout")
            sink?.fetchDidReceiveBody(buffer, from: self)
        case .end(var reusable):
            // `Connection: close` in the request as VCL left it, or in the response as VCL
            // left it, closes the connection too (as Varnish).
            if reusable, Self.saysClose(head.headers["connection"]) || sink?.closesConnection == true { reusable = false }
            if backend.proxyHeader != nil { reusable = false }  // it spoke for one client
            // A response that came before the request's body was all sent (an early 413, say):
            // the rest of the body would still go into this connection, so it is not reused.
            if bodyUnsent { reusable = false }
            timer?.cancel()
            timer = nil
            if paused, let channel { Self.setReading(channel, true) }
            paused = false
            if let channel {
                detach(channel)
                if reusable {
                    pool.release(channel, to: backend)
                    counters.increment(.backendRecycles)
                } else {
                    channel.close(promise: nil)
                }
                // Varnish 7.1 says "recycle" for a connection back in the pool (and `reuse` in
                // the BackendOpen of the fetch that takes it).
                if let (log, _) = self.log, log.open(.backendClose) {
                    log.put("- ")
                    log.put(backend.name)
                    log.put(reusable ? " recycle" : " close")
                    log.close()
                }
            }
            let sink = self.sink
            self.sink = nil
            ended()
            sink?.fetchDidFinish()
        }
    }

    func backendDidClose(error: Error?) {
        timer?.cancel()
        timer = nil
        channel = nil
        // (A BackendResponseError means bytes did come: a partial or malformed head.)
        if !receivedHead && reused && !retried && !(error is BackendResponseError) {
            // The backend closed an idle keep-alive connection as we reused it: try once more
            // on a new connection.
            retried = true
            counters.increment(.backendRetries)
            connect()
            return
        }
        fail(receivedHead ? "backend closed mid-body" : "backend closed before answering")
    }

    /// The sink gives up on the response (a body it cannot store, such as corrupt gzip): the
    /// connection closes, and the fetch fails.
    func abort(_ reason: String) {
        if let channel {
            detach(channel)
            channel.close(promise: nil)
        }
        fail(reason)
    }

    /// The sink is done with this response before its end: the connection closes (a body
    /// left unread makes it unfit for reuse), and the fetch ends without failing.
    private func dropResponse() {
        timer?.cancel()
        timer = nil
        if let channel {
            detach(channel)
            channel.close(promise: nil)
        }
        sink = nil
        ended()
    }

    /// Stops reading the response (and its between-bytes timeout) until `resumeReading`.
    func pauseReading() {
        guard !paused, let channel else { return }
        paused = true
        timer?.cancel()
        timer = nil
        Self.setReading(channel, false)
    }

    func resumeReading() {
        guard paused, let channel else { return }
        paused = false
        arm(timeouts.betweenBytes, reason: "between bytes timeout")
        Self.setReading(channel, true)
    }

    private static func setReading(_ channel: Channel, _ on: Bool) {
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: on)
    }

    /// Whether Connection field values hold the `close` option.
    static func saysClose(_ values: [String]) -> Bool {
        values.contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
        }
    }

    private func detach(_ channel: Channel) {
        if let handler = try? channel.pipeline.syncOperations.handler(type: BackendResponseHandler.self) {
            handler.exchange = nil
        }
        self.channel = nil
    }

    private func arm(_ seconds: Double, reason: String) {
        timer?.cancel()
        guard let channel else { return }
        timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) { [self] in
            timer = nil
            if let channel = self.channel {
                detach(channel)
                channel.close(promise: nil)
            }
            fail(reason)
        }
    }

    private func fail(_ reason: String) {
        timer?.cancel()
        timer = nil
        let sink = self.sink
        self.sink = nil
        if sink != nil { counters.increment(.fetchFailed) }
        ended()
        sink?.fetchDidFail(reason)
    }

    private func ended() {
        if let backendCounters, bytes.sentHead > 0 {
            backendCounters.addBytes(
                backend: backend.name, sentHead: bytes.sentHead, sentBody: bytes.sentBody,
                receivedHead: bytes.receivedHead, receivedBody: bytes.receivedBody)
            bytes = (0, 0, 0, 0)
        }
        let onEnd = self.onEnd
        self.onEnd = nil
        onEnd?()
    }
}
