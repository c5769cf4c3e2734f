import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// The backend side: failed fetches become Varnish's 503 "Backend fetch failed" naming the
/// transaction, the fetch timeouts, the keep-alive pool and its retry, and the headers a
/// proxy adds (X-Forwarded-For, Via).
@Suite("Backend", .serialized)
struct BackendTests {
    /// A loopback port with nothing listening on it: bound, then closed again.
    static func unusedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    /// One GET on a fresh connection, `Connection: close`.
    static func get(_ proxy: ShellacFixture, _ path: String, headers: String = "", timeout: Duration = .seconds(8)) async throws -> RawHTTPClient.Response {
        try await RawHTTPClient.exchange(
            port: proxy.port, "GET \(path) HTTP/1.1\r\nHost: example.com\r\n\(headers)Connection: close\r\n\r\n",
            timeout: timeout)
    }

    @Test("a dead backend answers 503 with a page naming the transaction id of X-Varnish")
    func deadBackend() async throws {
        let port = try await Self.unusedPort()
        let proxy = try await ShellacFixture.start(backendPort: port)
        do {
            let started = ContinuousClock.now
            let response = try await Self.get(proxy, "/dead")
            let elapsed = ContinuousClock.now - started
            #expect(response.status == 503)
            let xid = try #require(response.header("X-Varnish"))
            #expect(!xid.isEmpty && xid.split(separator: " ").count == 1 && Int(xid) != nil, "X-Varnish: \(xid)")
            #expect(response.bodyString.contains(xid), "body does not name xid \(xid): \(response.bodyString)")
            // A refused connection fails at once, not after connect_timeout.
            #expect(elapsed < .seconds(2), "503 took \(elapsed)")
            // Each failure is its own transaction.
            let second = try await Self.get(proxy, "/dead")
            #expect(second.status == 503)
            #expect(second.header("X-Varnish") != xid)
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    @Test("first_byte_timeout=1 against an origin that takes 3 s: 503 after about 1 s")
    func firstByteTimeout() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "too late").delayed(by: .seconds(3)))
        try await withProxy(origin: origin, parameters: ["first_byte_timeout=1"]) { proxy in
            let started = ContinuousClock.now
            let response = try await Self.get(proxy, "/slow")
            let elapsed = ContinuousClock.now - started
            #expect(response.status == 503)
            #expect(response.bodyString != "too late")
            #expect(elapsed >= .milliseconds(900) && elapsed <= .milliseconds(2500), "503 after \(elapsed)")
            if let xid = response.header("X-Varnish") {
                #expect(response.bodyString.contains(xid))
            } else {
                Issue.record("no X-Varnish on the 503")
            }
        }
    }

    @Test("between_bytes_timeout=1 with a body that stalls 3 s: the client never gets a complete response",
          arguments: [TestOrigin.Response.Framing.chunked, .contentLength])
    func betweenBytesTimeout(_ framing: TestOrigin.Response.Framing) async throws {
        let first = String(repeating: "A", count: 1000)
        let second = String(repeating: "B", count: 1000)
        let origin = try await TestOrigin.start(always: .streamed(
            headers: ["Cache-Control": "max-age=60"], chunks: [first, second],
            delayBetweenChunks: .seconds(3), framing: framing))
        try await withProxy(origin: origin, parameters: ["between_bytes_timeout=1"]) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            let started = ContinuousClock.now
            try await client.send("GET /stall HTTP/1.1\r\nHost: example.com\r\n\r\n")
            var completeWithFullBody = false
            var outcome = ""
            do {
                let response = try await client.readResponse(timeout: .seconds(6))
                completeWithFullBody = response.status == 200 && response.bodyString == first + second
                outcome = "complete \(response.status), \(response.body.count) body bytes"
            } catch {
                outcome = "\(error)"
            }
            let elapsed = ContinuousClock.now - started
            await client.close()
            #expect(!completeWithFullBody, "the stalled body was delivered whole after \(elapsed) (\(outcome))")
            // The client is not left hanging either: the failure shows within ~2.5 s.
            #expect(client.isClosedByPeer || outcome.hasPrefix("complete"), "neither closed nor answered: \(outcome)")
            #expect(elapsed <= .milliseconds(2500), "outcome after \(elapsed): \(outcome)")
            // A failed body must not be cached: the next request fetches again.
            if completeWithFullBody == false {
                origin.setDefaultHandler { _ in Response(headers: ["Cache-Control": "max-age=60"], body: "fresh") }
                let next = try await Self.get(proxy, "/stall")
                #expect(next.status == 200 && next.bodyString == "fresh", "after a failed fetch: \(next.status) \(next.bodyString.prefix(40))")
            }
        }
    }

    @Test("sequential misses on one client connection reuse one backend connection")
    func backendKeepAlive() async throws {
        let origin = try await TestOrigin.start { request in
            Response(headers: ["Cache-Control": "max-age=60"], body: "body of \(request.path)")
        }
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            for i in 1...5 {
                try await client.send("GET /reuse\(i) HTTP/1.1\r\nHost: example.com\r\n\r\n")
                let response = try await client.readResponse()
                #expect(response.status == 200 && response.bodyString == "body of /reuse\(i)")
            }
            await client.close()
            #expect(origin.requestCount == 5)
            #expect(Set(origin.requests.map(\.connectionID)).count == 1,
                    "connection ids: \(origin.requests.map(\.connectionID))")
            #expect(origin.connectionCount == 1)
            #expect(origin.requests.map(\.indexOnConnection) == [0, 1, 2, 3, 4])
        }
    }

    @Test("a backend that closes an idle pooled connection: the next miss still succeeds")
    func backendClosesIdleConnection() async throws {
        let origin = try await TestOrigin.start(configuration: .init(idleTimeout: .milliseconds(200))) { request in
            Response(headers: ["Cache-Control": "max-age=60"], body: "body of \(request.path)")
        }
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /k1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let first = try await client.readResponse()
            #expect(first.status == 200 && first.bodyString == "body of /k1")
            try await Task.sleep(for: .milliseconds(500))
            #expect(origin.openConnectionCount == 0, "the origin did not close its idle connection")
            try await client.send("GET /k2 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let second = try await client.readResponse()
            await client.close()
            #expect(second.status == 200, "second miss after the backend closed the pooled connection: \(second.status) \(second.bodyString)")
            #expect(second.bodyString == "body of /k2")
            #expect(origin.requests.map(\.path) == ["/k1", "/k2"])
            #expect(origin.connectionCount == 2)
        }
    }

    @Test("a reused backend connection dropped as the request arrives is retried once on a fresh one")
    func retryOnReusedConnection() async throws {
        let origin = try await TestOrigin.start { request in
            // The first request on a connection is answered; a later one on the same
            // connection sees the connection closed under it.
            if request.indexOnConnection > 0 { return .dropConnection }
            return Response(headers: ["Cache-Control": "max-age=60"], body: "body of \(request.path)")
        }
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /r1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let first = try await client.readResponse()
            #expect(first.status == 200 && first.bodyString == "body of /r1")
            try await client.send("GET /r2 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let second = try await client.readResponse()
            await client.close()
            #expect(second.status == 200, "got \(second.status) \(second.bodyString)")
            #expect(second.bodyString == "body of /r2")
            let r2 = origin.requests(path: "/r2")
            // Tried on the reused connection (dropped), then once more on a fresh one.
            #expect(r2.map(\.indexOnConnection) == [1, 0], "attempts: \(r2.map { ($0.connectionID, $0.indexOnConnection) })")
        }
    }

    @Test("X-Forwarded-For is appended with the client address, and the response says Via: 1.1 shellac")
    func forwardedForAndVia() async throws {
        let origin = try await TestOrigin.start { request in
            Response(headers: ["Cache-Control": "no-store"], body: "ok")
        }
        try await withProxy(origin: origin) { proxy in
            let withXFF = try await Self.get(proxy, "/xff1", headers: "X-Forwarded-For: 1.2.3.4\r\n")
            #expect(withXFF.status == 200)
            #expect(withXFF.headers("Via") == ["1.1 shellac"])
            let withoutXFF = try await Self.get(proxy, "/xff2")
            #expect(withoutXFF.status == 200)
            #expect(withoutXFF.headers("Via") == ["1.1 shellac"])

            let first = try #require(origin.requests(path: "/xff1").first)
            #expect(first.headers["X-Forwarded-For"] == ["1.2.3.4, 127.0.0.1"])
            let second = try #require(origin.requests(path: "/xff2").first)
            #expect(second.headers["X-Forwarded-For"] == ["127.0.0.1"])
        }
    }
}
