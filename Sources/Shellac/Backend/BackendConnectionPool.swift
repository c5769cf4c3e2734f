import NIOCore
import NIOHTTP1
import NIOPosix
import ShellacCache
import Synchronization

/// Keep-alive connections to backends, one pool per event loop: a fetch borrows a connection
/// on its own loop, so nothing hops between threads. Only used from its loop.
final class BackendConnectionPool: @unchecked Sendable {
    // @unchecked: confined to `eventLoop`; every method asserts it runs there.
    let eventLoop: EventLoop
    private var idle: [Backend: [Channel]] = [:]
    private let maxIdlePerBackend = 64
    /// Idle connections held, for every backend: read from other loops (see
    /// `ServerContext.poolWithIdleConnections`), written by this one.
    private let idleTotal = Atomic<Int>(0)

    var hasIdleConnections: Bool { idleTotal.load(ordering: .relaxed) > 0 }

    /// `http_resp_size` and `http_resp_hdr_len` as they are now, for each connection's decoder.
    private let responseLimits: @Sendable () -> (headSize: Int, lineLength: Int)

    init(eventLoop: EventLoop, live: LiveParameters? = nil) {
        self.eventLoop = eventLoop
        self.responseLimits = {
            guard let current = live?.current else { return (32 * 1024, 8 * 1024) }
            return (current.httpResponseSize, current.httpResponseHeaderLength)
        }
    }

    /// An idle open connection, or a new one. `reused` tells which, for the retry rule.
    /// A backend `holddown` holds down gets no new connection (an idle one is still reused).
    /// `fresh`: always a new connection.
    func acquire(
        _ backend: Backend, connectTimeout: Double, holddown: BackendHolddown? = nil, fresh: Bool = false
    ) -> EventLoopFuture<(channel: Channel, reused: Bool)> {
        eventLoop.assertInEventLoop()
        while !fresh, var list = idle[backend], let channel = list.popLast() {
            idle[backend] = list
            idleTotal.subtract(1, ordering: .relaxed)
            if channel.isActive { return eventLoop.makeSucceededFuture((channel, true)) }
        }
        if let holddown, holddown.isHeld(backend, now: HTTPDate.currentTime()) {
            return eventLoop.makeFailedFuture(BackendHolddown.HeldDown())
        }
        let responseLimits = self.responseLimits
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(connectTimeout * 1e9)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder())
                    try channel.pipeline.syncOperations.addHandler(BackendResponseDecoder(limits: responseLimits))
                    try channel.pipeline.syncOperations.addHandler(BackendResponseHandler())
                }
            }
        let connected = backend.unixPath.map { bootstrap.connect(unixDomainSocketPath: $0) }
            ?? bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1).connect(host: backend.host, port: backend.port)
        return connected.flatMapThrowing { channel in
            if let preamble = backend.preamble, !preamble.isEmpty {
                // Raw bytes, written below the HTTP encoder, before the first request.
                let encoder = try channel.pipeline.syncOperations.context(handlerType: HTTPRequestEncoder.self)
                encoder.writeAndFlush(NIOAny(channel.allocator.buffer(bytes: preamble)), promise: nil)
            }
            return (channel, false)
        }
    }

    /// An idle connection to `backend` stripped of its HTTP handlers, for a pipe to relay raw
    /// bytes over (Varnish's pipe takes a pooled connection too); nil when there is none.
    func takeIdleForPipe(_ backend: Backend) -> Channel? {
        eventLoop.assertInEventLoop()
        while var list = idle[backend], let channel = list.popLast() {
            idle[backend] = list
            idleTotal.subtract(1, ordering: .relaxed)
            guard channel.isActive else { continue }
            let sync = channel.pipeline.syncOperations
            do {
                let contexts = [
                    try sync.context(handlerType: BackendResponseHandler.self),
                    try sync.context(handlerType: BackendResponseDecoder.self),
                    try sync.context(handlerType: HTTPRequestEncoder.self),
                ]
                for context in contexts { sync.removeHandler(context: context, promise: nil) }
                return channel
            } catch {
                channel.close(promise: nil)
            }
        }
        return nil
    }

    /// Returns a connection whose exchange ended cleanly and may be reused.
    func release(_ channel: Channel, to backend: Backend) {
        eventLoop.assertInEventLoop()
        guard channel.isActive else { return }
        var list = idle[backend, default: []]
        guard list.count < maxIdlePerBackend else {
            channel.close(promise: nil)
            return
        }
        list.append(channel)
        idle[backend] = list
        idleTotal.add(1, ordering: .relaxed)
    }

    func closeAll() {
        eventLoop.assertInEventLoop()
        for (_, channels) in idle { for channel in channels { channel.close(promise: nil) } }
        idle = [:]
        idleTotal.store(0, ordering: .relaxed)
    }
}
