import NIOCore
import NIOPosix

/// A client of the admin CLI (what `shellac adm` runs): connects, answers the challenge with
/// the secret, sends requests and reads their responses.
public final class AdminClient {
    public enum ClientError: Error, CustomStringConvertible {
        case closed
        case authenticationRequired
        case authenticationFailed(AdminResponse)

        public var description: String {
            switch self {
            case .closed: "the CLI connection closed"
            case .authenticationRequired: "authentication required: give -S secretfile"
            case .authenticationFailed(let response): "authentication failed (\(response.status))"
            }
        }
    }

    private var inbound: NIOAsyncChannelInboundStream<AdminResponse>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// The first response the server sent on connect (a 107 challenge, or 200 with the banner).
    public let greeting: AdminResponse

    private init(inbound: NIOAsyncChannelInboundStream<AdminResponse>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
        guard let first = try await self.inbound.next() else { throw ClientError.closed }
        self.greeting = first
    }

    /// Connects to `host:port`, reads the greeting and runs `body` with the connection, which
    /// is closed when `body` returns.
    public static func withConnection<Result: Sendable>(
        host: String, port: Int, _ body: (AdminClient) async throws -> Result
    ) async throws -> Result {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AdminResponseDecoder()))
                        return try NIOAsyncChannel<AdminResponse, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let result = try await channel.executeThenClose { inbound, outbound in
                let client = try await AdminClient(inbound: inbound, outbound: outbound)
                return try await body(client)
            }
            try? await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Answers the greeting's challenge with `secret` (the secret file's bytes), if there is
    /// one. Throws when the server refuses.
    public func authenticate(secret: [UInt8]?) async throws {
        guard greeting.status == AdminStatus.authenticate.rawValue else { return }
        guard let secret else { throw ClientError.authenticationRequired }
        guard let challenge = AdminChallenge(body: greeting.body) else { throw ClientError.authenticationFailed(greeting) }
        let answer = try await send(["auth", challenge.response(secret: secret)])
        guard answer.status == AdminStatus.ok.rawValue else { throw ClientError.authenticationFailed(answer) }
    }

    /// Sends one request (words quoted as needed) and returns its response.
    public func send(_ words: [String]) async throws -> AdminResponse {
        try await send(line: AdminWords.join(words))
    }

    /// Sends one raw request line and returns its response.
    public func send(line: String) async throws -> AdminResponse {
        try await outbound.write(ByteBuffer(string: line + "\n"))
        guard let response = try await inbound.next() else { throw ClientError.closed }
        return response
    }
}
