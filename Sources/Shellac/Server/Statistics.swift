import Synchronization

/// Counters in the spirit of varnishstat (names in `snapshot()` follow Varnish's MAIN.*).
/// Relaxed atomics: each is an independent tally, read as a whole only for reporting.
public final class Statistics: Sendable {
    public let clientRequests = Atomic<Int>(0)
    public let sessions = Atomic<Int>(0)
    public let sessionsDropped = Atomic<Int>(0)
    public let cacheHits = Atomic<Int>(0)
    public let cacheGraceHits = Atomic<Int>(0)
    public let cacheMisses = Atomic<Int>(0)
    public let cacheHitForMiss = Atomic<Int>(0)
    public let cacheHitForPass = Atomic<Int>(0)
    public let cacheBusyWaits = Atomic<Int>(0)
    public let passes = Atomic<Int>(0)
    public let pipes = Atomic<Int>(0)
    public let synths = Atomic<Int>(0)
    public let backendConnections = Atomic<Int>(0)
    public let backendReuses = Atomic<Int>(0)
    public let backendFailures = Atomic<Int>(0)
    /// Reused connections found closed and tried again, and VCL's `return (retry)`s.
    public let backendRetries = Atomic<Int>(0)
    public let backendRequests = Atomic<Int>(0)
    public let fetchFailed = Atomic<Int>(0)
    public let badRequests = Atomic<Int>(0)

    public init() {}

    /// Every counter by its Varnish-style name.
    public func snapshot() -> [(name: String, value: Int)] {
        [
            ("MAIN.client_req", clientRequests.load(ordering: .relaxed)),
            ("MAIN.sess_conn", sessions.load(ordering: .relaxed)),
            ("MAIN.sess_dropped", sessionsDropped.load(ordering: .relaxed)),
            ("MAIN.cache_hit", cacheHits.load(ordering: .relaxed)),
            ("MAIN.cache_hit_grace", cacheGraceHits.load(ordering: .relaxed)),
            ("MAIN.cache_miss", cacheMisses.load(ordering: .relaxed)),
            ("MAIN.cache_hitmiss", cacheHitForMiss.load(ordering: .relaxed)),
            ("MAIN.cache_hitpass", cacheHitForPass.load(ordering: .relaxed)),
            ("MAIN.busy_sleep", cacheBusyWaits.load(ordering: .relaxed)),
            ("MAIN.s_pass", passes.load(ordering: .relaxed)),
            ("MAIN.s_pipe", pipes.load(ordering: .relaxed)),
            ("MAIN.s_synth", synths.load(ordering: .relaxed)),
            ("MAIN.backend_conn", backendConnections.load(ordering: .relaxed)),
            ("MAIN.backend_reuse", backendReuses.load(ordering: .relaxed)),
            ("MAIN.backend_fail", backendFailures.load(ordering: .relaxed)),
            ("MAIN.backend_retry", backendRetries.load(ordering: .relaxed)),
            ("MAIN.backend_req", backendRequests.load(ordering: .relaxed)),
            ("MAIN.fetch_failed", fetchFailed.load(ordering: .relaxed)),
            ("MAIN.client_req_400", badRequests.load(ordering: .relaxed)),
        ]
    }
}
