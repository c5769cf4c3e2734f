import NIOCore
import NIOPosix

/// A piped connection (`vcl_pipe`): bytes go both ways between the client and a backend
/// connection of its own until either side closes.
///
/// Flow control: each side is read only while the other can take more (its writability), so
/// a slow reader at either end makes Shellac hold no more than NIO's write buffer limit and
/// a socket's worth of bytes, however much the other end sends. Lives on the client's loop
/// (the backend connection is made on the same loop).
final class PipeSession {
    private let client: Channel
    private var backend: Channel?
    /// Client bytes that arrived before the backend connection was ready.
    private var pending: ByteBuffer?
    private var clientClosed = false

    init(client: Channel) {
        self.client = client
    }

    /// Connects to `backend` and sends `request` (the request head, and any body bytes
    /// already read). `failed` runs when no connection can be made.
    func connect(
        to backend: Backend, sending request: ByteBuffer, connectTimeout: Double, pool: BackendConnectionPool?,
        failed: @escaping @Sendable () -> Void
    ) {
        let client = self.client
        if let channel = pool?.takeIdleForPipe(backend),
           (try? channel.pipeline.syncOperations.addHandler(PipeRelayHandler(peer: client))) != nil
        {
            return attach(channel, sending: request)
        }
        let loopBound = NIOLoopBound(self, eventLoop: client.eventLoop)
        let bootstrap = ClientBootstrap(group: client.eventLoop)
            .connectTimeout(.nanoseconds(Int64(connectTimeout * 1e9)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(PipeRelayHandler(peer: client))
                }
            }
        let connected = backend.unixPath.map { bootstrap.connect(unixDomainSocketPath: $0) }
            ?? bootstrap.connect(host: backend.host, port: backend.port)
        connected.whenComplete { result in
                let session = loopBound.value
                switch result {
                case .success(let channel):
                    session.attach(channel, sending: request)
                case .failure:
                    if !session.clientClosed { failed() }
                }
            }
    }

    /// The backend connection is ready: the request, the client bytes held meanwhile, then
    /// bytes both ways.
    private func attach(_ channel: Channel, sending request: ByteBuffer) {
        guard !clientClosed else {
            channel.close(promise: nil)
            return
        }
        backend = channel
        channel.write(request, promise: nil)
        if let pending { channel.write(pending, promise: nil) }
        pending = nil
        channel.flush()
        clientWritabilityChanged()
        Self.setReading(client, channel.isWritable)
    }

    /// Client bytes held while the backend connection is being made, at most (then the
    /// client is not read until it is ready).
    static let pendingLimit = 1 << 20

    /// Bytes from the client: to the backend. While the backend cannot take more, the client
    /// is not read.
    func clientSent(_ bytes: ByteBuffer) {
        guard let backend else {
            var bytes = bytes
            pending.setOrWriteBuffer(&bytes)
            if (pending?.readableBytes ?? 0) > Self.pendingLimit { Self.setReading(client, false) }
            return
        }
        backend.writeAndFlush(bytes, promise: nil)
        if !backend.isWritable { Self.setReading(client, false) }
    }

    /// The client's connection drained (or filled): read the backend as far as it can take.
    func clientWritabilityChanged() {
        guard let backend else { return }
        Self.setReading(backend, client.isWritable)
    }

    /// The client sent all it will: so does the backend side.
    func clientInputClosed() {
        backend?.close(mode: .output, promise: nil)
    }

    func clientDidClose() {
        clientClosed = true
        backend?.close(promise: nil)
        backend = nil
        pending = nil
    }

    /// Turns reading from `channel` on or off (on its loop, which is this one).
    static func setReading(_ channel: Channel, _ on: Bool) {
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: on)
    }
}

/// Relays bytes from a piped backend connection to the client, reading the backend only
/// while the client can take more, and closes the client when the backend closes.
final class PipeRelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let peer: Channel

    init(peer: Channel) {
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
        if !peer.isWritable { PipeSession.setReading(context.channel, false) }
    }

    /// The backend drained (or filled): read the client as far as the backend can take.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        PipeSession.setReading(peer, context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
