import NIOCore
import ShellacCache
import Synchronization

/// Everything a client connection needs from the running server, shared by all connections.
final class ServerContext: Sendable {
    /// What `-p` and `param.set` made of the parameters.
    let live: LiveParameters
    /// The parameters now (takes a lock: the client path keeps a copy, see `LiveParameters`).
    var parameters: Parameters { live.current }
    let store: CacheStore
    let statistics: Statistics
    let backend: Backend
    /// Each loop's keep-alive backend connections.
    let pools: PerEventLoop<BackendConnectionPool>
    /// Each loop's idle VCL sessions (see `VCLSessionPool`).
    let vclSessions: PerEventLoop<VCLSessionPool>
    let connections: ConnectionRegistry
    /// The loaded VCL programs; a request reads `vcl.current` once and keeps it.
    let vcl: VCLRegistry
    /// Records for `shellac log` (std.log lines, VCL errors).
    let log: TransactionLog
    private let nextXID = Atomic<UInt64>(1000)

    init(
        parameters: LiveParameters, store: CacheStore, statistics: Statistics, backend: Backend, vcl: VCLRegistry,
        log: TransactionLog, group: EventLoopGroup
    ) {
        self.live = parameters
        self.store = store
        self.statistics = statistics
        self.backend = backend
        self.pools = PerEventLoop(group: group) { BackendConnectionPool(eventLoop: $0) }
        self.vclSessions = PerEventLoop(group: group) { _ in VCLSessionPool() }
        self.connections = ConnectionRegistry()
        self.vcl = vcl
        self.log = log
    }

    /// A new transaction id (`X-Varnish`), unique for this process.
    func makeXID() -> UInt64 { nextXID.add(1, ordering: .relaxed).newValue }

    var fetchTimeouts: FetchTimeouts {
        let parameters = self.parameters
        return FetchTimeouts(
            connect: parameters.connectTimeout, firstByte: parameters.firstByteTimeout,
            betweenBytes: parameters.betweenBytesTimeout)
    }
}

/// The open client connections, so a graceful stop can ask each to finish and close.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: Channel]>([:])

    var count: Int { channels.withLock { $0.count } }

    func add(_ channel: Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func remove(_ channel: Channel) {
        _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    var all: [Channel] { channels.withLock { Array($0.values) } }
}
