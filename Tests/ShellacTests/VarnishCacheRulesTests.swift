import Foundation
import NIOHTTP1
import Testing

@testable import Shellac

/// Cache and fetch rules Varnish 7.1 applies that Shellac follows: restarts from vcl_synth,
/// objects without TTL, pass objects' lifetime, when a fetch is retried, what a miss sends,
/// the default probe, statuses above 999, lax dates. Over real sockets, against a real origin
/// (each named after the varnishtest that pins it).
@Suite("Varnish's cache rules", .serialized)
struct VarnishCacheRulesTests {
    @Test("vcl_synth may restart up to max_restarts; the next restart is a 503 with req.restarts past it (c00028)")
    func synthRestarts() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        try await VarnishRulesTests.proxy("""
            sub vcl_recv { return (synth(700)); }
            sub vcl_synth { set resp.http.restarts = req.restarts; return (restart); }
            """, origin: origin) { proxy in
            let response = try await fetch(proxy.url("/"))
            #expect(response.status == 503 && response.header("restarts") == "5")
        }
    }

    @Test("an object stored with TTL 0 is never a hit and does not replace an older one in grace (b00035)")
    func zeroTTLObject() async throws {
        let origin = try await TestOrigin.start { request in .init(body: request.header("X-Refresh") == nil ? "abc" : "abcdef") }
        try await VarnishRulesTests.proxy("""
            sub vcl_recv { if (req.http.X-Refresh) { set req.hash_always_miss = true; } }
            sub vcl_backend_response {
                if (bereq.http.X-Refresh) { set beresp.ttl = 0s; } else { set beresp.ttl = 0.001s; }
                set beresp.grace = 10s;
            }
            """, origin: origin) { proxy in
            #expect(try await fetch(proxy.url("/")).body == "abc")
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await fetch(proxy.url("/"), headers: [("X-Refresh", "1")]).body == "abcdef")
            // The graced first object is still the one served.
            #expect(try await fetch(proxy.url("/")).body == "abc")
        }
    }

    @Test("a pass object's TTL is -0 and its grace and keep 0; obj.uncacheable says so (c00012, b00043)")
    func passObjectLifetime() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "foobar"))
        try await VarnishRulesTests.proxy("""
            sub vcl_miss { return (pass); }
            sub vcl_deliver {
                set resp.http.o-uncacheable = obj.uncacheable;
                set resp.http.o-ttl = obj.ttl;
                set resp.http.o-grace = obj.grace;
            }
            """, origin: origin) { proxy in
            let response = try await fetch(proxy.url("/foo"))
            #expect(response.header("o-uncacheable") == "true" && response.header("o-grace") == "0.000")
            let ttl = Double(response.header("o-ttl") ?? "") ?? 1
            #expect(ttl <= 0 && ttl > -0.5)
            #expect(response.xids.count == 1)
        }
    }

    @Test("a pass from vcl_hit: X-Varnish names the request and the pass's fetch (c00010)")
    func passFromHit() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        try await VarnishRulesTests.proxy("sub vcl_hit { if (req.http.X-Pass) { return (pass); } }", origin: origin) { proxy in
            _ = try await fetch(proxy.url("/"))
            let passed = try await fetch(proxy.url("/"), headers: [("X-Pass", "1")])
            #expect(passed.xids.count == 2 && origin.requestCount == 2)
        }
    }

    @Test("a fetch is not retried once the backend has sent part of a response (r01156)")
    func noRetryAfterPartialHead() async throws {
        let origin = try await TestOrigin.start { request in
            request.path == "/partial" ? .raw("HTTP/1.1 200 ", thenClose: true) : .init(body: "ok")
        }
        try await VarnishRulesTests.proxy("", origin: origin) { proxy in
            _ = try await fetch(proxy.url("/warm"))  // a reused connection for the next fetch
            let response = try await fetch(proxy.url("/partial"))
            #expect(response.status == 503)
            #expect(origin.requestCount(path: "/partial") == 1)
        }
    }

    @Test("a miss's GET sends no body (the built-in unset bereq.body); set back to POST, it sends the client's (r01927, r02105)")
    func missRequestBody() async throws {
        let origin = try await TestOrigin.start { request in .init(body: "got " + request.bodyString) }
        try await VarnishRulesTests.proxy("""
            sub vcl_recv { set req.http.method = req.method; return (hash); }
            sub vcl_backend_fetch { if (bereq.url == "/post") { set bereq.method = bereq.http.method; } }
            """, origin: origin) { proxy in
            let posted = try await fetch(proxy.url("/post"), method: .POST, body: "foo")
            #expect(posted.body == "got foo")
            #expect(origin.requests.last?.method == "POST")
            let got = try await fetch(proxy.url("/get"), method: .POST, body: "foo")
            #expect(got.body == "got ")
            let seen = try #require(origin.requests.last)
            #expect(seen.method == "GET" && seen.body.isEmpty && seen.header("Content-Length") == nil)
            // The unsent body was read and dropped: the connection serves the next request.
            let next = try await fetch(proxy.url("/post"), method: .POST, body: "foo")
            #expect(next.status == 200)
        }
    }

    @Test("a status above 999 set in VCL is stored and sent modulo 1000 (r02554)")
    func statusModulo1000() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        try await VarnishRulesTests.proxy("sub vcl_backend_response { set beresp.status = 1299; }", origin: origin) { proxy in
            let response = try await fetch(proxy.url("/"))
            #expect(response.status == 299)
        }
    }

    @Test("a probe named default probes every backend without one of its own (r03402)")
    func defaultProbe() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        let file = try VCLRequestStatesTests.file("""
            vcl 4.1;
            probe default { .url = "/default-probe"; .interval = 0.1s; .initial = 0; .window = 2; .threshold = 1; }
            backend origin { .host = "\(origin.host)"; .port = "\(origin.port)"; }
            """)
        try await withProxy(origin: origin, vclFile: file, keepBackends: true) { proxy in
            #expect(await origin.waitForRequests(1, path: "/default-probe", timeout: .seconds(3)))
            let listed = BackendHealthTests.admin(proxy).execute(["backend.list"]).body
            #expect(listed.contains("origin") && listed.contains("probe"), "\(listed)")
        }
    }

    @Test("feature=+http_date_postel reads a one-digit day of the month (c00085)")
    func laxDates() async throws {
        let origin = try await TestOrigin.start(always: TestOrigin.Response(body: "ok")
            .withHeader("Date", "Fri, 2 Feb 2018 12:00:00 GMT").withHeader("Expires", "Sun, 4 Mar 2018 12:00:00 GMT"))
        try await withProxy(origin: origin, parameters: ["feature=+http_date_postel"]) { proxy in
            let file = try VCLRequestStatesTests.file("""
                vcl 4.1;
                backend origin { .host = "\(origin.host)"; .port = "\(origin.port)"; }
                sub vcl_backend_response { set beresp.http.ttl = beresp.ttl; }
                """)
            let admin = BackendHealthTests.admin(proxy)
            #expect(admin.execute(["vcl.load", "lax", file]).status == 200)
            #expect(admin.execute(["vcl.use", "lax"]).status == 200)
            let response = try await fetch(proxy.url("/"))
            #expect(response.header("ttl") == "2592000.000")
        }
    }

    @Test("a pipe to a backend that cannot be reached closes the client's connection without a response (r01730)")
    func pipeToNowhere() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        let file = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend nowhere { .host = "127.0.0.1"; .port = "9"; }
            sub vcl_recv { return (pipe); }
            """)
        try await withProxy(origin: origin, vclFile: file, keepBackends: true) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(await client.waitForClose())
            await client.close()
        }
    }

    @Test("a request that waited on a busy object goes through vcl_hit when it gets it (b00064)")
    func waiterRunsHit() async throws {
        let origin = try await TestOrigin.start(always: TestOrigin.Response(body: "slow").delayed(by: .milliseconds(300)))
        try await VarnishRulesTests.proxy("""
            sub vcl_hit { set req.http.X-Hit = "yes"; }
            sub vcl_deliver { set resp.http.X-Hit = req.http.X-Hit; }
            """, origin: origin) { proxy in
            async let first = fetch(proxy.url("/"))
            try await Task.sleep(for: .milliseconds(100))
            let second = try await fetch(proxy.url("/"))
            let firstResponse = try await first
            #expect((firstResponse.header("X-Hit") ?? "") == "" && second.header("X-Hit") == "yes")
            #expect(origin.requestCount == 1)
        }
    }

    @Test("std.rollback in vcl_backend_response closes the backend connection; the retry fetches anew (r03353)")
    func rollbackAndRetry() async throws {
        let origin = try await TestOrigin.start { request in
            request.indexOnConnection == 0 && request.connectionID == 0
                ? .raw("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n") : .init(body: "xxx")
        }
        try await VarnishRulesTests.proxy("""
            import std;
            sub vcl_backend_response { if (bereq.retries == 0) { std.rollback(bereq); } }
            sub vcl_backend_error { if (bereq.retries == 0) { return (retry); } }
            """, origin: origin) { proxy in
            let started = ContinuousClock.now
            let response = try await fetch(proxy.url("/"))
            #expect(response.status == 200 && response.body == "xxx")
            #expect(ContinuousClock.now - started < .seconds(5))  // not the unsent body's timeout
            #expect(origin.connectionCount == 2)
        }
    }

    @Test("predictive Vary: a request for another variant does not wait on a busy fetch of one variant (c00043)")
    func predictiveVary() async throws {
        let origin = try await TestOrigin.start { request in
            let foo = request.header("Foo") ?? ""
            let response = TestOrigin.Response(body: foo).withHeader("Vary", "Foo")
            return foo == "slow" ? response.delayed(by: .seconds(2)) : response
        }
        try await VarnishRulesTests.proxy("", origin: origin) { proxy in
            _ = try await fetch(proxy.url("/"), headers: [("Foo", "first")])  // the object's Vary is known
            async let slow = fetch(proxy.url("/"), headers: [("Foo", "slow")])
            try await Task.sleep(for: .milliseconds(200))
            let started = ContinuousClock.now
            let other = try await fetch(proxy.url("/"), headers: [("Foo", "other")])
            #expect(other.body == "other" && ContinuousClock.now - started < .seconds(1))
            #expect(try await slow.body == "slow")
        }
    }

    @Test("a small body streams as it comes: a range of what has arrived is answered before the rest (r02035)")
    func smallBodyStreams() async throws {
        let origin = try await TestOrigin.start(always: .streamed(
            chunks: ["0123456789", "!"], delayBetweenChunks: .seconds(2), framing: .contentLength))
        try await VarnishRulesTests.proxy("", origin: origin) { proxy in
            let started = ContinuousClock.now
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-4\r\n\r\n")
            let first = try await client.readResponse(timeout: .seconds(5))
            #expect(first.status == 206 && first.bodyString == "01234")
            #expect(ContinuousClock.now - started < .seconds(1))
            await client.close()
        }
    }

    @Test("an expired object still streaming is revalidated: the 304's object waits for its body (r03089)")
    func revalidateStreamingObject() async throws {
        let origin = try await TestOrigin.start { request in
            if request.header("If-None-Match") == "\"v1\"" {
                return TestOrigin.Response(status: .notModified, headers: ["ETag": "\"v1\""])
            }
            return .streamed(headers: ["ETag": "\"v1\""], chunks: [String(repeating: "a", count: 6000), "end"],
                             delayBetweenChunks: .milliseconds(800), framing: .contentLength)
        }
        try await VarnishRulesTests.proxy("""
            sub vcl_backend_response { set beresp.ttl = 0.1s; set beresp.grace = 0s; set beresp.keep = 60s; }
            """, origin: origin) { proxy in
            async let first = fetch(proxy.url("/"))
            try await Task.sleep(for: .milliseconds(300))
            let second = try await fetch(proxy.url("/"))
            #expect(second.status == 200 && second.body.hasSuffix("end") && second.body.count == 6003)
            #expect(try await first.body.count == 6003)
            #expect(origin.requests.last?.header("If-None-Match") == "\"v1\"")
        }
    }

    @Test("a response older than its max-age (Age 12, max-age 10) is stored and served in grace, not missed (c00000)")
    func agedResponseInGrace() async throws {
        let origin = try await TestOrigin.start(always: TestOrigin.Response(body: "ok")
            .withHeader("Age", "12").withHeader("Cache-Control", "public, max-age=10, stale-while-revalidate=20"))
        try await VarnishRulesTests.proxy("""
            sub vcl_beresp_stale { if (beresp.ttl + beresp.grace > 0s) { return; } }  # keep stale responses
            """, origin: origin) { proxy in
            _ = try await fetch(proxy.url("/"))
            let second = try await fetch(proxy.url("/"))
            #expect(second.status == 200 && second.isHit)
        }
    }

    @Test("a held body (do_stream off) that nuke_limit evictions cannot make room for fails its fetch: 503, n_lru_limited (r01764)")
    func nukeLimitReached() async throws {
        let origin = try await TestOrigin.start { request in .sized(request.path == "/big" ? 1_000_000 : 200_000) }
        let file = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "\(origin.host)"; .port = "\(origin.port)"; }
            sub vcl_backend_response { set beresp.do_stream = false; }
            """)
        try await withProxy(origin: origin, parameters: ["nuke_limit=1"], storageBytes: 1 << 20, vclFile: file, keepBackends: true) { proxy in
            for index in 1...4 {
                let filled = try await fetch(proxy.url("/url\(index)"))
                #expect(filled.status == 200)
            }
            let big = try await fetch(proxy.url("/big"))
            #expect(big.status == 503)
            let counters = Dictionary(BackendHealthTests.admin(proxy).counters(), uniquingKeysWith: { first, _ in first })
            #expect(counters["MAIN.n_lru_limited"] == 1)
        }
    }

    @Test("std.cache_req_body keeps the body in req.storage (Transient by default) while the request lasts; too big, it says false (r01914, r02831)")
    func cachedRequestBodyStorage() async throws {
        let origin = try await TestOrigin.start { request in .init(body: "got \(request.body.count)") }
        try await VarnishRulesTests.proxy("""
            import std;
            sub vcl_recv {
                if (req.url == "/s0") { set req.storage = storage.s0; }
                set req.http.cached = std.cache_req_body(1KB);
                return (pass);
            }
            sub vcl_deliver { set resp.http.cached = req.http.cached; }
            """, origin: origin) { proxy in
            let kept = try await fetch(proxy.url("/"), method: .POST, body: String(repeating: "b", count: 100))
            #expect(kept.header("cached") == "true" && kept.body == "got 100")
            let inS0 = try await fetch(proxy.url("/s0"), method: .POST, body: String(repeating: "b", count: 100))
            #expect(inS0.header("cached") == "true")
            let tooBig = try await fetch(proxy.url("/"), method: .POST, body: String(repeating: "b", count: 2000))
            #expect(tooBig.header("cached") == "false")
            let counters = Dictionary(BackendHealthTests.admin(proxy).counters(), uniquingKeysWith: { first, _ in first })
            #expect((counters["SMA.Transient.c_bytes"] ?? 0) >= 100 && (counters["SMA.s0.c_bytes"] ?? 0) >= 100)
            #expect(counters["SMA.Transient.g_bytes"] == 0)  // given back when each request was done
        }
    }

    @Test("an object with no room even for itself (nuke_limit 0, store full) is delivered uncached, not failed (r01140)")
    func noRoomForTheObject() async throws {
        let origin = try await TestOrigin.start { request in .sized(request.path == "/fill" ? (1 << 20) - 200 : 1024) }
        let file = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "\(origin.host)"; .port = "\(origin.port)"; }
            sub vcl_backend_response { set beresp.do_stream = false; unset beresp.http.Date; }
            """)
        try await withProxy(origin: origin, parameters: ["nuke_limit=0"], storageBytes: 1 << 20, vclFile: file, keepBackends: true) { proxy in
            let fill = try await fetch(proxy.url("/fill"))
            #expect(fill.status == 200)
            for _ in 0..<2 {
                let small = try await fetch(proxy.url("/small"))
                #expect(small.status == 200 && small.body.utf8.count == 1024)
            }
            #expect(origin.requestCount(path: "/small") == 2)  // not stored
        }
    }

    @Test("with a vcl_deliver, the 304 is decided on resp as it leaves it: a Last-Modified it changes counts (v00047)")
    func notModifiedAfterDeliver() async throws {
        let origin = try await TestOrigin.start(always: TestOrigin.Response(body: "page")
            .withHeader("Last-Modified", "Wed, 27 Apr 2016 14:00:00 GMT"))
        try await VarnishRulesTests.proxy("""
            sub vcl_deliver {
                if (req.http.modify) { set resp.http.Last-Modified = "Wed, 27 Apr 2016 16:00:00 GMT"; }
            }
            """, origin: origin) { proxy in
            _ = try await fetch(proxy.url("/"))
            func status(since: String, modify: Bool) async throws -> Int {
                var headers = [("If-Modified-Since", since)]
                if modify { headers.append(("modify", "1")) }
                return try await fetch(proxy.url("/"), headers: headers).status
            }
            #expect(try await status(since: "Wed, 27 Apr 2016 14:00:00 GMT", modify: false) == 304)
            #expect(try await status(since: "Wed, 27 Apr 2016 14:00:00 GMT", modify: true) == 200)
            #expect(try await status(since: "Wed, 27 Apr 2016 16:00:00 GMT", modify: true) == 304)
            let answered = try await fetch(
                proxy.url("/"), headers: [("If-Modified-Since", "Wed, 27 Apr 2016 16:00:00 GMT"), ("modify", "1")])
            #expect(answered.header("Last-Modified") == "Wed, 27 Apr 2016 16:00:00 GMT" && answered.body.isEmpty)
        }
    }

    @Test("a 304 for a streaming object that then fails fails too: 503, \"Template object failed\" (r01648)")
    func notModifiedForAFailingObject() async throws {
        let origin = try await TestOrigin.start { request in
            if request.header("If-None-Match") == "\"foo\"" {
                return TestOrigin.Response(status: .notModified, headers: ["ETag": "\"foo\""])
            }
            // The second piece comes after between_bytes_timeout: the first fetch fails then.
            return .chunked(headers: ["ETag": "\"foo\""], chunks: ["abc", "def"], delayBetweenChunks: .seconds(2))
        }
        try await VarnishRulesTests.proxy("""
            sub vcl_backend_fetch { set bereq.between_bytes_timeout = 0.6s; }
            sub vcl_backend_response { set beresp.ttl = 0.1s; set beresp.grace = 0s; set beresp.keep = 60s; }
            """, origin: origin) { proxy in
            async let first = RawHTTPClient.exchange(port: proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            try await Task.sleep(for: .milliseconds(300))
            let second = try await RawHTTPClient.exchange(port: proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(second.status == 503 && second.bodyString.hasSuffix("</html>\n"), "\(second.headers) \(second.bodyString)")
            _ = try? await first
            let logged = proxy.server.log.read(from: 0, limit: 500).records.map(\.text)
            #expect(logged.contains("Template object failed"))
            #expect(origin.requests.contains { $0.header("If-None-Match") == "\"foo\"" })
        }
    }
}
