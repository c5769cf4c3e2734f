import NIOCore
import NIOHTTP1
import ShellacCache
import ShellacLog
import VCL

/// One backend request into one object, as Varnish's `cache_fetch.c` runs it:
/// `vcl_backend_fetch`, the fetch, `vcl_backend_response`. A fetch that gets no usable response
/// goes to `vcl_backend_error`, whose synthetic response the object's readers get instead;
/// `return (retry)` from either goes round again with `bereq.retries` one higher, up to
/// `max_retries`. Without VCL (the Swift built-in policy) it is one attempt, and a failure is
/// the 503 the readers make themselves.
///
/// Lives on the event loop of the client connection that began it; kept alive by the fetch
/// under way (its `ObjectFetcher` calls back here).
final class BackendTransaction {
    private let object: CachedObject
    private let mode: ObjectFetcher.Mode
    private let server: ServerContext
    private let xid: UInt64
    /// The request fields a response's Vary names are taken from here.
    private let clientHeaders: HeaderList
    /// The pool of the loop the transaction runs on (it may move once, see `send`).
    private var pool: BackendConnectionPool
    private let request: BackendRequest
    /// False once `unset bereq.body` (the built-in vcl_backend_fetch does it for a GET): the
    /// client's body, if any, stays with the client (whose connection drains it).
    private var sendsBody = true
    /// The client's body as this transaction sends it: `request.body`, or a whole copy of it
    /// made to move to another loop (see `send`).
    private var body: RequestBody?
    /// The expired object this fetch may revalidate, and serve if the fetch fails inside its
    /// `stale-if-error` window.
    private let stale: CachedObject?
    /// With VCL, `bereq` (already filled from `request`) is what is sent.
    private let vcl: VCLBackendPolicy?
    /// The counters of the loop this transaction runs on.
    private var counters: CounterBlock
    /// This fetch's records (`Begin bereq` … `End`): a buffer of its own, as the transaction
    /// may move to another loop.
    private let log: VSLBuffer
    private let startTime = HTTPDate.currentTime()

    init(
        object: CachedObject, mode: ObjectFetcher.Mode, server: ServerContext, xid: UInt64,
        clientHeaders: HeaderList, pool: BackendConnectionPool, request: BackendRequest, stale: CachedObject? = nil,
        vcl: VCLBackendPolicy?, counters: CounterBlock, log: VSLBuffer, parentXID: UInt64, reason: StaticString
    ) {
        self.log = log
        if log.open(.begin) {
            log.put("bereq ")
            log.put(parentXID)
            log.put(byte: UInt8(ascii: " "))
            log.put(reason)
            log.close()
        }
        log.record(.vclUse, server.vcl.activeName)
        log.stamp("Start", now: startTime, start: startTime)
        log.record(.bereqMethod, request.method)
        log.record(.bereqURL, request.uri)
        log.record(.bereqProtocol, "HTTP/1.1")
        for field in request.headers { log.header(.bereqHeader, name: field.name, value: field.value) }
        self.stale = stale
        self.object = object
        self.mode = mode
        self.server = server
        self.xid = xid
        self.clientHeaders = clientHeaders
        self.pool = pool
        self.request = request
        self.body = request.body
        self.vcl = vcl
        self.counters = counters
    }

    deinit {
        // The fetch is over (its fetcher and callbacks have let it go): the last record.
        log.record(.end, "")
        log.flush()
    }

    func start() {
        if vcl != nil {
            attempt()
        } else {
            // The active VCL's default backend (it may have changed since the start, with
            // vcl.use); it may be marked sick (`backend.set_health`).
            let active = server.vcl.current
            if let backend = active.defaultBackend, !active.program.isHealthy(backend.name) {
                counters.increment(.backendUnhealthy)
                return fail()
            }
            // The built-in vcl_backend_fetch, in Swift.
            log.record(.vclCall, "BACKEND_FETCH")
            log.record(.vclReturn, "fetch")
            log.stamp("Fetch", now: HTTPDate.currentTime(), start: startTime)
            sendsBody = request.method != "GET"
            send(
                method: request.method, uri: request.uri, headers: withBodyFields(request.headers),
                to: active.defaultBackend ?? server.backend, timeouts: server.fetchTimeouts)
        }
    }

    /// The client's body as this attempt sends it (none once `unset bereq.body`).
    private var sentBody: RequestBody? { sendsBody ? body : nil }

    /// `headers` without the fields that frame a body this attempt does not send.
    private func withBodyFields(_ headers: HeaderList) -> HeaderList {
        guard !sendsBody, request.body != nil else { return headers }
        var kept = headers
        kept.remove("Content-Length")
        kept.remove("Transfer-Encoding")
        return kept
    }

    /// `vcl_backend_fetch`, then the fetch it allows.
    private func attempt() {
        guard let vcl else { return }
        switch vcl.backendFetch() {
        case .fetch:
            let bereq = vcl.context.bereq
            let (target, timeouts) = vcl.target(fallback: server.backend, parameters: server.fetchTimeouts)
            guard let backend = target else {
                counters.increment(.backendUnhealthy)
                if serveStale() { return }
                return backendError(status: 503, reason: "Backend fetch failed")
            }
            log.stamp("Fetch", now: HTTPDate.currentTime(), start: startTime)
            sendsBody = !bereq.bodyUnset
            send(method: bereq.method, uri: bereq.url, headers: withBodyFields(bereq.headers), to: backend, timeouts: timeouts)
        case .error(let status, let reason):
            backendError(status: status, reason: reason)
        case .deliver, .retry, .abandon:
            // Nobody gets this object: waiters look up again and fetch for themselves.
            object.makePrivate()
            fail()
        }
    }

    private func send(method: String, uri: String, headers: HeaderList, to backend: Backend, timeouts: FetchTimeouts) {
        // With no idle connection here but one on another loop, the transaction moves there
        // whole, so that it reuses that connection rather than opening one more (Varnish's
        // pools are shared by all its threads). It moves at most once per attempt.
        // A body streaming in from the client is tied to the client's loop: one that fits in
        // `RequestBody.replayLimit` is waited for and moves as a whole copy; a larger one
        // stays, and the fetch opens a connection here.
        if !pool.hasIdleConnections, let other = server.poolWithIdleConnections(excluding: pool) {
            if let streamed = sentBody, streamed.isStreaming {
                guard streamed.canSend, !streamed.isTaken, (streamed.declaredLength ?? 0) <= RequestBody.replayLimit else {
                    return connect(method: method, uri: uri, headers: headers, to: backend, timeouts: timeouts)
                }
                let loopBound = NIOLoopBound(self, eventLoop: pool.eventLoop)
                streamed.whenComplete(limit: RequestBody.replayLimit) { complete in
                    let transaction = loopBound.value
                    guard complete, let whole = streamed.wholeBuffer else {
                        // Larger than the limit after all, or failed (then the fetch fails at
                        // once): sent streaming from here.
                        return transaction.connect(method: method, uri: uri, headers: headers, to: backend, timeouts: timeouts)
                    }
                    transaction.body = RequestBody(whole: whole)
                    transaction.send(method: method, uri: uri, headers: headers, to: backend, timeouts: timeouts)
                }
                return
            }
            let moving = MovingTransaction(self)
            other.eventLoop.execute {
                let transaction = moving.transaction
                transaction.pool = other
                transaction.counters = transaction.server.counters.value(on: other.eventLoop)
                transaction.connect(method: method, uri: uri, headers: headers, to: backend, timeouts: timeouts)
            }
            return
        }
        connect(method: method, uri: uri, headers: headers, to: backend, timeouts: timeouts)
    }

    private func connect(method: String, uri: String, headers: HeaderList, to backend: Backend, timeouts: FetchTimeouts) {
        guard let limit = backend.maxConnections else {
            return exchange(method: method, uri: uri, headers: headers, with: backend, timeouts: timeouts, gate: nil)
        }
        let gate = server.gate(for: backend, limit: limit)
        let parameters = server.parameters
        let waits = gate.inUse >= limit
        if waits && parameters.backendWaitLimit > 0 { counters.increment(.backendWait) }
        let loopBound = NIOLoopBound(self, eventLoop: pool.eventLoop)
        gate.enter(waitLimit: parameters.backendWaitLimit, timeout: parameters.backendWaitTimeout, on: pool.eventLoop) {
            granted in
            let transaction = loopBound.value
            guard granted else {
                transaction.counters.increment(.backendBusy)
                if waits && parameters.backendWaitLimit > 0 { transaction.counters.increment(.backendWaitFail) }
                transaction.attemptEnded(.noResponse("backend \(backend.name): busy"))
                return
            }
            transaction.exchange(method: method, uri: uri, headers: headers, with: backend, timeouts: timeouts, gate: gate)
        }
    }

    /// One request and response on a pooled connection (holding `gate`'s slot throughout).
    private func exchange(
        method: String, uri: String, headers: HeaderList, with backend: Backend, timeouts: FetchTimeouts,
        gate: BackendGate?
    ) {
        var httpHeaders = HTTPHeaders()
        httpHeaders.reserveCapacity(headers.count)
        for field in headers { httpHeaders.add(name: field.name, value: field.value) }
        if !httpHeaders.contains(name: "host") { httpHeaders.add(name: "Host", value: backend.defaultHost) }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: uri, headers: httpHeaders)
        let sink = ObjectFetcher(
            object: object, mode: mode, context: server, xid: xid, requestHeaders: clientHeaders, stale: stale,
            requestRange: headers["Range"], vcl: vcl, counters: counters, log: log, logStart: startTime,
            requestHeadBytes: Self.headBytes(head)
        ) { [self] unfinished in
            attemptEnded(unfinished)
        }
        sink.isHeadRequest = method == "HEAD"
        let fetch = BackendFetch(
            backend: backend, pool: pool, head: head, body: sentBody, timeouts: timeouts,
            counters: counters, sink: sink)
        fetch.log = (log, startTime)
        fetch.backendCounters = server.backendCounters
        fetch.addresses = request.addresses
        let parameters = server.parameters
        fetch.holddown = (server.holddown, parameters.remoteErrorHolddown, parameters.localErrorHolddown)
        if let gate { fetch.onEnd = { gate.leave() } }
        fetch.start()
    }

    /// The bytes of the request head as HTTP/1.1 writes it (`BereqAcct`).
    static func headBytes(_ head: HTTPRequestHead) -> Int {
        head.headers.reduce(head.method.rawValue.utf8.count + head.uri.utf8.count + 12) {
            $0 + $1.name.utf8.count + $1.value.utf8.count + 4
        } + 2
    }

    private func attemptEnded(_ unfinished: ObjectFetcher.Unfinished) {
        guard vcl != nil else { return fail() }
        switch unfinished {
        case .noResponse:
            if serveStale() { return }
            backendError(status: 503, reason: "Backend fetch failed")
        case .retry:
            // Past max_retries a retry from vcl_backend_response is a backend error. The retry
            // waits a turn of the loop, so that the response being dropped (a 304's, say) can
            // end and put its connection back for the retry to reuse, as in Varnish.
            let loopBound = NIOLoopBound(self, eventLoop: pool.eventLoop)
            pool.eventLoop.execute {
                let transaction = loopBound.value
                if !transaction.retry() { transaction.backendError(status: 503, reason: "Backend fetch failed") }
            }
        case .error(let status, let reason):
            backendError(status: status, reason: reason)
        }
    }

    /// `return (retry)`: runs the attempt again unless `max_retries` is spent (then false).
    private func retry() -> Bool {
        guard let vcl, vcl.context.bereq.retries < server.parameters.maxRetries else { return false }
        vcl.context.bereq.retries += 1
        counters.increment(.backendRetries)
        attempt()
        return true
    }

    /// `vcl_backend_error`: its response, another attempt, or the failure.
    private func backendError(status: Int, reason: String) {
        guard let vcl else { return fail() }
        switch vcl.backendError(status: status, reason: reason, now: HTTPDate.currentTime()) {
        case .deliver(let decision):
            deliver(decision, body: Array(vcl.context.syntheticBody.utf8))
        case .retry:
            // Past max_retries a retry from vcl_backend_error fails the fetch.
            if !retry() { fail() }
        case .fetch, .error, .abandon:
            fail()
        }
    }

    /// Gives the object's readers (its client and any waiting on it) the response
    /// `vcl_backend_error` made. It is stored only when VCL gave it a TTL; otherwise it leaves
    /// the index first, so later requests fetch again.
    private func deliver(_ decision: VCLBackendPolicy.Decision, body: [UInt8]) {
        let metadata = ObjectMetadata(
            status: decision.status % 1000, reason: decision.reason,
            headers: HopByHop.endToEnd(decision.headers, alsoDropping: ["content-length", "age"]),
            declaredLength: nil,
            variant: ObjectFetcher.variant(of: decision.headers, request: clientHeaders, gzipSupport: server.parameters.httpGzipSupport)
        ).withInlineBody(body)
        let stores = mode == .store && !decision.uncacheable
        if mode == .pass { object.makePrivate() } else if !stores { server.store.remove(object) }
        object.beginStreaming(metadata: metadata, lifetime: decision.lifetime)
        let area = server.store.area(
            for: decision.storage, lifetime: decision.lifetime, shortlived: server.parameters.shortlived)
        if stores && !server.store.publish(object, area: area, replacing: { $0.variant == metadata.variant }) {
            object.makePrivate()
        }
        object.finish()
    }

    private func fail() {
        if serveStale() { return }
        ObjectFetcher.fail(object, mode: mode, store: server.store, reason: vcl == nil ? "Backend fetch failed" : nil)
    }

    /// A failed fetch answered by the stale object, inside its `stale-if-error` window: the
    /// waiting readers get the stale object's response (the busy object becomes a copy of it,
    /// sharing its body buffers, and is not stored). False when the window does not allow it.
    private func serveStale() -> Bool {
        guard mode == .store, ObjectFetcher.staleIfErrorAllows(stale, now: HTTPDate.currentTime()), let stale,
              case .progress(let metadata, let chunks, .complete) = stale.read(
                from: 0, headersSeen: false, isOwner: false, listener: nil) else { return false }
        server.store.remove(object)
        object.beginStreaming(metadata: metadata, lifetime: stale.lifetime)
        for chunk in chunks { _ = object.append(chunk) }
        object.finish()
        counters.increment(.staleIfError)
        return true
    }
}

/// A transaction on its way to another event loop. It is handed over whole: from the
/// moment it is sent, only the receiving loop touches it (and its fetcher, object callbacks
/// and VCL context), so no state is shared between threads.
private struct MovingTransaction: @unchecked Sendable {
    let transaction: BackendTransaction
    init(_ transaction: BackendTransaction) { self.transaction = transaction }
}
