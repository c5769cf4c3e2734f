import NIOCore
import NIOHTTP1

/// Receives one backend connection's response parts and hands them to whichever exchange is
/// using the connection now (connections are reused across fetches).
final class BackendResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = BackendResponsePart

    /// Held strongly while an exchange runs; cleared when it ends, breaking the cycle.
    var exchange: BackendExchange?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        exchange?.backendDidReceive(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        let exchange = self.exchange
        self.exchange = nil
        exchange?.backendDidClose(error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let exchange = self.exchange
        self.exchange = nil
        exchange?.backendDidClose(error: error)
        context.close(promise: nil)
    }
}

/// One request/response exchange on a backend connection.
protocol BackendExchange: AnyObject {
    func backendDidReceive(_ part: BackendResponsePart)
    func backendDidClose(error: Error?)
}
