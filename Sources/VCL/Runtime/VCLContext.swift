#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything one request's VCL can see and change. Used by one request at a time (the server
/// reuses it for the next); never shared between threads.
///
/// The server fills in the inputs (`req`, addresses, and `obj`/`beresp` when they exist; `now`
/// reads the clock unless it is set),
/// runs subroutines, then reads back the changes and the side outputs (hash parts, synthetic
/// body, log lines, bans).
public final class VCLContext {
    /// The fields live behind a pointer owned by this object: accesses through it need no
    /// dynamic exclusivity checks, which otherwise cost more than the VCL itself on the hot path.
    /// Safe because a context is used by one thread at a time and never escapes its accessors.
    struct State {
        var clientIP = VCLIP.unspecified
        var serverIP = VCLIP.unspecified
        var localIP = VCLIP.unspecified
        var remoteIP = VCLIP.unspecified
        var clientIdentity: String?
        var listener = VCLListener.none
        var serverHostname = "localhost"
        var serverIdentity = "shellac"
        var now: Double = 0
        var hashData: [String] = []
        var syntheticBody = ""
        /// vcl_init is running (some functions may only be called there).
        var initializing = false
        /// `sess.timeout_idle`, and whether VCL set it (it then holds for the session).
        var sessionTimeoutIdle: Double = 5
        var sessionTimeoutIdleChanged = false
        var logLines: [String] = []
        var syslogLines: [(priority: Int, text: String)] = []
        var bans: [String] = []
        /// Why the last `std.ban()` was refused (`std.ban_error()`); empty when it was not.
        var banError = ""
        var timestamps: [(label: String, time: Double)] = []
        var cacheRequestBodyLimit: Int64?
        /// `std.rollback()`'s copies: the request as it arrived, the backend request as the
        /// fetch began; and whether the backend request was rolled back (the fetch then fails).
        var receivedRequest: VCLClientRequest?
        var startingBackendRequest: VCLBackendRequest?
        var backendRolledBack = false
        var failure: String?
        var backendHealth: ((String) -> Bool)?
        /// The server's reading of request fields (`req.can_gzip`); weak, as `purger`.
        weak var fieldRules: VCLFieldRules?
        /// The store, for the purge functions (weak: the server's session owns this context).
        weak var purger: VCLPurger?
        /// The stores' gauges (`storage.NAME.used_space`); weak, as `purger`.
        weak var storageGauges: VCLStorageGauges?
        /// Where `std.cache_req_body()` keeps the body; weak, as `purger`.
        weak var requestBodyStore: VCLRequestBodyStore?
        var randomState: UInt64 = 0x9E37_79B9_7F4A_7C15
    }

    private let state: UnsafeMutablePointer<State>
    // The five large messages each live behind a pointer of their own and are reached by
    // address, not through `_read`/`_modify` coroutines: a coroutine whose frame holds one of
    // these structs mallocs that frame on every access (perf: ~5 mallocs per cache hit).
    private let reqStorage: UnsafeMutablePointer<VCLClientRequest>
    private let bereqStorage: UnsafeMutablePointer<VCLBackendRequest>
    private let berespStorage: UnsafeMutablePointer<VCLBackendResponse>
    private let objStorage: UnsafeMutablePointer<VCLObject>
    private let respStorage: UnsafeMutablePointer<VCLResponse>

    public var req: VCLClientRequest {
        unsafeAddress { UnsafePointer(reqStorage) }
        unsafeMutableAddress { reqStorage }
    }

    public var bereq: VCLBackendRequest {
        unsafeAddress { UnsafePointer(bereqStorage) }
        unsafeMutableAddress {
            backendSideChanged = true
            return bereqStorage
        }
    }

    public var beresp: VCLBackendResponse {
        unsafeAddress { UnsafePointer(berespStorage) }
        unsafeMutableAddress {
            backendSideChanged = true
            return berespStorage
        }
    }

    /// Whether `bereq` or `beresp` changed since the last `reset` (a client-side context never
    /// changes them, so its reset skips them).
    private var backendSideChanged = true

    public var obj: VCLObject {
        unsafeAddress { UnsafePointer(objStorage) }
        unsafeMutableAddress { objStorage }
    }

    public var resp: VCLResponse {
        unsafeAddress { UnsafePointer(respStorage) }
        unsafeMutableAddress { respStorage }
    }

    public var clientIP: VCLIP {
        _read { yield state.pointee.clientIP }
        _modify { yield &state.pointee.clientIP }
    }

    public var serverIP: VCLIP {
        _read { yield state.pointee.serverIP }
        _modify { yield &state.pointee.serverIP }
    }

    public var localIP: VCLIP {
        _read { yield state.pointee.localIP }
        _modify { yield &state.pointee.localIP }
    }

    public var remoteIP: VCLIP {
        _read { yield state.pointee.remoteIP }
        _modify { yield &state.pointee.remoteIP }
    }

    public var clientIdentity: String? {
        _read { yield state.pointee.clientIdentity }
        _modify { yield &state.pointee.clientIdentity }
    }

    /// The session's listen socket (`local.socket`, `local.endpoint`).
    public var listener: VCLListener {
        _read { yield state.pointee.listener }
        _modify { yield &state.pointee.listener }
    }

    public var serverHostname: String {
        _read { yield state.pointee.serverHostname }
        _modify { yield &state.pointee.serverHostname }
    }

    public var serverIdentity: String {
        _read { yield state.pointee.serverIdentity }
        _modify { yield &state.pointee.serverIdentity }
    }

    /// Seconds since the Unix epoch: the value set, or else the clock when first read after a
    /// reset (most requests never read it, and reading the clock costs a call).
    public var now: Double {
        get {
            if state.pointee.now == 0 { state.pointee.now = Self.wallClock() }
            return state.pointee.now
        }
        set { state.pointee.now = newValue }
    }

    private static func wallClock() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The parts given to `hash_data()`, in order.
    public var hashData: [String] {
        _read { yield state.pointee.hashData }
        _modify { yield &state.pointee.hashData }
    }

    /// `sess.timeout_idle`: the connection's idle timeout (the server sets it per request).
    public var sessionTimeoutIdle: Double {
        _read { yield state.pointee.sessionTimeoutIdle }
        _modify { yield &state.pointee.sessionTimeoutIdle }
    }

    /// Whether VCL set `sess.timeout_idle` in this request.
    public var sessionTimeoutIdleChanged: Bool {
        _read { yield state.pointee.sessionTimeoutIdleChanged }
        _modify { yield &state.pointee.sessionTimeoutIdleChanged }
    }

    /// The body built by `synthetic()` in vcl_synth / vcl_backend_error.
    public var syntheticBody: String {
        _read { yield state.pointee.syntheticBody }
        _modify { yield &state.pointee.syntheticBody }
    }

    /// `std.log()` lines, for the transaction log.
    public var logLines: [String] {
        _read { yield state.pointee.logLines }
        _modify { yield &state.pointee.logLines }
    }

    /// `std.syslog()` calls: priority and text.
    public var syslogLines: [(priority: Int, text: String)] {
        _read { yield state.pointee.syslogLines }
        _modify { yield &state.pointee.syslogLines }
    }

    /// Ban expressions issued by `ban()` (and legacy `purge_url`), for the server to apply.
    public var bans: [String] {
        _read { yield state.pointee.bans }
        _modify { yield &state.pointee.bans }
    }

    /// `std.ban_error()`.
    public var banError: String {
        _read { yield state.pointee.banError }
        _modify { yield &state.pointee.banError }
    }

    /// `std.timestamp()` labels with the time they were taken.
    public var timestamps: [(label: String, time: Double)] {
        _read { yield state.pointee.timestamps }
        _modify { yield &state.pointee.timestamps }
    }

    /// `std.cache_req_body()` requests the body be buffered up to this many bytes.
    public var cacheRequestBodyLimit: Int64? {
        _read { yield state.pointee.cacheRequestBodyLimit }
        _modify { yield &state.pointee.cacheRequestBodyLimit }
    }

    /// Set when VCL failed at run time (a bad conversion without fallback, a failed `return (fail)`);
    /// `run` then returns `.fail`.
    public var failure: String? {
        _read { yield state.pointee.failure }
        _modify { yield &state.pointee.failure }
    }

    /// Answers `std.healthy()` and director choices; nil means every backend is healthy.
    /// The server's rules for `req.can_gzip` (Accept-Encoding parsing lives with the cache).
    public var fieldRules: VCLFieldRules? {
        get { state.pointee.fieldRules }
        set { state.pointee.fieldRules = newValue }
    }

    /// `req.can_gzip`: whether the request's fields accept gzip.
    var requestAcceptsGzip: Bool { state.pointee.fieldRules?.acceptsGzip(reqStorage.pointee.headers) ?? false }

    public var backendHealth: ((String) -> Bool)? {
        _read { yield state.pointee.backendHealth }
        _modify { yield &state.pointee.backendHealth }
    }

    /// What purge and xkey functions purge in; nil outside a server (they then purge nothing).
    public var purger: VCLPurger? {
        get { state.pointee.purger }
        set { state.pointee.purger = newValue }
    }

    /// What `storage.NAME.used_space` and `free_space` read; nil outside a server.
    public var requestBodyStore: VCLRequestBodyStore? {
        get { state.pointee.requestBodyStore }
        set { state.pointee.requestBodyStore = newValue }
    }

    public var storageGauges: VCLStorageGauges? {
        get { state.pointee.storageGauges }
        set { state.pointee.storageGauges = newValue }
    }

    /// Regex match space for this request's thread.
    let scratch = VCLRegex.Scratch()

    /// State of the random director's generator for this request (seed it for reproducible picks).
    public var randomState: UInt64 {
        _read { yield state.pointee.randomState }
        _modify { yield &state.pointee.randomState }
    }

    public init() {
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        reqStorage = Self.allocate(VCLClientRequest())
        bereqStorage = Self.allocate(VCLBackendRequest())
        berespStorage = Self.allocate(VCLBackendResponse())
        objStorage = Self.allocate(VCLObject())
        respStorage = Self.allocate(VCLResponse())
    }

    private static func allocate<Value>(_ value: Value) -> UnsafeMutablePointer<Value> {
        let pointer = UnsafeMutablePointer<Value>.allocate(capacity: 1)
        pointer.initialize(to: value)
        return pointer
    }

    deinit {
        Self.release(state)
        Self.release(reqStorage)
        Self.release(bereqStorage)
        Self.release(berespStorage)
        Self.release(objStorage)
        Self.release(respStorage)
    }

    private static func release<Value>(_ pointer: UnsafeMutablePointer<Value>) {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }

    /// Clears the request state for the next request on this thread, keeping allocated scratch
    /// space and the per-server settings (`serverHostname`, `serverIdentity`, `backendHealth`).
    /// A cleared `bereq` names `backend` (the program's default backend).
    ///
    /// A caller that sets every field of `obj` and `resp` before running a subroutine that
    /// can read them (the server does, on each hit and each delivery) passes
    /// `objectAndResponse: false` and saves clearing them twice.
    public func reset(objectAndResponse: Bool = true, backend: String? = nil) {
        reqStorage.pointee = VCLClientRequest()
        reqStorage.pointee.backendHint = backend
        // Straight through the storage: the accessors would mark the backend side changed.
        if backendSideChanged || bereqStorage.pointee.backend != backend {
            bereqStorage.pointee = VCLBackendRequest()
            bereqStorage.pointee.backend = backend
            berespStorage.pointee = VCLBackendResponse()
            backendSideChanged = false
        }
        if objectAndResponse {
            obj = VCLObject()
            resp = VCLResponse()
        }
        state.pointee.clientIP = .unspecified
        state.pointee.serverIP = .unspecified
        state.pointee.localIP = .unspecified
        state.pointee.remoteIP = .unspecified
        state.pointee.clientIdentity = nil
        state.pointee.now = 0
        // Emptied only when used: emptying an empty array still makes a new buffer.
        if !state.pointee.hashData.isEmpty { state.pointee.hashData.removeAll(keepingCapacity: true) }
        if !state.pointee.syntheticBody.isEmpty { state.pointee.syntheticBody = "" }
        if !state.pointee.logLines.isEmpty { state.pointee.logLines.removeAll(keepingCapacity: true) }
        if !state.pointee.syslogLines.isEmpty { state.pointee.syslogLines.removeAll(keepingCapacity: true) }
        if !state.pointee.bans.isEmpty { state.pointee.bans.removeAll(keepingCapacity: true) }
        if !state.pointee.timestamps.isEmpty { state.pointee.timestamps.removeAll(keepingCapacity: true) }
        state.pointee.cacheRequestBodyLimit = nil
        if state.pointee.receivedRequest != nil { state.pointee.receivedRequest = nil }
        state.pointee.sessionTimeoutIdleChanged = false
        if !state.pointee.banError.isEmpty { state.pointee.banError = "" }
        state.pointee.failure = nil
    }

    func isHealthy(_ backend: String) -> Bool { backendHealth?(backend) ?? true }

    /// Keeps the request as it is now, for `std.rollback(req)`.
    public func keepReceivedRequest() { state.pointee.receivedRequest = reqStorage.pointee }

    /// Keeps the backend request as it is now, for `std.rollback(bereq)`.
    public func keepStartingBackendRequest() { state.pointee.startingBackendRequest = bereqStorage.pointee }

    /// `std.rollback(bereq)` ran (in vcl_backend_response, the fetch then fails); read once.
    public func takeBackendRollback() -> Bool {
        defer { state.pointee.backendRolledBack = false }
        return state.pointee.backendRolledBack
    }

    func rollBackRequest() {
        guard let kept = state.pointee.receivedRequest else { return }
        Self.restore(&reqStorage.pointee, from: kept)
    }

    func rollBackBackendRequest() {
        guard let kept = state.pointee.startingBackendRequest else { return }
        Self.restore(&bereqStorage.pointee, from: kept)
        state.pointee.backendRolledBack = true
    }

    /// A request's line and fields back as `kept` has them (its other state stays).
    private static func restore<Request: VCLRequestParts>(_ request: inout Request, from kept: Request) {
        request.method = kept.method
        request.url = kept.url
        request.proto = kept.proto
        request.headers = kept.headers
    }

    /// Whether vcl_init is running.
    var isInitializing: Bool {
        get { state.pointee.initializing }
        set { state.pointee.initializing = newValue }
    }

    func fail(_ message: String) {
        if failure == nil { failure = message }
    }

    /// A status VCL sets on `resp` or `beresp`, checked as Varnish does (the VCL fails on a
    /// negative one, one above 65535, or one whose last three digits are under 100); nil then.
    /// Digits above the third are VCL's own signalling: they stay in `.status` and go from
    /// the wire.
    func checkedStatus(_ value: Int64, of message: String) -> Int? {
        if value < 0 {
            fail("\(message).status (\(value)) is negative")
        } else if value > 65535 {
            fail("\(message).status (\(value)) > 65535")
        } else if value % 1000 < 100 {
            fail("illegal \(message).status (\(value)) (..0##)")
        } else {
            return Int(value)
        }
        return nil
    }
}
