import NIOCore
import ShellacCache
import ShellacLog
import Synchronization

/// Everything a client connection needs from the running server, shared by all connections.
final class ServerContext: Sendable {
    /// What `-p` and `param.set` made of the parameters.
    let live: LiveParameters
    /// The parameters now (takes a lock: the client path keeps a copy, see `LiveParameters`).
    var parameters: Parameters { live.current }
    let store: CacheStore
    let statistics: Statistics
    /// Each loop's counters (summed by `statistics` on read).
    let counters: PerEventLoop<CounterBlock>
    /// Each loop's block of transaction ids.
    let transactionIDs: PerEventLoop<TransactionIDBlock>
    /// Where the loops' blocks come from (`debug.xid` restarts it).
    let ids: TransactionIDs
    let backend: Backend
    /// Each loop's keep-alive backend connections.
    let pools: PerEventLoop<BackendConnectionPool>
    /// Each loop's idle VCL sessions (see `VCLSessionPool`).
    let vclSessions: PerEventLoop<VCLSessionPool>
    /// Client connections open now (for `max_connections`).
    let openConnections = Atomic<Int>(0)
    /// The loaded VCL programs; a request reads `vcl.current` once and keeps it.
    let vcl: VCLRegistry
    /// The transaction log's ring, and each loop's buffer of records on their way to it.
    let logRing: VSLRing
    /// `VBE.*` counters.
    let backendCounters: BackendCounters
    /// Backends not connected to for a while after a failed connect.
    let holddown = BackendHolddown()
    /// Each loop's response-time buckets (see `ResponseTimes`).
    let times: PerEventLoop<ResponseTimes.Block>

    init(
        parameters: LiveParameters, store: CacheStore, statistics: Statistics, backend: Backend, vcl: VCLRegistry,
        logRing: VSLRing, responseTimes: ResponseTimes = ResponseTimes(), group: EventLoopGroup,
        ids: TransactionIDs = TransactionIDs(), backendCounters: BackendCounters = BackendCounters()
    ) {
        self.backendCounters = backendCounters
        self.times = PerEventLoop(group: group) { _ in responseTimes.makeBlock() }
        self.logRing = logRing
        let initial = parameters.current
        self.live = parameters
        self.store = store
        self.statistics = statistics
        self.backend = backend
        let allPools = group.makeIterator().map { BackendConnectionPool(eventLoop: $0, live: parameters) }
        let byLoop = Dictionary(allPools.map { (ObjectIdentifier($0.eventLoop), $0) }, uniquingKeysWith: { first, _ in first })
        self.allPools = allPools
        self.pools = PerEventLoop(group: group) { loop in byLoop[ObjectIdentifier(loop)] ?? BackendConnectionPool(eventLoop: loop, live: parameters) }
        self.vclSessions = PerEventLoop(group: group) { _ in VCLSessionPool(
                log: VSLBuffer(ring: logRing, capacity: initial.vslBuffer, recordLimit: initial.vslRecordLimit, mask: initial.vslMask),
                store: store) }
        self.counters = PerEventLoop(group: group) { _ in statistics.makeBlock() }
        self.ids = ids
        self.transactionIDs = PerEventLoop(group: group) { _ in TransactionIDBlock(source: ids) }
        self.vcl = vcl
    }

    /// Every loop's pool, to find idle backend connections on other loops.
    private let allPools: [BackendConnectionPool]

    /// A pool, other than `own`, that holds idle backend connections now.
    func poolWithIdleConnections(excluding own: BackendConnectionPool) -> BackendConnectionPool? {
        allPools.first { $0 !== own && $0.hasIdleConnections }
    }

    /// The `.max_connections` gates of the backends that have one.
    private let gates = Mutex<[Backend: BackendGate]>([:])

    /// The gate of `backend`, which has a connection limit.
    func gate(for backend: Backend, limit: Int) -> BackendGate {
        gates.withLock { gates in
            if let gate = gates[backend] { return gate }
            let gate = BackendGate(limit: limit)
            gates[backend] = gate
            return gate
        }
    }

    var fetchTimeouts: FetchTimeouts {
        let parameters = self.parameters
        return FetchTimeouts(
            connect: parameters.connectTimeout, firstByte: parameters.firstByteTimeout,
            betweenBytes: parameters.betweenBytesTimeout)
    }
}
