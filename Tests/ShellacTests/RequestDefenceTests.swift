import Foundation
import NIOHTTP1
import Testing

/// The HTTP/1.1 front end as a client on a raw socket sees it: smuggling and malformed
/// requests are refused with 400 and a closed connection (and never reach the origin),
/// oversized heads get 431, pipelining, chunked request bodies, `Expect: 100-continue`,
/// HEAD, and the slowloris and idle timeouts.
@Suite("Request defences", .serialized)
struct RequestDefenceTests {
    /// An origin that answers every path with `path=<path> body=<request body>`.
    static func echoOrigin() async throws -> TestOrigin {
        try await TestOrigin.start { request in
            Response(headers: ["Cache-Control": "no-store"], body: "path=\(request.path) body=\(request.bodyString)")
        }
    }

    /// Sends `request` on a fresh connection and returns the response and whether the
    /// server closed the connection within 2 s after it.
    static func exchange(_ proxy: ShellacFixture, _ request: String) async throws -> (RawHTTPClient.Response, closed: Bool) {
        let client = try await RawHTTPClient.connect(port: proxy.port)
        do {
            try await client.send(request)
            let response = try await client.readResponse(timeout: .seconds(5))
            let closed = await client.waitForClose(timeout: .seconds(2))
            await client.close()
            return (response, closed)
        } catch {
            await client.close()
            throw error
        }
    }

    // MARK: smuggling

    @Test("Content-Length together with Transfer-Encoding: 400, connection closed, origin untouched")
    func contentLengthAndTransferEncoding() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, closed) = try await Self.exchange(proxy,
                "POST /smuggle HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /inner HTTP/1.1\r\nHost: example.com\r\n\r\n")
            #expect(response.status == 400)
            #expect(closed, "the connection stays open after a CL+TE request")
            try await Task.sleep(for: .milliseconds(200))
            #expect(origin.requestCount == 0, "origin saw \(origin.requests.map(\.uri))")
        }
    }

    @Test("two differing Content-Length headers: 400, connection closed, origin untouched")
    func differingContentLengths() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, closed) = try await Self.exchange(proxy,
                "POST /cl HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
            #expect(response.status == 400)
            #expect(closed, "the connection stays open after differing Content-Lengths")
            try await Task.sleep(for: .milliseconds(200))
            #expect(origin.requestCount == 0, "origin saw \(origin.requests.map(\.uri))")
        }
    }

    @Test("one Content-Length header listing two different values: 400, connection closed")
    func differingContentLengthList() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, closed) = try await Self.exchange(proxy,
                "POST /cl HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5, 6\r\n\r\nhello!")
            #expect(response.status == 400)
            #expect(closed)
            try await Task.sleep(for: .milliseconds(200))
            #expect(origin.requestCount == 0)
        }
    }

    @Test("identical duplicate Content-Length headers are accepted and the body is passed on")
    func identicalContentLengths() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send(
                "POST /dup HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello")
            let response = try await client.readResponse()
            await client.close()
            #expect(response.status == 200)
            #expect(response.bodyString == "path=/dup body=hello")
            #expect(origin.requests(path: "/dup").map(\.bodyString) == ["hello"])
        }
    }

    @Test("an invalid header line: 400, connection closed, origin untouched",
          arguments: [
            ("space before the colon", "X-Bad : value\r\n"),
            ("control character in a value", "X-Bad: val\u{01}ue\r\n"),
            ("obs-fold continuation line", "X-Bad: first\r\n  folded\r\n"),
          ])
    func invalidHeader(_ label: String, _ line: String) async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, closed) = try await Self.exchange(proxy,
                "GET /bad HTTP/1.1\r\nHost: example.com\r\n\(line)Accept: */*\r\n\r\n")
            #expect(response.status == 400, "\(label)")
            #expect(closed, "\(label): the connection stays open")
            try await Task.sleep(for: .milliseconds(200))
            #expect(origin.requestCount == 0, "\(label): origin saw \(origin.requests.map(\.uri))")
        }
    }

    @Test("HTTP/1.1 without Host: 400")
    func missingHost() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, _) = try await Self.exchange(proxy, "GET /nohost HTTP/1.1\r\nAccept: */*\r\n\r\n")
            #expect(response.status == 400)
            try await Task.sleep(for: .milliseconds(200))
            #expect(origin.requestCount == 0)
        }
    }

    @Test("request line + headers over http_req_size: 431")
    func oversizedHead() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, parameters: ["http_req_size=4k"]) { proxy in
            // 8 headers of ~1 KiB: 8 KiB of head against a 4 KiB limit.
            let filler = String(repeating: "a", count: 1000)
            let headers = (0..<8).map { "X-Pad-\($0): \(filler)\r\n" }.joined()
            let client = try await RawHTTPClient.connect(port: proxy.port)
            // The server may close before reading everything; a failed write is not the point.
            try? await client.send("GET /big HTTP/1.1\r\nHost: example.com\r\n\(headers)\r\n")
            let response = try await client.readResponse()
            await client.close()
            #expect(response.status == 431)
            #expect(origin.requestCount == 0)
        }
    }

    @Test("a head just under http_req_size is accepted")
    func headUnderLimit() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, parameters: ["http_req_size=4k"]) { proxy in
            let filler = String(repeating: "a", count: 1000)
            let headers = (0..<3).map { "X-Pad-\($0): \(filler)\r\n" }.joined()
            let (response, _) = try await Self.exchange(proxy, "GET /ok HTTP/1.1\r\nHost: example.com\r\n\(headers)Connection: close\r\n\r\n")
            #expect(response.status == 200)
            #expect(response.bodyString == "path=/ok body=")
        }
    }

    // MARK: the ordinary HTTP/1.1 features

    @Test("pipelining: two GETs in one write get two responses in order, even when the first is slower")
    func pipelining() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/p1", Response(headers: ["Cache-Control": "max-age=60"], body: "first response").delayed(by: .milliseconds(300)))
        origin.route("/p2", Response(headers: ["Cache-Control": "max-age=60"], body: "second"))
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send(
                "GET /p1 HTTP/1.1\r\nHost: example.com\r\n\r\nGET /p2 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let responses = try await client.readResponses(2, timeout: .seconds(5))
            #expect(responses.map(\.status) == [200, 200])
            #expect(responses.map(\.bodyString) == ["first response", "second"])
            // And once more, now both are hits.
            try await client.send(
                "GET /p1 HTTP/1.1\r\nHost: example.com\r\n\r\nGET /p2 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let again = try await client.readResponses(2, timeout: .seconds(5))
            #expect(again.map(\.bodyString) == ["first response", "second"])
            #expect(again.allSatisfy { ($0.header("X-Varnish") ?? "").split(separator: " ").count == 2 })
            await client.close()
            #expect(origin.requestCount == 2)
        }
    }

    @Test("a POST with a chunked body reaches the origin with the same bytes")
    func chunkedRequestBody() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send(
                "POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n6;ext=1\r\n world\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.bodyString == "path=/upload body=hello worldabcdefghijklmnopqrstuvwxyz")
            // The connection is still usable afterwards (the body was consumed exactly).
            try await client.send("GET /after HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let after = try await client.readResponse()
            #expect(after.status == 200 && after.bodyString == "path=/after body=")
            await client.close()
            let seen = origin.requests(path: "/upload")
            #expect(seen.map(\.method) == ["POST"])
            #expect(seen.map(\.bodyString) == ["hello worldabcdefghijklmnopqrstuvwxyz"])
        }
    }

    @Test("Expect: 100-continue gets 100 Continue before the body is sent, then the final response")
    func expectContinue() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send(
                "POST /expect HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
            let interim = try await client.readResponse(timeout: .seconds(3))
            #expect(interim.status == 100)
            try await client.send("hello world")
            let final = try await client.readResponse(timeout: .seconds(5))
            await client.close()
            #expect(final.status == 200)
            #expect(final.bodyString == "path=/expect body=hello world")
            #expect(origin.requests(path: "/expect").map(\.bodyString) == ["hello world"])
        }
    }

    @Test("HEAD gets headers and no body")
    func head() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "twelve bytes"))
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("HEAD /h HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let response = try await client.readResponse(forHEAD: true)
            #expect(response.status == 200)
            #expect(response.header("Content-Length") == "12")
            // Nothing after the head: any body bytes would show up here.
            try await Task.sleep(for: .milliseconds(300))
            #expect(client.unreadBytes.isEmpty, "bytes after a HEAD response: \(client.unreadString.debugDescription)")
            // And the connection carries on with a GET that does get the body.
            try await client.send("GET /h HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let get = try await client.readResponse()
            await client.close()
            #expect(get.status == 200 && get.bodyString == "twelve bytes")
        }
    }

    // MARK: timeouts

    @Test("slowloris: half a request head then silence is dropped after timeout_req (2 s)")
    func slowloris() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            let sent = ContinuousClock.now
            try await client.send("GET /slow HTTP/1.1\r\nHost: example.com\r\nX-Partial: ")
            let closed = await client.waitForClose(timeout: .seconds(6))
            let elapsed = (client.closedAt ?? .now) - sent
            await client.close()
            #expect(closed, "still open after 6 s")
            #expect(elapsed >= .milliseconds(1500) && elapsed <= .seconds(4), "closed after \(elapsed)")
            #expect(origin.requestCount == 0)
        }
    }

    @Test("slowloris trickle: a head sent one byte every 250 ms is still dropped within ~timeout_req")
    func slowlorisTrickle() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            let start = ContinuousClock.now
            try await client.send("GET /trickle HTTP/1.1\r\nHost: example.com\r\n")
            // Never completes the head: "X-Trickle: aaaa..." one byte at a time, for at most 7 s.
            try await client.send("X-Trickle: ")
            for _ in 0..<28 where !client.isClosedByPeer {
                try await Task.sleep(for: .milliseconds(250))
                try? await client.send("a")
            }
            let elapsed = (client.closedAt ?? .now) - start
            let closed = client.isClosedByPeer
            await client.close()
            #expect(closed, "a client trickling its head is never dropped")
            #expect(elapsed >= .milliseconds(1500) && elapsed <= .seconds(4), "closed after \(elapsed)")
            #expect(origin.requestCount == 0)
        }
    }

    @Test("an idle keep-alive connection is dropped after timeout_idle")
    func idleKeepAlive() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, parameters: ["timeout_idle=1"]) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /idle HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let response = try await client.readResponse()
            let answered = ContinuousClock.now
            #expect(response.status == 200)
            #expect(!response.saysClose)
            let closed = await client.waitForClose(timeout: .seconds(5))
            let elapsed = (client.closedAt ?? .now) - answered
            await client.close()
            #expect(closed, "idle connection still open 5 s after its response")
            #expect(elapsed >= .milliseconds(500) && elapsed <= .seconds(3), "closed after \(elapsed)")
        }
    }

    @Test("a connection that never sends a byte is dropped after timeout_idle")
    func idleFreshConnection() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, parameters: ["timeout_idle=1"]) { proxy in
            let start = ContinuousClock.now
            let client = try await RawHTTPClient.connect(port: proxy.port)
            let closed = await client.waitForClose(timeout: .seconds(5))
            let elapsed = (client.closedAt ?? .now) - start
            await client.close()
            #expect(closed, "silent connection still open after 5 s")
            #expect(elapsed >= .milliseconds(500) && elapsed <= .seconds(3), "closed after \(elapsed)")
        }
    }
}
