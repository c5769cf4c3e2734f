/// Everything one request's VCL can see and change. One per request; not shared between threads.
///
/// The server fills in the inputs (`req`, addresses, `now`, and `obj`/`beresp` when they exist),
/// runs subroutines, then reads back the changes and the side outputs (hash parts, synthetic
/// body, log lines, bans).
public final class VCLContext {
    public var req = VCLClientRequest()
    public var bereq = VCLBackendRequest()
    public var beresp = VCLBackendResponse()
    public var obj = VCLObject()
    public var resp = VCLResponse()

    public var clientIP = VCLIP.unspecified
    public var serverIP = VCLIP.unspecified
    public var localIP = VCLIP.unspecified
    public var remoteIP = VCLIP.unspecified
    public var clientIdentity: String?
    public var serverHostname = "localhost"
    public var serverIdentity = "shellac"
    /// Seconds since the Unix epoch.
    public var now: Double = 0

    /// The parts given to `hash_data()`, in order.
    public var hashData: [String] = []
    /// The body built by `synthetic()` in vcl_synth / vcl_backend_error.
    public var syntheticBody = ""
    /// `std.log()` lines, for the transaction log.
    public var logLines: [String] = []
    /// `std.syslog()` calls: priority and text.
    public var syslogLines: [(priority: Int, text: String)] = []
    /// Ban expressions issued by `ban()` (and legacy `purge_url`), for the server to apply.
    public var bans: [String] = []
    /// `std.timestamp()` labels with the time they were taken.
    public var timestamps: [(label: String, time: Double)] = []
    /// `std.cache_req_body()` requests the body be buffered up to this many bytes.
    public var cacheRequestBodyLimit: Int64?
    /// Set when VCL failed at run time (a bad conversion without fallback, a failed `return (fail)`);
    /// `run` then returns `.fail`.
    public var failure: String?

    /// Answers `std.healthy()` and director choices; nil means every backend is healthy.
    public var backendHealth: ((String) -> Bool)?

    /// Regex match space for this request's thread.
    let scratch = VCLRegex.Scratch()
    /// State of the random director's generator for this request (seed it for reproducible picks).
    public var randomState: UInt64 = 0x9E37_79B9_7F4A_7C15

    public init() {}

    /// Clears everything for the next request on this thread, keeping allocated scratch space.
    public func reset() {
        req = VCLClientRequest()
        bereq = VCLBackendRequest()
        beresp = VCLBackendResponse()
        obj = VCLObject()
        resp = VCLResponse()
        clientIP = .unspecified
        serverIP = .unspecified
        localIP = .unspecified
        remoteIP = .unspecified
        clientIdentity = nil
        now = 0
        hashData.removeAll(keepingCapacity: true)
        syntheticBody = ""
        logLines.removeAll(keepingCapacity: true)
        syslogLines.removeAll(keepingCapacity: true)
        bans.removeAll(keepingCapacity: true)
        timestamps.removeAll(keepingCapacity: true)
        cacheRequestBodyLimit = nil
        failure = nil
    }

    func isHealthy(_ backend: String) -> Bool { backendHealth?(backend) ?? true }

    func fail(_ message: String) {
        if failure == nil { failure = message }
    }
}
