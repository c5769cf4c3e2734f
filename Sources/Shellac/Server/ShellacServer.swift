import Foundation
import NIOCore
import NIOExtras
import NIOPosix
import ShellacLog
import ShellacCache
import Synchronization
import VCL

/// What `shellac` was asked to run: listeners, backend, store size and parameters.
public struct ShellacConfiguration: Sendable {
    public var listen: [Endpoint]
    public var backend: Backend
    public var storageBytes: Int
    /// The stores (`-s`), when given; nil: one store `s0` of `storageBytes` and a Transient
    /// store of the same size.
    public var storage: StorageLayout?
    public var parameters: Parameters
    /// Event loops; nil means one per CPU this process may run on (its affinity mask).
    public var threads: Int?
    /// The VCL to boot with (`-f`, or the built-in VCL for `-b`); nil means the built-in VCL
    /// with `backend`.
    public var vcl: VCLProgram?
    /// The text `vcl` was compiled from (`vcl.show`).
    public var vclSource: String?
    /// Where the transaction log's ring lives (`-n DIR` gives `DIR/_.vsl`), for `shellac log`
    /// and its kin; nil keeps it in anonymous memory (read through the CLI's `log.read`).
    public var logFile: String?

    public init(
        listen: [Endpoint], backend: Backend, storageBytes: Int = 256 << 20,
        parameters: Parameters = Parameters(), threads: Int? = nil, vcl: VCLProgram? = nil
    ) {
        self.listen = listen
        self.backend = backend
        self.storageBytes = storageBytes
        self.parameters = parameters
        self.threads = threads
        self.vcl = vcl
    }
}

/// A listen address that could not be bound (in use, not local, no permission).
public struct ListenError: Error, CustomStringConvertible {
    public var endpoint: Endpoint
    public var underlying: Error

    public var description: String {
        "cannot listen on \(endpoint.text): \(underlying)"
    }
}

/// The running accelerator: listeners, event loops, cache and backend pools.
public final class ShellacServer: Sendable {
    public let configuration: ShellacConfiguration
    public let statistics = Statistics()
    public let store: CacheStore
    /// The loaded VCL programs and the active one (`server.vcl.current` once per request).
    public let vcl: VCLRegistry
    /// The running parameters (`-p`, then `param.set`).
    public let parameters: LiveParameters
    /// The transaction log as the admin CLI's `log.read` reads it.
    public let log: TransactionLog
    /// Event loops serving clients (`MAIN.threads`).
    public let threadCount: Int
    /// `VBE.<vcl>.<backend>.*`.
    public let backendCounters = BackendCounters()
    /// Response times by handling, for `/metrics`.
    public let responseTimes = ResponseTimes()
    /// The transaction log's ring (VSL).
    public let logRing: VSLRing
    /// Why the ring is not in `configuration.logFile` (it could not be made there), if so.
    public let logFailure: String?
    /// Transaction ids (`debug.xid` restarts them).
    public let transactionIDs = TransactionIDs()
    private let group: MultiThreadedEventLoopGroup
    private let context: ServerContext
    /// One per listener (a helper serves one server channel): closes it and asks each of its
    /// connections to finish and close (graceful stop).
    private let quiescers = Mutex<[ServerQuiescingHelper]>([])
    /// The health probes of the loaded VCLs.
    private let probes: HealthProbes
    /// Reaps expired objects and runs the ban lurker once a second (Varnish's expiry thread
    /// and ban lurker).
    private let reaper = Mutex<RepeatedTask?>(nil)

    public init(configuration: ShellacConfiguration) {
        self.configuration = configuration
        self.store = CacheStore(
            layout: configuration.storage ?? StorageLayout(capacity: configuration.storageBytes),
            lruInterval: configuration.parameters.lruInterval)
        self.vcl = VCLRegistry(
            boot: configuration.vcl ?? Self.builtinVCL(for: configuration.backend), source: configuration.vclSource)
        self.threadCount = configuration.threads ?? Self.usableCores()
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threadCount)
        self.parameters = LiveParameters(configuration.parameters)
        self.probes = HealthProbes(group: group)
        (logRing, logFailure) = Self.makeRing(configuration)
        log = TransactionLog(ring: logRing)
        self.context = ServerContext(
            parameters: parameters, store: store, statistics: statistics,
            backend: configuration.backend, vcl: vcl, logRing: logRing, responseTimes: responseTimes, group: group, ids: transactionIDs,
            backendCounters: backendCounters)
    }

    /// Binds every listen address; returns the bound addresses (port 0 becomes a real port).
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        let context = self.context
        var bound: [SocketAddress] = []
        for (index, endpoint) in configuration.listen.enumerated() {
            let quiesce = ServerQuiescingHelper(group: group)
            // (An unnamed listener is a0, a1, … by its place on the command line, as in varnishd.)
            let listener = VCLListener(name: endpoint.name ?? "a\(index)", endpoint: endpoint.text)
            let channel: Channel
            do {
                let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                    }
                }
                .childChannelOption(.maxMessagesPerRead, value: 8)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    if context.openConnections.load(ordering: .relaxed) >= context.parameters.maxConnections {
                        context.counters.value(on: channel.eventLoop).increment(.sessionsDropped)
                        return channel.close()
                    }
                    // Port 0: local.endpoint names the port bound, as varnishd's does.
                    var named = listener
                    if endpoint.unixPath == nil, endpoint.port == 0, let bound = channel.parent?.localAddress,
                       let ip = bound.ipAddress, let port = bound.port {
                        named = VCLListener(name: listener.name, endpoint: ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)")
                    }
                    return channel.eventLoop.makeCompletedFuture { [named] in
                        try channel.pipeline.syncOperations.addHandler(
                            ClientConnectionHandler(server: context, expectsProxyHeader: endpoint.expectsProxyHeader,
                                                    listener: named))
                    }
                }
                if let path = endpoint.unixPath {
                    channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
                    if let mode = endpoint.unixMode, chmod(path, mode_t(mode)) != 0 {
                        throw ListenError(endpoint: endpoint, underlying: POSIXError(.EPERM))
                    }
                } else {
                    channel = try await bootstrap.childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                        .bind(host: endpoint.host.isEmpty ? "0.0.0.0" : endpoint.host, port: endpoint.port).get()
                }
            } catch let error as ListenError {
                throw error
            } catch {
                throw ListenError(endpoint: endpoint, underlying: error)
            }
            quiescers.withLock { $0.append(quiesce) }
            if let address = channel.localAddress { bound.append(address) }
        }
        let store = self.store
        let live = parameters
        let registry = self.vcl
        let reaperLoop = group.next()
        let initial = parameters.current
        let reaperLog = NIOLoopBoundBox.makeBoxSendingValue(
            VSLBuffer(ring: logRing, capacity: 16_384, recordLimit: initial.vslRecordLimit, mask: initial.vslMask),
            eventLoop: reaperLoop)
        let task = reaperLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            // Log records of transactions still under way reach readers within a second.
            context.vclSessions.forEach { $0.log.flush() }
            // In batches, so that requests get the store's lock between them. Each object
            // that goes is an `ExpKill` record (masked by default, as in Varnish).
            let log = reaperLog.value
            log.mask = live.current.vslMask
            log.vxid = 0
            log.side = .none
            let now = HTTPDate.currentTime()
            while store.reapExpired(now: now, limit: 1000, expired: { xid in
                guard log.open(.expKill) else { return }
                log.put("EXP_Expired x=")
                log.put(xid)
                log.close()
            }) == 1000 {}
            log.flush()
            let parameters = live.current
            registry.cool(now: Date().timeIntervalSince1970, cooldown: parameters.vclCooldown)
            if parameters.banLurkerSleep > 0 {
                store.lurkBans(
                    now: HTTPDate.currentTime(), age: parameters.banLurkerAge, cutoff: parameters.banCutoff,
                    batch: parameters.banLurkerBatch)
            } else {
                store.trimBans()  // (varnishd's lurker still drops the bans no object needs)
            }
        }
        reaper.withLock { $0 = task }
        let probes = self.probes
        vcl.observe(VCLRegistry.Observer(
            warmed: { probes.start($0) }, cooled: { probes.stop(vclNamed: $0.name) }))
        return bound
    }

    /// Stops accepting, lets in-flight responses finish (up to `shutdown_timeout`), then closes
    /// whatever is left and stops the event loops.
    public func shutdown() async {
        probes.stopAll()
        reaper.withLock { $0 }?.cancel()
        await quiesceConnections()
        context.pools.forEach { $0.closeAll() }
        // Closes whatever connections are left.
        try? await group.shutdownGracefully()
    }

    /// Closes the listeners and waits until every connection has finished and closed, or
    /// `shutdown_timeout` has passed. The helpers are let go here, while the loops still run:
    /// a helper's deinit completes a promise on its loop.
    private func quiesceConnections() async {
        let quiescers = self.quiescers.withLock { helpers in
            defer { helpers = [] }
            return helpers
        }
        let loop = group.next()
        let finished = loop.makePromise(of: Void.self)
        let drained = quiescers.map { quiesce in
            let promise = loop.makePromise(of: Void.self)
            quiesce.initiateShutdown(promise: promise)
            return promise.futureResult
        }
        EventLoopFuture.andAllComplete(drained, on: loop).cascade(to: finished)
        // Stop waiting at shutdown_timeout (a promise completed twice keeps the first result).
        let timeout = TimeAmount.nanoseconds(Int64(parameters.current.shutdownTimeout * 1e9))
        let timer = loop.scheduleTask(in: timeout) { finished.succeed() }
        try? await finished.futureResult.get()
        timer.cancel()
    }

    /// The log's ring where the configuration asks, or anonymous (with why) when that fails.
    private static func makeRing(_ configuration: ShellacConfiguration) -> (VSLRing, String?) {
        let size = configuration.parameters.vslSpace
        do {
            return (try VSLRing(creatingAt: configuration.logFile, size: size), nil)
        } catch {
            let failure = "transaction log: \(error); kept in memory instead"
            if let ring = try? VSLRing(creatingAt: nil, size: size) { return (ring, failure) }
            if let ring = try? VSLRing(creatingAt: nil, size: 1 << 20) { return (ring, failure) }
            // Reason: 1 MiB of anonymous memory cannot be mapped: nothing could run anyway.
            fatalError("cannot map 1 MiB for the transaction log: \(error)")
        }
    }

    /// The built-in VCL with `backend` as its only backend. It fails only for a host the VCL
    /// string syntax cannot hold (a `-b` host is already checked): then 127.0.0.1 stands in.
    static func builtinVCL(for backend: Backend) -> VCLProgram {
        if let program = try? VCLLoader.builtin(for: backend) { return program }
        if let program = try? VCLCompiler.builtinOnly(backendHost: "127.0.0.1", port: String(backend.port)) { return program }
        // Reason: the built-in VCL with a literal address is compiled by the VCL tests; failing here is a compiler bug.
        fatalError("the built-in VCL does not compile")
    }

    /// CPUs in this process's affinity mask (so `taskset -c 0 shellac` runs one event loop).
    static func usableCores() -> Int {
        // /proc/self/status has the mask as hex words: "Cpus_allowed:\tff,ffffffff".
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") })
        {
            let count = line.dropFirst("Cpus_allowed:".count).reduce(0) { count, character in
                count + (character.hexDigitValue?.nonzeroBitCount ?? 0)
            }
            if count > 0 { return min(count, System.coreCount) }
        }
        return System.coreCount
    }
}
