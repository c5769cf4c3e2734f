import Foundation
import NIOHTTP1
import Synchronization
import Testing
import VCL

@testable import Shellac
@testable import ShellacCache

/// Grace and keep over real sockets: stale objects answered at once while one background
/// fetch refreshes them; kept objects revalidated with If-Modified-Since / If-None-Match (a
/// 304 refreshes the stored object without its body, RFC 9111 §4.3.4); stale-if-error; the
/// lookup switches VCL has (req.grace, req.hash_always_miss); expired objects reaped.
@Suite("Grace, keep and revalidation")
struct GraceKeepTests {
    static let vcl = """
        vcl 4.1;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        sub vcl_recv {
            if (req.http.X-Grace) { set req.grace = std.duration(req.http.X-Grace, 0s); }
            if (req.http.X-Always-Miss) { set req.hash_always_miss = true; }
        }
        sub vcl_backend_response {
            set beresp.ttl = 1s;
            set beresp.grace = 30s;
            set beresp.keep = 60s;
            if (bereq.url ~ "^/nograce") { set beresp.grace = 0s; }
            set beresp.http.X-Was-304 = beresp.was_304;
            set beresp.http.X-Bg = bereq.is_bgfetch;
        }
        """

    static func file() throws -> String {
        try VCLRequestStatesTests.file(vcl.replacingOccurrences(of: "vcl 4.1;", with: "vcl 4.1;\nimport std;"))
    }

    /// An origin for `/page`: 200 with validators at first; a conditional request gets a 304
    /// with a new Cache-Control header to merge.
    static func revalidatingOrigin(_ seen: TestCounter, conditional: TestCounter) async throws -> TestOrigin {
        try await TestOrigin.start { request in
            let number = seen.next()
            if request.header("If-None-Match") == "\"v1\"" && request.header("If-Modified-Since") != nil {
                _ = conditional.next()
                return TestOrigin.Response(status: .notModified, headers: ["X-Revalidated": "\(number)", "ETag": "\"v1\""])
            }
            return TestOrigin.Response(
                headers: ["ETag": "\"v1\"", "Last-Modified": "Wed, 11 Sep 2013 13:36:55 GMT", "X-Origin": "\(number)"],
                body: "the body")
        }
    }

    @Test("a graced object is answered at once while one background fetch revalidates it; the 304 keeps the body")
    func gracedRevalidation() async throws {
        let seen = TestCounter()
        let conditional = TestCounter()
        let origin = try await Self.revalidatingOrigin(seen, conditional: conditional)
        try await withProxy(origin: origin, vclFile: try Self.file()) { proxy in
            let first = try await fetch(proxy.url("/page"))
            #expect(first.body == "the body" && first.header("X-Was-304") == "false")
            try await Task.sleep(for: .milliseconds(1300))
            // Stale, inside grace: the stale copy comes back at once, a refresh starts.
            let stale = try await fetch(proxy.url("/page"))
            #expect(stale.body == "the body" && stale.isHit && stale.header("X-Origin") == "1")
            #expect(await origin.waitForRequests(2))
            try await Task.sleep(for: .milliseconds(100))
            let refreshed = try await fetch(proxy.url("/page"))
            #expect(refreshed.body == "the body")
            #expect(refreshed.header("X-Was-304") == "true" && refreshed.header("X-Bg") == "true")
            #expect(refreshed.header("X-Revalidated") == "2")  // the 304's field merged in
            #expect(refreshed.header("X-Origin") == "1")  // the stored fields kept
            #expect(conditional.value == 1)
            #expect(proxy.server.statistics.value(.cacheGraceHits) == 1)
        }
    }

    @Test("past grace but inside keep: the client waits for a conditional fetch; a 304 answers it with the stored body")
    func keptRevalidation() async throws {
        let seen = TestCounter()
        let conditional = TestCounter()
        let origin = try await Self.revalidatingOrigin(seen, conditional: conditional)
        try await withProxy(origin: origin, vclFile: try Self.file()) { proxy in
            _ = try await fetch(proxy.url("/nograce"))
            try await Task.sleep(for: .milliseconds(1200))
            let second = try await fetch(proxy.url("/nograce"))
            #expect(second.body == "the body" && second.header("X-Was-304") == "true" && second.header("X-Bg") == "false")
            #expect(!second.isHit)
            #expect(conditional.value == 1)
            let requests = origin.requests(path: "/nograce")
            #expect(requests.count == 2 && requests[1].header("If-None-Match") == "\"v1\"")
            #expect(requests[1].header("If-Modified-Since") == "Wed, 11 Sep 2013 13:36:55 GMT")
        }
    }

    @Test("req.grace below the object's grace turns a graced hit into a miss; hash_always_miss refetches a fresh object")
    func lookupSwitches() async throws {
        let seen = TestCounter()
        let origin = try await TestOrigin.start { _ in TestOrigin.Response(body: "n\(seen.next())") }
        try await withProxy(origin: origin, vclFile: try Self.file()) { proxy in
            #expect(try await fetch(proxy.url("/g")).body == "n1")
            #expect(try await fetch(proxy.url("/g"), headers: [("X-Always-Miss", "1")]).body == "n2")
            #expect(try await fetch(proxy.url("/g")).body == "n2")  // the new object replaced the old
            try await Task.sleep(for: .milliseconds(1200))
            let strict = try await fetch(proxy.url("/g"), headers: [("X-Grace", "0.1")])
            #expect(strict.body == "n3" && !strict.isHit)
        }
    }

    @Test("stale-if-error: a dead backend is answered with the stale object inside the window, a 503 past it")
    func staleIfError() async throws {
        let origin = try await TestOrigin.start { _ in
            TestOrigin.Response(headers: ["Cache-Control": "max-age=1, stale-if-error=2"], body: "kept")
        }
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_backend_response { set beresp.grace = 0s; set beresp.keep = 10s; }
            """)
        try await withProxy(origin: origin, vclFile: vcl) { proxy in
            #expect(try await fetch(proxy.url("/e")).body == "kept")
            await origin.shutdown()
            try await Task.sleep(for: .milliseconds(1200))
            let rescued = try await fetch(proxy.url("/e"))
            #expect(rescued.status == 200 && rescued.body == "kept")
            #expect(proxy.server.statistics.value(.staleIfError) == 1)
            try await Task.sleep(for: .milliseconds(2000))
            #expect(try await fetch(proxy.url("/e")).status == 503)
        }
    }

    @Test("expired objects are reaped without a request for them; their memory comes back")
    func reaping() throws {
        let store = CacheStore(capacity: 1 << 20)
        for index in 0..<50 {
            var key = CacheKey()
            key.append("/r\(index)")
            guard case .miss(let busy, _, _) = store.lookup(key: key, xid: 1, now: 100, matchesVary: { _ in true }) else {
                Issue.record("expected a miss")
                return
            }
            let metadata = ObjectMetadata(
                status: 200, reason: "OK", headers: HeaderList(), declaredLength: 5, variant: VariantKey(entries: [])
            ).withInlineBody(Array("hello".utf8))
            busy.beginStreaming(metadata: metadata, lifetime: ObjectLifetime(entered: 100, ttl: Double(index % 5), grace: 1, keep: 1))
            #expect(store.publish(busy) { _ in true })
            busy.finish()
        }
        #expect(store.statistics.objects == 50 && store.statistics.usedBytes > 0)
        #expect(store.reapExpired(now: 102.5) == 10)  // ttl 0: expired at 102
        #expect(store.reapExpired(now: 1000) == 40)
        #expect(store.statistics.objects == 0 && store.statistics.usedBytes == 0)
        #expect(store.expiredObjects == 50)
    }

    @Test("beresp.do_stream = false: clients get the object once it is whole, so a body that breaks is a 503, not a cut response")
    func noStreaming() async throws {
        let origin = try await TestOrigin.start { request in
            if request.path == "/broken" {
                return .raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n004\r\n1234\r\nzz\r\n", thenClose: true)
            }
            return TestOrigin.Response.streamed(
                chunks: ["a", "b", "c"].map { String(repeating: $0, count: 3000) }, delayBetweenChunks: .milliseconds(100))
        }
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_backend_response { set beresp.do_stream = false; }
            """)
        try await withProxy(origin: origin, vclFile: vcl) { proxy in
            for _ in 0..<3 {
                let broken = try await RawHTTPClient.exchange(
                    port: proxy.port, "GET /broken HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n", timeout: .seconds(5))
                #expect(broken.status == 503)
            }
            let whole = try await RawHTTPClient.exchange(
                port: proxy.port, "GET /whole HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n", timeout: .seconds(5))
            #expect(whole.status == 200 && whole.body.count == 9000)
            #expect(whole.header("Content-Length") == "9000")  // known once whole: not chunked
        }
    }
}
