import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A backend's `.preamble` (a BLOB literal) goes out first on every new connection, before
/// the request, byte for byte.
@Suite("backend .preamble", .serialized)
struct BackendPreambleTests {
    /// Keeps every byte it receives; answers once it holds a whole request after `skip` bytes.
    final class RecordingHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: Mutex<[UInt8]>
        let skip: Int

        init(skip: Int) {
            self.received = Mutex([])
            self.skip = skip
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(buffer: unwrapInboundIn(data))
            let all = received.withLock { $0.append(contentsOf: bytes); return $0 }
            if all.count > skip, String(decoding: all.dropFirst(skip), as: UTF8.self).contains("\r\n\r\n") {
                let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: response)), promise: nil)
            }
        }
    }

    @Test("the preamble's bytes reach the backend before the first request on a new connection")
    func preambleFirst() async throws {
        let preamble = "POST /preamble HTTP/7.3\nHeader: 42\n\n\n"
        let handler = RecordingHandler(skip: preamble.utf8.count)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil as EventLoopPromise<Void>?) }
        let port = try #require(server.localAddress?.port)
        let base64 = Data(preamble.utf8).base64EncodedString()
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend s1 { .host = "127.0.0.1"; .port = "\(port)"; .preamble = :\(base64): ; }
            sub vcl_recv { return (pass); }
            """)
        try await withProxy(backendPort: port, vclFile: vcl, keepBackends: true) { proxy in
            let response = try await fetch(proxy.url("/"))
            #expect(response.status == 200 && response.body == "ok")
        }
        let text = handler.received.withLock { String(decoding: $0, as: UTF8.self) }
        #expect(text.hasPrefix(preamble + "GET / HTTP/1.1\r\n"), "\(text)")
    }
}
