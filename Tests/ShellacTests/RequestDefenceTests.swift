import Foundation
import NIOHTTP1
import Testing

/// The HTTP/1.1 front end as a client on a raw socket sees it: smuggling and malformed
/// requests are refused with 400 and a closed connection (and never reach the origin),
/// oversized heads get 431, pipelining, chunked request bodies, `Expect: 100-continue`,
/// HEAD, and the slowloris and idle timeouts end to end (their edge cases are timed on virtual
/// time in `ClientSessionTests`).
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

    @Test("a request whose Transfer-Encoding does not end in chunked: 400, connection closed (RFC 9112 §6.3)",
          arguments: ["gzip", "chunked, gzip"])
    func transferEncodingNotChunked(_ coding: String) async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, closed) = try await Self.exchange(proxy,
                "POST /te HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: \(coding)\r\n\r\nhello")
            #expect(response.status == 400 || response.status == 501, "Transfer-Encoding: \(coding) → \(response.status)")
            #expect(closed, "Transfer-Encoding: \(coding): the connection stays open")
            try await Task.sleep(for: .milliseconds(200))
            #expect(origin.requestCount == 0, "origin saw \(origin.requests.map { ($0.uri, $0.bodyString) })")
        }
    }

    @Test("a Content-Length that is not a number: 400, connection closed",
          arguments: ["5x", "+5", "-1", "0x5", ""])
    func badContentLength(_ value: String) async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, closed) = try await Self.exchange(proxy,
                "POST /cl HTTP/1.1\r\nHost: example.com\r\nContent-Length: \(value)\r\n\r\nhello")
            #expect(response.status == 400, "Content-Length: \(value.debugDescription) → \(response.status)")
            #expect(closed, "Content-Length: \(value.debugDescription): the connection stays open")
            try await Task.sleep(for: .milliseconds(200))
            #expect(origin.requestCount == 0, "origin saw \(origin.requests.map { ($0.uri, $0.bodyString) })")
        }
    }

    @Test("a chunked request body with a bad chunk size: 400, connection closed, no complete request reaches the origin")
    func badChunkSize() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, closed) = try await Self.exchange(proxy,
                "POST /chunks HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
            #expect(response.status == 400)
            #expect(closed)
            try await Task.sleep(for: .milliseconds(200))
            #expect(origin.requestCount == 0, "origin saw \(origin.requests.map { ($0.uri, $0.bodyString) })")
        }
    }

    @Test("more invalid header lines: 400, connection closed, origin untouched",
          arguments: [
            ("no colon", "NoColonHere\r\n"),
            ("empty field name", ": value\r\n"),
            ("non-token character in the name", "X@Bad: value\r\n"),
            ("NUL in a value", "X-Bad: a\u{00}b\r\n"),
            ("bare CR in a value", "X-Bad: a\rb\r\n"),
            ("tab before the colon", "X-Bad\t: value\r\n"),
          ])
    func moreInvalidHeaders(_ label: String, _ line: String) async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, closed) = try await Self.exchange(proxy,
                "GET /bad HTTP/1.1\r\nHost: example.com\r\n\(line)Accept: */*\r\n\r\n")
            #expect(response.status == 400, "\(label): \(response.status)")
            #expect(closed, "\(label): the connection stays open")
            try await Task.sleep(for: .milliseconds(200))
            #expect(origin.requestCount == 0, "\(label): origin saw \(origin.requests.map(\.uri))")
        }
    }

    @Test("a GET with a Content-Length body: the body is consumed as body, never parsed as a second request")
    func getBodyIsNotARequest() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let inner = "GET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n"
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /outer HTTP/1.1\r\nHost: example.com\r\nContent-Length: \(inner.utf8.count)\r\n\r\n" + inner)
            let response: RawHTTPClient.Response
            do {
                response = try await client.readResponse()
            } catch {
                let seen = origin.requests.map { "\($0.method) \($0.uri) CL=\($0.header("Content-Length") ?? "-") body=\($0.bodyString.debugDescription)" }
                Issue.record("no response to a GET with a body (\(error)); origin saw \(seen), open origin connections: \(origin.openConnectionCount)")
                await client.close()
                return
            }
            #expect(response.bodyString.hasPrefix("path=/outer"))
            // No second response may follow.
            try await Task.sleep(for: .milliseconds(500))
            #expect(client.unreadBytes.isEmpty, "a second response followed: \(client.unreadString.prefix(200).debugDescription)")
            await client.close()
            #expect(origin.requestCount(path: "/smuggled") == 0)
        }
    }

    @Test("a long request line over http_req_size: 431 (or 414), origin untouched")
    func oversizedRequestLine() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, parameters: ["http_req_size=4k"]) { proxy in
            let path = "/" + String(repeating: "u", count: 8000)
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try? await client.send("GET \(path) HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let response = try await client.readResponse()
            await client.close()
            #expect(response.status == 431 || response.status == 414, "got \(response.status)")
            #expect(origin.requestCount == 0)
        }
    }

    @Test("a request body over http_req_body_max: 413, origin untouched")
    func oversizedBody() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, parameters: ["http_req_body_max=1k"]) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try? await client.send("POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4096\r\n\r\n" + String(repeating: "b", count: 4096))
            let response = try await client.readResponse()
            await client.close()
            #expect(response.status == 413)
            try await Task.sleep(for: .milliseconds(200))
            #expect(origin.requestCount == 0)
        }
    }

    @Test("Connection: close from the client: the response says close and the connection is closed")
    func clientConnectionClose() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, closed) = try await Self.exchange(proxy,
                "GET /bye HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
            #expect(response.status == 200 && response.bodyString == "path=/bye body=")
            #expect(response.saysClose)
            #expect(closed)
        }
    }

    @Test("HTTP/1.0 without Host is served, and the connection closes after the response")
    func http10() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let (response, closed) = try await Self.exchange(proxy, "GET /old HTTP/1.0\r\n\r\n")
            #expect(response.status == 200 && response.bodyString == "path=/old body=")
            #expect(closed, "an HTTP/1.0 connection without keep-alive stays open")
        }
    }

    @Test("pipelining: HEAD, POST with a body and GET in one write are answered in order")
    func pipelinedMixed() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send(
                "HEAD /m1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
                + "POST /m2 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 7\r\n\r\npayload"
                + "GET /m3 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let responses = try await client.readResponses(3, forHEAD: [true, false, false], timeout: .seconds(5))
            await client.close()
            #expect(responses.map(\.status) == [200, 200, 200])
            #expect(responses[0].body.isEmpty)
            #expect(responses[1].bodyString == "path=/m2 body=payload")
            #expect(responses[2].bodyString == "path=/m3 body=")
        }
    }

    // MARK: timeouts must not hit healthy clients

    @Test("a request whose backend takes longer than timeout_idle is not dropped as idle")
    func slowBackendIsNotIdle() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "no-store"], body: "worth the wait").delayed(by: .seconds(2)))
        try await withProxy(origin: origin, parameters: ["timeout_idle=1"]) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /slow HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let response = try await client.readResponse(timeout: .seconds(5))
            await client.close()
            #expect(response.status == 200 && response.bodyString == "worth the wait")
        }
    }

    @Test("requests followed at once by a half-close (as `printf ... | nc` does) are all answered",
          arguments: [1, 2])
    func requestsThenHalfClose(_ count: Int) async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send((1...count).map { "GET /h\($0) HTTP/1.1\r\nHost: example.com\r\n\r\n" }.joined())
            try await client.shutdownOutput()
            do {
                let responses = try await client.readResponses(count, timeout: .seconds(5))
                #expect(responses.map(\.bodyString) == (1...count).map { "path=/h\($0) body=" })
            } catch {
                Issue.record("\(error); origin saw \(origin.requests.map(\.uri))")
            }
            await client.close()
        }
    }

    @Test("a client that disconnects while its miss is being fetched does not break the next request")
    func clientGoneMidFetch() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "eventually").delayed(by: .milliseconds(500)))
        try await withProxy(origin: origin) { proxy in
            let quitter = try await RawHTTPClient.connect(port: proxy.port)
            try await quitter.send("GET /gone HTTP/1.1\r\nHost: example.com\r\n\r\n")
            #expect(await origin.waitForRequests(1, timeout: .seconds(3)))
            await quitter.close()
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /gone HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let response = try await client.readResponse(timeout: .seconds(5))
            await client.close()
            #expect(response.status == 200 && response.bodyString == "eventually")
            #expect(origin.requestCount == 1, "the fetch was not completed for the cache: \(origin.requestCount) origin requests")
        }
    }
}
