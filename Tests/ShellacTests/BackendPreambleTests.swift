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

    /// A server on 127.0.0.1 whose connections all go to `handler`.
    static func recordingServer(_ handler: RecordingHandler) async throws -> Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    @Test("the preamble's bytes reach the backend before the first request on a new connection")
    func preambleFirst() async throws {
        let preamble = "POST /preamble HTTP/7.3\nHeader: 42\n\n\n"
        let handler = RecordingHandler(skip: preamble.utf8.count)
        let server = try await Self.recordingServer(handler)
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

    @Test(".proxy_header = 1 and 2: a PROXY header with the client's addresses before each request, on a connection of its own")
    func proxyHeader() async throws {
        for version in [1, 2] {
            let handler = RecordingHandler(skip: 0)
            let connections = Mutex(0)
            let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    connections.withLock { $0 += 1 }
                    return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            defer { server.close(promise: nil as EventLoopPromise<Void>?) }
            let port = try #require(server.localAddress?.port)
            let vcl = try VCLRequestStatesTests.file("""
                vcl 4.1;
                backend s1 { .host = "127.0.0.1"; .port = "\(port)"; .proxy_header = \(version); }
                sub vcl_recv { return (pass); }
                """)
            try await withProxy(backendPort: port, vclFile: vcl, keepBackends: true) { proxy in
                let client = try await RawHTTPClient.connect(port: proxy.port)
                try await client.send("GET /p HTTP/1.1\r\nHost: h\r\n\r\n")
                let response = try await client.readResponse()
                #expect(response.status == 200 && response.bodyString == "ok")
                await client.close()
            }
            let received = handler.received.withLock { $0 }
            if version == 1 {
                let text = String(decoding: received, as: UTF8.self)
                #expect(text.hasPrefix("PROXY TCP4 127.0.0.1 127.0.0.1 "), "\(text)")
                #expect(text.contains(" \r\nGET /p HTTP/1.1\r\n") || text.contains("\r\nGET /p HTTP/1.1\r\n"))
            } else {
                let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C]
                #expect(Array(received.prefix(16)) == signature)
                #expect(Array(received[16..<20]) == [127, 0, 0, 1])
                #expect(String(decoding: received.dropFirst(28), as: UTF8.self).hasPrefix("GET /p HTTP/1.1\r\n"))
            }
            #expect(connections.withLock { $0 } == 1)
        }
    }
}
