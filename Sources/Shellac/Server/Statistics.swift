import Atomics
import Synchronization

/// Counters in the spirit of varnishstat (names follow Varnish's MAIN.*).
///
/// Each event loop counts in a `CounterBlock` of its own, so that the request path never
/// writes a cache line another core writes too; a read sums the blocks. Each counter is an
/// independent tally, read as a whole only for reporting.
public final class Statistics: Sendable {
    public enum Counter: Int, CaseIterable, Sendable {
        case clientRequests, sessions, sessionsDropped
        /// Requests found already read when the one before them was done (pipelined).
        case sessionReadAhead
        case cacheHits, cacheGraceHits, cacheMisses, cacheHitForMiss, cacheHitForPass, cacheBusyWaits
        /// Requests that slept on another's fetch and were woken by its response.
        case cacheBusyWakeups
        case passes, pipes, synths
        case backendConnections, backendReuses, backendFailures
        /// Reused connections found closed and tried again, and VCL's `return (retry)`s.
        case backendRetries
        case backendRequests, fetchFailed, badRequests
        /// Backend fetches begun (a miss's or a pass's; retries not counted again).
        case fetches
        /// Fetches not begun because the backend (or every member of a director) was sick.
        case backendUnhealthy
        /// Failed fetches answered with a stale object (`stale-if-error`; not in Varnish).
        case staleIfError
        /// Fetches refused because the backend was at `.max_connections`; fetches that waited
        /// for a connection, and those whose wait ran out.
        case backendBusy, backendWait, backendWaitFail
        /// ESI includes requested; ESI parse errors and warnings (none are raised yet).
        case esiRequests, esiErrors, esiWarnings
        /// Bytes of response heads and bodies written to clients (bodies without chunk framing).
        case responseHeaderBytes, responseBodyBytes
        /// Keys invalidated by an unsafe request's response (RFC 9111 §4.4; not in Varnish).
        case invalidations
        /// zlib streams started: deflates, inflates (fetch or delivery), fetch-side checks.
        case gzips, gunzips, testGunzips
        /// How backend response bodies were framed: for a HEAD, by Content-Length, chunked,
        /// to the close, badly; none (a 1xx, 204 or 304 apart).
        case fetchHead, fetchLength, fetchChunked, fetchEOF, fetchBad, fetchNone, fetch1xx, fetch204, fetch304
        /// Backend connections put back in the pool after a response.
        case backendRecycles
        /// Background fetches (a graced hit refreshing its object).
        case backgroundFetches
        /// Bytes of request heads and bodies read from clients.
        case requestHeaderBytes, requestBodyBytes
        /// Objects made uncacheable (a pass, hit-for-miss or hit-for-pass) and objects whose
        /// TTL + grace + keep is under `shortlived`: both kept in Transient.
        case uncacheable, shortlived
        /// Pipes open now (a gauge: each loop adds and subtracts), and pipes refused at
        /// `pipe_sess_max`.
        case pipesOpen, pipesLimited
        /// Sessions gone idle between requests (Varnish hands them to its waiter).
        case sessionHerds
        /// Sessions closed, by reason (`SessionCloseReason`).
        case closeRemote, closeRequest, closeHTTP10, closeBadRequest, closeBadBody, closeJunk, closeOverflow
        case closeTimeout, closePipe, closeSendError, closeEOF, closeResponse, closeVCLFailure

        /// The name varnishstat gives it.
        public var name: String {
            switch self {
            case .clientRequests: "MAIN.client_req"
            case .sessions: "MAIN.sess_conn"
            case .sessionsDropped: "MAIN.sess_dropped"
            case .sessionReadAhead: "MAIN.sess_readahead"
            case .cacheHits: "MAIN.cache_hit"
            case .cacheGraceHits: "MAIN.cache_hit_grace"
            case .cacheMisses: "MAIN.cache_miss"
            case .cacheHitForMiss: "MAIN.cache_hitmiss"
            case .cacheHitForPass: "MAIN.cache_hitpass"
            case .cacheBusyWaits: "MAIN.busy_sleep"
            case .cacheBusyWakeups: "MAIN.busy_wakeup"
            case .passes: "MAIN.s_pass"
            case .pipes: "MAIN.s_pipe"
            case .synths: "MAIN.s_synth"
            case .backendConnections: "MAIN.backend_conn"
            case .backendReuses: "MAIN.backend_reuse"
            case .backendFailures: "MAIN.backend_fail"
            case .backendRetries: "MAIN.backend_retry"
            case .backendRequests: "MAIN.backend_req"
            case .fetchFailed: "MAIN.fetch_failed"
            case .badRequests: "MAIN.client_req_400"
            case .fetches: "MAIN.s_fetch"
            case .backendUnhealthy: "MAIN.backend_unhealthy"
            case .staleIfError: "MAIN.fetch_stale_if_error"
            case .backendBusy: "MAIN.backend_busy"
            case .backendWait: "MAIN.backend_wait"
            case .backendWaitFail: "MAIN.backend_wait_fail"
            case .esiRequests: "MAIN.esi_req"
            case .esiErrors: "MAIN.esi_errors"
            case .esiWarnings: "MAIN.esi_warnings"
            case .responseHeaderBytes: "MAIN.s_resp_hdrbytes"
            case .responseBodyBytes: "MAIN.s_resp_bodybytes"
            case .invalidations: "MAIN.n_invalidated"
            case .gzips: "MAIN.n_gzip"
            case .gunzips: "MAIN.n_gunzip"
            case .testGunzips: "MAIN.n_test_gunzip"
            case .fetchHead: "MAIN.fetch_head"
            case .fetchLength: "MAIN.fetch_length"
            case .fetchChunked: "MAIN.fetch_chunked"
            case .fetchEOF: "MAIN.fetch_eof"
            case .fetchBad: "MAIN.fetch_bad"
            case .fetchNone: "MAIN.fetch_none"
            case .fetch1xx: "MAIN.fetch_1xx"
            case .fetch204: "MAIN.fetch_204"
            case .fetch304: "MAIN.fetch_304"
            case .backendRecycles: "MAIN.backend_recycle"
            case .backgroundFetches: "MAIN.s_bgfetch"
            case .requestHeaderBytes: "MAIN.s_req_hdrbytes"
            case .requestBodyBytes: "MAIN.s_req_bodybytes"
            case .uncacheable: "MAIN.beresp_uncacheable"
            case .shortlived: "MAIN.beresp_shortlived"
            case .pipesOpen: "MAIN.n_pipe"
            case .pipesLimited: "MAIN.pipe_limited"
            case .sessionHerds: "MAIN.sess_herd"
            case .closeRemote: "MAIN.sc_rem_close"
            case .closeRequest: "MAIN.sc_req_close"
            case .closeHTTP10: "MAIN.sc_req_http10"
            case .closeBadRequest: "MAIN.sc_rx_bad"
            case .closeBadBody: "MAIN.sc_rx_body"
            case .closeJunk: "MAIN.sc_rx_junk"
            case .closeOverflow: "MAIN.sc_rx_overflow"
            case .closeTimeout: "MAIN.sc_rx_timeout"
            case .closePipe: "MAIN.sc_tx_pipe"
            case .closeSendError: "MAIN.sc_tx_error"
            case .closeEOF: "MAIN.sc_tx_eof"
            case .closeResponse: "MAIN.sc_resp_close"
            case .closeVCLFailure: "MAIN.sc_vcl_failure"
            }
        }
    }

    private let blocks = Mutex<[CounterBlock]>([])

    public init() {}

    /// A new block of counters for one event loop (made once per loop, not per request).
    func makeBlock() -> CounterBlock {
        let block = CounterBlock()
        blocks.withLock { $0.append(block) }
        return block
    }

    /// The sum of `counter` over every loop.
    public func value(_ counter: Counter) -> Int {
        blocks.withLock { blocks in blocks.reduce(0) { $0 + $1.value(counter) } }
    }

    /// Every counter by its Varnish-style name.
    public func snapshot() -> [(name: String, value: Int)] {
        let blocks = self.blocks.withLock { $0 }
        func sum(_ counter: Counter) -> Int { blocks.reduce(0) { $0 + $1.value(counter) } }
        // varnishstat also shows the sessions as s_sess ("total sessions seen").
        // sess_closed_err: the closes varnishstat counts as errors.
        let errors = SessionCloseReason.allCases.filter(\.isError).reduce(0) { $0 + sum($1.counter) }
        let closes = SessionCloseReason.allCases.reduce(0) { $0 + sum($1.counter) }
        return Counter.allCases.map { ($0.name, sum($0)) } + [
            ("MAIN.s_sess", sum(.sessions)), ("MAIN.sess_closed", closes - errors), ("MAIN.sess_closed_err", errors),
        ]
    }
}

/// The counters one event loop writes. Relaxed atomics, so a read from another thread is
/// well defined; they are written by their own loop only, so they never bounce between cores.
final class CounterBlock: Sendable {
    private let counters: [UnsafeAtomic<Int>]

    init() {
        counters = Statistics.Counter.allCases.map { _ in UnsafeAtomic<Int>.create(0) }
    }

    deinit {
        for counter in counters { counter.destroy() }
    }

    // Each block has one writer, its loop (`PerEventLoop` hands a block out on its loop
    // only), so a relaxed load and store does what an atomic add would, without the locked
    // instruction; readers on other threads still see whole values.
    @inline(__always)
    func increment(_ counter: Statistics.Counter) {
        let cell = counters[counter.rawValue]
        cell.store(cell.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    @inline(__always)
    func add(_ counter: Statistics.Counter, _ amount: Int) {
        let cell = counters[counter.rawValue]
        cell.store(cell.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    func value(_ counter: Statistics.Counter) -> Int {
        counters[counter.rawValue].load(ordering: .relaxed)
    }
}
