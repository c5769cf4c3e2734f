import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Shellac

/// What Varnish 7.1 does with a client's request body that is not simply streamed to a fetch:
/// read and dropped before a synth or a hit (`VRB_Ignore`), kept for a background fetch, moved
/// whole with a fetch to another loop, and a failed body that still lets the head go out.
/// Over real sockets, against a real origin (each named after the varnishtest that pins it).
@Suite("Varnish's request body rules", .serialized)
struct VarnishBodyRulesTests {
    @Test("a client that closes before its body: the backend still gets the head, then the close (r01356)")
    func headBeforeFailedBody() async throws {
        let handler = BackendPreambleTests.RecordingHandler(skip: .max)  // (never answers)
        let server = try await BackendPreambleTests.recordingServer(handler)
        defer { server.close(promise: nil as EventLoopPromise<Void>?) }
        let port = try #require(server.localAddress?.port)
        let vcl = try passAll(port: port)
        try await withProxy(backendPort: port, parameters: ["first_byte_timeout=1"], vclFile: vcl, keepBackends: true) { proxy in
            // The client's EOF can come before the backend connect completes: a few times over.
            for round in 1...5 {
                let client = try await RawHTTPClient.connect(port: proxy.port)
                try await client.send("POST /x\(round) HTTP/1.1\r\nHost: a\r\nContent-Length: 56\r\n\r\n")
                await client.close()
                try await VCLTemperatureTests.waitUntil(seconds: 3) {
                    handler.received.withLock { String(decoding: $0, as: UTF8.self).contains("POST /x\(round) HTTP/1.1\r\n") }
                }
            }
            let text = handler.received.withLock { String(decoding: $0, as: UTF8.self) }
            #expect(text.contains("Content-Length: 56\r\n"))
            // Shellac still answers.
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
            let response = try await client.readResponse(timeout: .seconds(3))
            #expect(response.status == 503)  // (the recording backend never answers: first_byte_timeout)
            await client.close()
        }
    }

    /// Answers each request as soon as its head is in: 413 to a POST (before its body), 200
    /// to the rest; keeps every connection's bytes apart.
    final class EarlyAnswerHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        /// Every connection's bytes, in accept order.
        final class Connections: Sendable {
            let bytes = Mutex<[[UInt8]]>([])
        }
        let connections: Connections
        let index: Int

        init(connections: Connections) {
            self.connections = connections
            self.index = connections.bytes.withLock { $0.append([]); return $0.count - 1 }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(buffer: unwrapInboundIn(data))
            let all = connections.bytes.withLock { $0[index].append(contentsOf: bytes); return $0[index] }
            let text = String(decoding: all, as: UTF8.self)
            let heads = text.components(separatedBy: "\r\n\r\n").count - 1
            let answered = text.components(separatedBy: "HTTP/1.1\r\n").count - 1  // (request lines)
            guard heads >= 1, heads <= answered, bytes.contains(UInt8(ascii: "\n")) else { return }
            let status = text.hasPrefix("POST") && heads == 1 ? "413 Content Too Large" : "200 OK"
            let response = "HTTP/1.1 \(status)\r\nContent-Length: 2\r\n\r\nok"
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: response)), promise: nil)
        }
    }

    @Test("a backend that answers before the request's body is all sent: its connection is not reused for the next request")
    func earlyAnswerIsNotReused() async throws {
        let connections = EarlyAnswerHandler.Connections()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(EarlyAnswerHandler(connections: connections))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil as EventLoopPromise<Void>?) }
        let port = try #require(server.localAddress?.port)
        let vcl = try passAll(port: port)
        try await withProxy(backendPort: port, threads: 1, vclFile: vcl, keepBackends: true) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234")
            let early = try await client.readResponse(timeout: .seconds(3))
            #expect(early.status == 413)
            try await client.send("56789")
            // The next request, on the only loop there is: never into the first connection.
            let other = try await RawHTTPClient.connect(port: proxy.port)
            try await other.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
            let next = try await other.readResponse(timeout: .seconds(3))
            #expect(next.status == 200 && next.bodyString == "ok")
            await client.close()
            await other.close()
        }
        let received = connections.bytes.withLock { $0.map { String(decoding: $0, as: UTF8.self) } }
        #expect(received.count == 2, "\(received)")
        #expect(received.last?.hasPrefix("GET /next HTTP/1.1\r\n") == true, "\(received)")
        #expect(received.first.map { !$0.contains("GET /next") } == true, "\(received)")
    }

    @Test("a synth or a hit reads the client's body first; a body that stalls past timeout_idle closes the connection after the answer (f00008)")
    func drainBeforeAnswer() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "stored"))
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "\(origin.host)"; .port = "\(origin.port)"; }
            sub vcl_recv {
                if (req.url == "/synth") { return (synth(200, "SYNTH")); }
                return (hash);
            }
            """)
        try await withProxy(origin: origin, parameters: ["timeout_idle=1"], vclFile: vcl) { proxy in
            let primer = try await RawHTTPClient.connect(port: proxy.port)
            try await primer.send("GET /hit HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try await primer.readResponse().bodyString == "stored")
            await primer.close()
            for (method, path) in [("POST", "/synth"), ("GET", "/hit")] {
                let client = try await RawHTTPClient.connect(port: proxy.port)
                try await client.send("\(method) \(path) HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\na")
                try await Task.sleep(for: .milliseconds(1200))
                try? await client.send("b")
                let response = try await client.readResponse(timeout: .seconds(3))
                #expect(response.status == 200 && response.header("Connection") == "close", "\(path): \(response.status) \(response.headers)")
                await client.close()
            }
            // A prompt client: the answer, with the connection kept, then the next request's.
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("POST /synth HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab")
            try await client.send("GET /hit HTTP/1.1\r\nHost: a\r\n\r\n")
            let answers = try await client.readResponses(2)
            #expect(answers[0].status == 200 && answers[0].header("Connection") == nil)
            #expect(answers[1].status == 200 && answers[1].bodyString == "stored")
            await client.close()
            #expect(origin.requestCount == 1)
        }
    }

    @Test("a graced hit with a body: the background fetch sends that body (r01927)")
    func backgroundFetchSendsBody() async throws {
        let counter = TestCounter()
        let origin = try await TestOrigin.start { request in
            Response(body: "answer \(counter.next()) to \(request.method) \(request.bodyString)")
        }
        try await VarnishRulesTests.proxy("""
            sub vcl_recv { set req.http.method = req.method; set req.http.hit = "No"; return (hash); }
            sub vcl_hit { set req.http.hit = "Yes"; }
            sub vcl_deliver { set resp.http.hit = req.http.hit; }
            sub vcl_backend_fetch { set bereq.method = bereq.http.method; }
            sub vcl_backend_response { set beresp.ttl = 0.5s; set beresp.grace = 10s; }
            """, origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            let post = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nfoo"
            try await client.send(post)
            let first = try await client.readResponse()
            #expect(first.bodyString == "answer 1 to POST foo" && first.header("hit") == "No")
            try await Task.sleep(for: .milliseconds(800))
            try await client.send(post)
            let graced = try await client.readResponse()
            #expect(graced.bodyString == "answer 1 to POST foo" && graced.header("hit") == "Yes")
            #expect(await origin.waitForRequests(2, timeout: .seconds(3)))
            let refresh = origin.requests.last
            #expect(refresh?.method == "POST" && refresh?.bodyString == "foo")
            try await Task.sleep(for: .milliseconds(100))
            try await client.send(post)
            let refreshed = try await client.readResponse()
            #expect(refreshed.bodyString == "answer 2 to POST foo" && refreshed.header("hit") == "Yes")
            await client.close()
        }
    }

    @Test("passes with streamed bodies reuse the one idle backend connection, whichever loop their client is on (r03354)")
    func streamedBodyMovesToIdleConnection() async throws {
        let origin = try await TestOrigin.start { request in Response(body: "got \(request.body.count)") }
        try await VarnishRulesTests.proxy("sub vcl_recv { return (pass); }", origin: origin) { proxy in
            let chunk = String(repeating: "x", count: 100)
            for round in 0..<6 {
                // A fresh client connection each time: the loops take them in turn.
                let client = try await RawHTTPClient.connect(port: proxy.port)
                if round == 0 {
                    try await client.send("POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + chunk)
                } else {
                    try await client.send("POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
                    for _ in 0..<3 { try await client.send("64\r\n" + chunk + "\r\n") }
                    try await client.send("0\r\n\r\n")
                }
                let response = try await client.readResponse(timeout: .seconds(3))
                #expect(response.status == 200 && response.bodyString == (round == 0 ? "got 100" : "got 300"))
                await client.close()
            }
            #expect(origin.connectionCount == 1)
        }
    }
}

extension VarnishBodyRulesTests {
    /// A VCL with one backend on `port` that passes every request.
    func passAll(port: Int) throws -> String {
        try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend s1 { .host = "127.0.0.1"; .port = "\(port)"; }
            sub vcl_recv { return (pass); }
            """)
    }
}
