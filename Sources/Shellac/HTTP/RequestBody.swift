import NIOCore

/// A client request's body. Either whole (read before the request began: `std.cache_req_body`
/// in the VCL, or a body already read), which any number of fetches may send; or streaming:
/// handed to the one fetch that sends it as it arrives, with flow control (the client is not
/// read while more than `window` bytes wait to be written to the backend). A streamed body
/// is sent again (a retry on a fresh connection, a restart) only while what was sent of it
/// fits in `replayLimit`, which it keeps; past that it cannot be sent twice and such a retry
/// fails, as in Varnish (which never resends a body it has not cached).
///
/// Lives on the client connection's event loop; its producer (the connection) and its
/// consumer (the backend exchange) both run there.
final class RequestBody {
    enum Event {
        case data(ByteBuffer)
        case end
        case failed
    }

    /// Whether the body arrives while the request runs (not read whole before it began).
    let isStreaming: Bool
    /// The body's length, when the client declared one (nil: chunked).
    let declaredLength: Int?
    /// Bytes the client may send ahead of the backend before it is paused.
    static let window = 256 << 10
    /// A streamed body up to this size is kept as it is sent, so that it can be sent again.
    static let replayLimit = 64 << 10

    /// What was sent so far, while it fits in `replayLimit` (then `isReplayable` goes false).
    private var sent: [ByteBuffer] = []
    private var sentBytes = 0
    private var isReplayable = true

    private var pending: [ByteBuffer] = []
    private(set) var pendingBytes = 0
    /// Bytes handed to the consumer and not yet written to the backend.
    private var inFlight = 0
    private(set) var isComplete = false
    private(set) var hasFailed = false
    /// A consumer has taken bytes: a streamed body cannot be replayed.
    private(set) var isTaken = false
    /// Nobody will consume it (the response is done): bytes are dropped as they arrive.
    private var discards = false
    /// Buffer everything (a pipe sends the body whole): no flow control.
    private var collects = false
    private var consumer: ((Event) -> Void)?
    /// Each called once the body is settled: true when it has all arrived, false when it
    /// failed or more than its `limit` waits unsent (a fetch waiting to move with it, a pipe,
    /// an answer held until the body is in).
    private var waiters: [(limit: Int, done: (Bool) -> Void)] = []
    /// Called when the client may be read again after a pause.
    var onDrained: (() -> Void)?
    /// Writes the `100 Continue` the client waits for (`Expect: 100-continue`) before it
    /// sends the body: after `vcl_recv`, or, with `std.late_100_continue(true)`, when the
    /// body is first wanted. Nil once sent, or when none is owed.
    var owedContinue: (() -> Void)?

    /// Whether the client still waits for a `100 Continue` before it sends the body.
    var owesContinue: Bool { owedContinue != nil }

    /// Sends the owed `100 Continue`, once.
    func sendContinue() {
        guard let owed = owedContinue else { return }
        owedContinue = nil
        owed()
    }

    /// A streaming body, filled by `append` and `finish`.
    init(declaredLength: Int?) {
        self.isStreaming = true
        self.declaredLength = declaredLength
    }

    /// A body read whole.
    init(whole: ByteBuffer) {
        self.isStreaming = false
        self.declaredLength = whole.readableBytes
        pending = [whole]
        pendingBytes = whole.readableBytes
        isComplete = true
    }

    /// The whole body, once complete (nil while streaming, or when taken).
    var wholeBuffer: ByteBuffer? {
        guard isComplete, !isTaken || !isStreaming else { return nil }
        var all = ByteBuffer()
        all.reserveCapacity(pendingBytes)
        for part in pending { all.writeImmutableBuffer(part) }
        return all
    }

    /// Whether the body has all arrived, or failed.
    var isSettled: Bool { isComplete || hasFailed }

    /// Whether a fetch may still send it from the start.
    var canSend: Bool { !isStreaming || !isTaken || isReplayable }

    private func keep(_ buffer: ByteBuffer) {
        guard isReplayable else { return }
        sentBytes += buffer.readableBytes
        if sentBytes > Self.replayLimit {
            isReplayable = false
            sent = []
        } else {
            sent.append(buffer)
        }
    }

    /// The client is not being read until the backend catches up (`onDrained` resumes it).
    private(set) var isPaused = false

    /// After an append: whether the producer should stop reading the client for now.
    func shouldPause() -> Bool {
        if !collects && !discards && pendingBytes + inFlight > Self.window { isPaused = true }
        return isPaused
    }

    private func resume() {
        guard isPaused else { return }
        isPaused = false
        onDrained?()
    }

    // MARK: - Producer (the client connection)

    func append(_ buffer: ByteBuffer) {
        guard !discards, buffer.readableBytes > 0 else { return }
        if let consumer {
            inFlight += buffer.readableBytes
            keep(buffer)
            consumer(.data(buffer))
        } else {
            pending.append(buffer)
            pendingBytes += buffer.readableBytes
            if waiters.contains(where: { pendingBytes > $0.limit }) { dropWaiters(over: pendingBytes) }
        }
    }

    func finish() {
        isComplete = true
        consumer?(.end)
        consumer = nil
        settle(true)
    }

    func fail() {
        hasFailed = true
        consumer?(.failed)
        consumer = nil
        settle(false)
    }

    private func settle(_ arrived: Bool) {
        let waiters = self.waiters
        self.waiters = []
        for waiter in waiters { waiter.done(arrived) }
    }

    /// Tells the waiters that keep no more than `bytes` that the body is too large for them;
    /// without collecting waiters, flow control is back.
    private func dropWaiters(over bytes: Int) {
        let over = waiters.filter { bytes > $0.limit }
        waiters.removeAll { bytes > $0.limit }
        if waiters.isEmpty { collects = false }
        for waiter in over { waiter.done(false) }
    }

    /// The response is done without (all of) the body: drop what comes (anyone still
    /// waiting for it is told it will not come).
    func discardRest() {
        markUnsendable()
        dropArriving()
        settle(false)
    }

    /// Reads the rest and drops it: nobody sends it (the request answers from the cache or
    /// with a synth; Varnish's `VRB_Ignore`), and a fetch can no longer send it either.
    /// `done` says whether it all arrived (false: it failed, or the client went away).
    func drain(_ done: @escaping (Bool) -> Void) {
        if isSettled { return done(isComplete) }
        sendContinue()
        markUnsendable()
        waiters.append((limit: .max, done: done))  // (first: resuming the client may finish the body at once)
        dropArriving()
    }

    /// No fetch can send a streamed body once its bytes are dropped.
    private func markUnsendable() {
        guard isStreaming else { return }
        isTaken = true
        isReplayable = false
        sent = []
    }

    private func dropArriving() {
        discards = true
        pending = []
        pendingBytes = 0
        consumer = nil
        resume()
    }

    // MARK: - Consumers

    /// Sends the body to `handler`: what has arrived at once, the rest as it comes, then
    /// `.end`. A whole body is handed over as is (and stays for another attempt); a streamed
    /// one is taken. `.failed` at once when a streamed body was already taken.
    func send(to handler: @escaping (Event) -> Void) {
        guard canSend, !hasFailed else { return handler(.failed) }
        sendContinue()
        if !isStreaming {
            for part in pending { handler(.data(part)) }
            return handler(.end)
        }
        if isTaken {
            // Sent before, on a connection that failed: what was sent goes again first.
            for part in sent {
                inFlight += part.readableBytes
                handler(.data(part))
            }
        }
        isTaken = true
        let arrived = pending
        pending = []
        inFlight += pendingBytes
        pendingBytes = 0
        for part in arrived {
            keep(part)
            handler(.data(part))
        }
        if isComplete {
            handler(.end)
        } else {
            consumer = handler
        }
    }

    /// The consumer wrote `bytes` to the backend: past a pause, the client is read again.
    func written(_ bytes: Int) {
        inFlight = max(inFlight - bytes, 0)
        if pendingBytes + inFlight <= Self.window / 2 { resume() }
    }

    /// Calls `done` once the whole body has arrived (true), or when it fails or more than
    /// `limit` bytes wait unsent (false; flow control is back then). Until then what arrives
    /// is buffered without flow control (`limit` bounds it).
    func whenComplete(limit: Int = .max, _ done: @escaping (Bool) -> Void) {
        if isComplete { return done(true) }
        if hasFailed || pendingBytes > limit { return done(false) }
        sendContinue()
        collects = true
        waiters.append((limit: limit, done: done))
        resume()
    }
}
