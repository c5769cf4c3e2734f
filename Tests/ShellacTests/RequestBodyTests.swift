import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Shellac

/// Request bodies: streamed to the backend as they arrive (the flow control as a value
/// without sockets, then over real sockets), resent only when kept, drained when the answer
/// needs no body, read whole when the VCL calls `std.cache_req_body`.
@Suite("Request bodies")
struct RequestBodyTests {
    @Test("flow control: past the window the client is paused; written bytes resume it at half")
    func flowControl() {
        let body = RequestBody(declaredLength: nil)
        let resumed = TestCounter()
        body.onDrained = { resumed.bump() }
        var sent: [Int] = []
        body.send { event in if case .data(let part) = event { sent.append(part.readableBytes) } }
        let part = ByteBuffer(repeating: 0x61, count: 64 << 10)
        for _ in 0..<4 { body.append(part) }
        #expect(!body.shouldPause())  // 256 KiB: at the window, not past it
        body.append(part)
        #expect(body.shouldPause())
        body.written(64 << 10)
        #expect(resumed.value == 0)  // still above half the window
        body.written(3 * 64 << 10)
        #expect(resumed.value == 1 && !body.isPaused)
        #expect(sent.count == 5)
        #expect(!body.canSend)  // 320 KiB sent: past the replay limit, it cannot go again
    }

    @Test("a small streamed body is kept as it is sent, and sent again after a failed attempt")
    func replay() {
        let body = RequestBody(declaredLength: 10)
        var first: [String] = []
        body.send { event in if case .data(let part) = event { first.append(String(buffer: part)) } }
        body.append(ByteBuffer(string: "hello"))
        var second: [String] = []
        var ended = false
        body.send { event in
            switch event {
            case .data(let part): second.append(String(buffer: part))
            case .end: ended = true
            case .failed: Issue.record("a small body can be sent again")
            }
        }
        body.append(ByteBuffer(string: "world"))
        body.finish()
        #expect(first == ["hello"] && second == ["hello", "world"] && ended)
    }

    /// A raw origin: counts the bytes it receives and answers `200 ok` once it has `expect`.
    final class ByteCountingOrigin: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Atomic<Int>(0)
        let expect: Int

        init(expect: Int) { self.expect = expect }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let total = received.add(unwrapInboundIn(data).readableBytes, ordering: .relaxed).newValue
            if total >= expect {
                context.writeAndFlush(NIOAny(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")), promise: nil)
            }
        }
    }

    @Test("a POST body reaches the backend while the client is still sending it")
    func streamsWhileArriving() async throws {
        let size = 400_000
        let origin = ByteCountingOrigin(expect: size + 100)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(origin) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        try await withProxy(backendPort: port) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: \(size)\r\n\r\n")
            try await client.send(String(repeating: "a", count: size / 2))
            // Half the body is out: the backend has the head and most of that half already.
            let early = await pollUntil(timeout: .seconds(3)) { origin.received.load(ordering: .relaxed) > size / 4 }
            #expect(early, "the backend got \(origin.received.load(ordering: .relaxed)) bytes of the first half")
            try await client.send(String(repeating: "b", count: size / 2))
            let response = try await client.readResponse(timeout: .seconds(5))
            #expect(response.status == 200 && response.bodyString == "ok")
            await client.close()
        }
    }

    @Test("a chunked request body goes to the backend chunked, whole; a POST answered without its body is drained and the next request is read")
    func chunkedAndDrained() async throws {
        let origin = try await RequestDefenceTests.echoOrigin()
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_recv {
                if (req.url == "/refused") { return (synth(403, "Forbidden")); }
                return (pass);
            }
            """)
        try await withProxy(origin: origin, vclFile: vcl) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send(
                "POST /chunks HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            let echoed = try await client.readResponse()
            #expect(echoed.status == 200 && echoed.bodyString == "path=/chunks body=hello world")
            // Refused before its body arrives: the body is read and dropped first (as Varnish
            // does), then the answer, then another request.
            try await client.send("POST /refused HTTP/1.1\r\nHost: example.com\r\nContent-Length: 10\r\n\r\n")
            try await client.send("0123456789GET /after HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let refused = try await client.readResponse()
            #expect(refused.status == 403 && refused.header("Connection") == nil)
            let after = try await client.readResponse()
            #expect(after.status == 200 && after.bodyString == "path=/after body=")
            await client.close()
        }
    }

    @Test("a large streamed body cannot be sent twice: a retry is a 503; with std.cache_req_body it is resent")
    func retryNeedsCachedBody() async throws {
        let origin = try await TestOrigin.start { request in
            request.header("X-Try") == "0"
                ? TestOrigin.Response(status: .internalServerError)
                : TestOrigin.Response(body: "got \(request.body.count)")
        }
        func vcl(caching: Bool) throws -> String {
            try VCLRequestStatesTests.file("""
                vcl 4.1;
                import std;
                backend origin { .host = "192.0.2.1"; .port = "80"; }
                sub vcl_recv {
                    \(caching ? "std.cache_req_body(1MB);" : "")
                    return (pass);
                }
                sub vcl_backend_fetch { set bereq.http.X-Try = bereq.retries; }
                sub vcl_backend_response { if (beresp.status == 500) { return (retry); } }
                """)
        }
        let payload = String(repeating: "x", count: 100_000)
        let request = "POST /big HTTP/1.1\r\nHost: example.com\r\nContent-Length: \(payload.utf8.count)\r\nConnection: close\r\n\r\n\(payload)"
        try await withProxy(backendPort: origin.port, vclFile: try vcl(caching: false)) { proxy in
            let response = try await RawHTTPClient.exchange(port: proxy.port, request, timeout: .seconds(8))
            #expect(response.status == 503)
        }
        try await withProxy(origin: origin, vclFile: try vcl(caching: true)) { proxy in
            let response = try await RawHTTPClient.exchange(port: proxy.port, request, timeout: .seconds(8))
            #expect(response.status == 200 && response.bodyString == "got 100000")
        }
    }

    @Test("HTTP/1.0 POST and PUT without Content-Length: 400", arguments: ["POST", "PUT"])
    func http10WithoutLength(_ method: String) async throws {
        let origin = try await RequestDefenceTests.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, _) = try await RequestDefenceTests.exchange(proxy, "\(method) /x HTTP/1.0\r\nHost: example.com\r\n\r\n")
            #expect(response.status == 400)
            #expect(origin.requestCount == 0)
        }
    }
}
