import Foundation
import NIOHTTP1
import Testing

@testable import Shellac

/// Range requests (RFC 9110 §14): the parser and `If-Range` without sockets, then 206 and
/// 416 over real sockets on cached, streaming and passed objects.
@Suite("Range requests")
struct RangeTests {
    @Test("bytes=a-b, a-, -n; past the end, reversed, zero suffix; other units and lists ignored", arguments: [
        ("bytes=0-3", ByteRange.Outcome.partial(low: 0, high: 3)),
        ("bytes=5-", .partial(low: 5, high: 9)),
        ("bytes=-3", .partial(low: 7, high: 9)),
        ("bytes=-30", .partial(low: 0, high: 9)),
        ("bytes=8-100", .partial(low: 8, high: 9)),
        ("bytes=10-", .unsatisfiable),
        ("bytes=4-2", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=x-2", .unsatisfiable),
        ("bytes", .unsatisfiable),
        ("bytes=1-2 x", .unsatisfiable),
        ("items=0-3", .full),
        ("bytes=0-1,4-5", .full),
        ("bytes=0-1,x", .unsatisfiable),
    ])
    func parse(_ header: String, _ expected: ByteRange.Outcome) {
        #expect(ByteRange.evaluate(Substring(header), length: 10) == expected)
    }

    @Test("If-Range: the strong ETag or the exact, strong Last-Modified; weak validators never")
    func ifRange() {
        let modified = "Wed, 11 Sep 2013 13:36:55 GMT"
        let date = "Wed, 11 Sep 2013 13:40:00 GMT"
        #expect(ByteRange.ifRangeHolds("\"a\"", etag: "\"a\"", lastModified: nil, date: nil))
        #expect(!ByteRange.ifRangeHolds("\"a\"", etag: "\"b\"", lastModified: nil, date: nil))
        #expect(!ByteRange.ifRangeHolds("W/\"a\"", etag: "W/\"a\"", lastModified: nil, date: nil))
        #expect(!ByteRange.ifRangeHolds("\"a\"", etag: "W/\"a\"", lastModified: nil, date: nil))
        #expect(ByteRange.ifRangeHolds(modified, etag: nil, lastModified: modified, date: date))
        #expect(!ByteRange.ifRangeHolds(modified, etag: nil, lastModified: modified, date: modified))  // not strong
        #expect(!ByteRange.ifRangeHolds("Wed, 11 Sep 2013 13:36:56 GMT", etag: nil, lastModified: modified, date: date))
    }

    @Test("a backend's Content-Range must answer the Range asked for (as Varnish checks it)")
    func backendContentRange() {
        func check(_ range: String?, _ contentRange: String?, length: Int?, status: Int = 206) -> Bool {
            ByteRange.backendResponseIsConsistent(
                requestRange: range, contentRange: contentRange, contentLength: length, status: status)
        }
        #expect(check(nil, nil, length: 10, status: 200))
        #expect(check("bytes=0-3", "bytes 0-3/10", length: 4))
        #expect(check("bytes=2-", "bytes 2-9/10", length: 8))
        #expect(check("bytes=-3", "bytes 7-9/10", length: 3))
        #expect(check("bytes=20-", "bytes */10", length: 0, status: 416))
        #expect(!check(nil, "bytes 0-3/10", length: 4))  // nobody asked for a range
        #expect(!check("bytes=0-3", "bytes 1-3/10", length: 3))  // wrong start
        #expect(!check("bytes=0-3", "bytes 0-5/10", length: 6))  // more than asked
        #expect(!check("bytes=0-3", "bytes 0-3/10", length: 5))  // length disagrees
        #expect(!check("bytes=0-3", "bytes 0-x/10", length: 4))
        #expect(!check("bytes=0-3", "octets 0-3/10", length: 4))
    }

    static func get(_ proxy: ShellacFixture, _ path: String, _ headers: String = "") async throws -> RawHTTPClient.Response {
        try await RawHTTPClient.exchange(
            port: proxy.port, "GET \(path) HTTP/1.1\r\nHost: example.com\r\n\(headers)Connection: close\r\n\r\n",
            timeout: .seconds(8))
    }

    @Test("a cached object: 206 with Content-Range for one range, 416 past the end, 200 with Accept-Ranges without")
    func cached() async throws {
        let body = String(repeating: "0123456789", count: 1000)  // 10 000 bytes: stored in chunks, not inline
        let origin = try await TestOrigin.start { request in
            request.path == "/small" ? TestOrigin.Response(body: "abcdefghij") : TestOrigin.Response(body: body)
        }
        try await withProxy(origin: origin) { proxy in
            let whole = try await Self.get(proxy, "/big")
            #expect(whole.status == 200 && whole.header("Accept-Ranges") == "bytes" && whole.body.count == 10_000)
            let part = try await Self.get(proxy, "/big", "Range: bytes=9995-\r\n")
            #expect(part.status == 206 && part.bodyString == "56789")
            #expect(part.header("Content-Range") == "bytes 9995-9999/10000" && part.header("Content-Length") == "5")
            let middle = try await Self.get(proxy, "/big", "Range: bytes=1002-1004\r\n")
            #expect(middle.status == 206 && middle.bodyString == "234")
            let beyond = try await Self.get(proxy, "/big", "Range: bytes=10000-\r\n")
            #expect(beyond.status == 416 && beyond.header("Content-Range") == "bytes */10000" && beyond.body.isEmpty)
            _ = try await Self.get(proxy, "/small")
            let inline = try await Self.get(proxy, "/small", "Range: bytes=-3\r\n")
            #expect(inline.status == 206 && inline.bodyString == "hij")
            let stale = try await Self.get(proxy, "/small", "Range: bytes=0-1\r\nIf-Range: \"nope\"\r\n")
            #expect(stale.status == 200 && stale.bodyString == "abcdefghij")
            #expect(origin.requestCount(path: "/big") == 1)
            // A partial or refused answer ends the response, not the connection.
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send(
                "GET /big HTTP/1.1\r\nHost: example.com\r\nRange: bytes=20000-\r\n\r\n"
                    + "GET /big HTTP/1.1\r\nHost: example.com\r\nRange: bytes=0-1\r\n\r\n"
                    + "GET /small HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let responses = try await client.readResponses(3, timeout: .seconds(2))
            #expect(responses.map(\.status) == [416, 206, 200])
            #expect(responses.last?.bodyString == "abcdefghij")
            await client.close()
        }
    }

    @Test("a range of an object still streaming in is sent as its bytes arrive; the client does not wait for the rest")
    func streaming() async throws {
        let origin = try await TestOrigin.start { _ in
            TestOrigin.Response.streamed(
                chunks: ["a", "b", "c", "d"].map { String(repeating: $0, count: 2000) },
                delayBetweenChunks: .milliseconds(300), framing: .contentLength)
        }
        try await withProxy(origin: origin) { proxy in
            let started = ContinuousClock.now
            let part = try await Self.get(proxy, "/s", "Range: bytes=1998-2001\r\n")
            let elapsed = ContinuousClock.now - started
            #expect(part.status == 206 && part.bodyString == "aabb")
            #expect(part.header("Content-Range") == "bytes 1998-2001/8000")
            #expect(elapsed < .milliseconds(800), "took \(elapsed)")
        }
    }

    @Test("a passed Range goes to the backend; its 206 comes back as sent; a 206 nobody asked for is a 503")
    func passedRange() async throws {
        let origin = try await TestOrigin.start { request in
            if let range = request.header("Range"), range == "bytes=2-4" {
                return TestOrigin.Response(
                    status: .partialContent, headers: ["Content-Range": "bytes 2-4/10", "Cache-Control": "no-store"],
                    body: "cde")
            }
            return TestOrigin.Response(status: .partialContent, headers: ["Content-Range": "bytes 0-1/10"], body: "ab")
        }
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_recv { if (req.url == "/pass") { return (pass); } }
            """)
        try await withProxy(origin: origin, vclFile: vcl) { proxy in
            let passed = try await Self.get(proxy, "/pass", "Range: bytes=2-4\r\n")
            #expect(passed.status == 206 && passed.bodyString == "cde" && passed.header("Content-Range") == "bytes 2-4/10")
            let unasked = try await Self.get(proxy, "/miss")
            #expect(unasked.status == 503)
        }
    }

    @Test("http_range_support=off: the whole object, without Accept-Ranges")
    func disabled() async throws {
        let origin = try await TestOrigin.start { _ in TestOrigin.Response(body: "abcdefghij") }
        try await withProxy(origin: origin, parameters: ["http_range_support=off"]) { proxy in
            let response = try await Self.get(proxy, "/x", "Range: bytes=0-1\r\n")
            #expect(response.status == 200 && response.bodyString == "abcdefghij")
            #expect(response.header("Accept-Ranges") == nil)
        }
    }
}
