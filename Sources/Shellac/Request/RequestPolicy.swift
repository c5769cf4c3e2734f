import NIOCore
import ShellacCache
import ShellacLog
import VCL

/// What every request step asks when it must decide: "what now?". In Varnish that is the
/// call of the state's VCL subroutine. Two policies answer:
/// - `VCLSession`: the loaded VCL program with user code, run in a context borrowed for the
///   request;
/// - `BuiltinPolicy`: Varnish's `builtin.vcl` as Swift, for a VCL without user code (the
///   usual case, and the fastest path). Its rules are `NativeBuiltin`'s, which the VCL tests
///   hold equal to the built-in VCL's text.
///
/// Class-bound so that a step holds it as one reference: no boxing, no allocation.
protocol RequestPolicy: AnyObject {
    /// `vcl_recv`. `request` is left as VCL changed it (method, URL, headers).
    func receive(_ request: inout RequestHead, store: CacheStore) -> VCLAction

    /// `vcl_hash`: the cache key. `serverAddress` is read only for a request without Host.
    func hash(_ request: RequestHead, serverAddress: () -> String) -> CacheKey

    /// What `vcl_recv` asked of the lookup (`req.ttl`, `req.grace`, `req.hash_always_miss`,
    /// `req.hash_ignore_busy`).
    var lookupOptions: LookupOptions { get }

    /// `std.late_100_continue(true)` in `vcl_recv`: an owed `100 Continue` waits until the
    /// body is read.
    var continuesLate: Bool { get }

    /// `vcl_hit`, on a fresh (or graced) object found at `now`.
    func hit(_ object: CachedObject, now: Double) -> VCLAction

    /// `vcl_miss`.
    func miss() -> VCLAction

    /// `vcl_pass`.
    func pass() -> VCLAction

    /// `vcl_pipe`.
    func pipe() -> VCLAction

    /// `vcl_purge`, after the purge.
    func purge() -> VCLAction

    /// `vcl_synth`: writes the status line and the fields (not the framing ones) of the
    /// response for `status`, and returns its body, or nil for `return (restart)`.
    func synthesize(status: Int, reason: String?, xid: UInt64, suggestingClose: Bool, into out: inout ByteBuffer) -> String?

    /// `vcl_deliver`: writes the status line and the fields (not the framing ones) of a
    /// stored response delivered to this client, and returns `.deliver`; or, when VCL says
    /// otherwise (restart, synth, fail), writes nothing and returns that.
    func writeDeliveryHead(
        _ object: CachedObject, metadata: ObjectMetadata, xid: UInt64, isHit: Bool, now: Double,
        into out: inout ByteBuffer) -> VCLAction

    /// Whether another `restart` is allowed; counts it (`req.restarts`) when it is.
    func restart() -> Bool

    /// The backend a pipe goes to.
    func pipeBackend(default backend: Backend) -> Backend

    /// The backend side of a fetch this request starts: the VCL that runs
    /// `vcl_backend_fetch` and `vcl_backend_response` on `request`, or nil for the built-in
    /// policy in Swift.
    func backendPolicy(for request: BackendRequest, xid: UInt64, log: VSLBuffer) -> VCLBackendPolicy?
}
