import NIOCore
import NIOPosix
import Synchronization

/// The admin CLI listener (`-T addr:port`), on its own event loop so that a slow command (a
/// VCL compile) never delays client traffic.
public final class AdminServer: Sendable {
    private let commands: AdminCommands
    private let secret: [UInt8]?
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let listener = Mutex<Channel?>(nil)

    /// `secret` is the `-S` file's contents; nil means no authentication.
    public init(commands: AdminCommands, secret: [UInt8]?) {
        self.commands = commands
        self.secret = secret
    }

    /// Binds `endpoint`; returns the bound address (port 0 becomes a real port).
    @discardableResult
    public func start(endpoint: Endpoint) async throws -> SocketAddress {
        let commands = self.commands
        let secret = self.secret
        let channel: Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AdminLineDecoder()))
                        try channel.pipeline.syncOperations.addHandler(AdminChannelHandler(commands: commands, secret: secret))
                    }
                }
                .bind(host: endpoint.host.isEmpty ? "0.0.0.0" : endpoint.host, port: endpoint.port)
                .get()
        } catch {
            throw ListenError(endpoint: endpoint, underlying: error)
        }
        listener.withLock { $0 = channel }
        guard let address = channel.localAddress else { throw ListenError(endpoint: endpoint, underlying: ChannelError.inappropriateOperationForState) }
        return address
    }

    public func shutdown() async {
        let channel = listener.withLock { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
        try? await group.shutdownGracefully()
    }
}
