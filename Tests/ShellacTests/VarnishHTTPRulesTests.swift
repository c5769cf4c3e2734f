import Foundation
import NIOHTTP1
import Testing

/// HTTP rules Varnish 7.1 applies that Shellac follows: reason phrases, joined
/// Cache-Control lines, absolute-form targets, the Host rule, what a miss does not forward,
/// Connection from VCL, long Vary names, a held body too big for its store. Over real
/// sockets, against a real origin (each named after the varnishtest that pins it).
@Suite("Varnish's HTTP rules", .serialized)
struct VarnishHTTPRulesTests {
    static func raw(_ proxy: ShellacFixture, _ text: String) async throws -> RawHTTPClient.Response {
        try await RawHTTPClient.exchange(port: proxy.port, text)
    }

    @Test("synth without a reason gets Varnish's phrase, the status taken modulo 1000 (p00010)")
    func reasonPhrases() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        try await VarnishRulesTests.proxy("""
            import std;
            sub vcl_recv { return (synth(std.integer(regsub(req.url, "^/", ""), 500))); }
            """, origin: origin) { proxy in
            for (status, reason) in [(102, "Processing"), (208, "Already Reported"), (451, "Unavailable For Legal Reasons"), (599, "Unknown HTTP Status")] {
                let response = try await Self.raw(proxy, "GET /\(status) HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                #expect(response.reason == reason, "\(status)")
            }
        }
    }

    @Test("an unset header equals nothing, not even another unset one (v00024)")
    func unsetComparesUnequal() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        try await VarnishRulesTests.proxy("""
            sub vcl_recv { return (synth(200)); }
            sub vcl_synth { set resp.http.same = (req.http.none == req.http.neither); }
            """, origin: origin) { proxy in
            let response = try await fetch(proxy.url("/"))
            #expect(response.header("same") == "false")
        }
    }

    @Test("repeated Cache-Control lines are joined, from the backend and from the client (r00902, r00686)")
    func joinedCacheControl() async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Cache-Control", value: "max-age=60")
        headers.add(name: "Cache-Control", value: "public")
        let origin = try await TestOrigin.start(always: .init(headers: headers, body: "ok"))
        try await VarnishRulesTests.proxy("""
            sub vcl_recv { if (req.url == "/synth") { return (synth(200)); } }
            sub vcl_synth { set resp.http.seen = req.http.Cache-Control; }
            sub vcl_backend_response { set beresp.http.seen = beresp.http.Cache-Control; }
            """, origin: origin) { proxy in
            let fetched = try await Self.raw(proxy, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(fetched.header("seen") == "max-age=60, public")
            #expect(fetched.headers("Cache-Control") == ["max-age=60, public"])
            let sent = try await Self.raw(
                proxy, "GET /synth HTTP/1.1\r\nHost: a\r\nCache-Control: no-cache\r\nCache-Control: max-age=0\r\nConnection: close\r\n\r\n")
            #expect(sent.header("seen") == "no-cache, max-age=0")
        }
    }

    @Test("an absolute-form target sets Host and the URL (r01255)")
    func absoluteForm() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        try await VarnishRulesTests.proxy("", origin: origin) { proxy in
            let response = try await Self.raw(
                proxy, "GET http://www.example.com/bar HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            #expect(response.status == 200)
            let seen = try #require(origin.requests.last)
            #expect(seen.uri == "/bar" && seen.header("Host") == "www.example.com")
        }
    }

    @Test("HTTP/1.1 without Host: 400 even when VCL returns first; the connection stays open (r02633)")
    func missingHost() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        try await VarnishRulesTests.proxy("sub vcl_recv { return (hash); }", origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET / HTTP/1.1\r\n\r\n")
            let refused = try await client.readResponse()
            #expect(refused.status == 400)
            try await client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let served = try await client.readResponse()
            #expect(served.status == 200 && served.bodyString == "ok")
            await client.close()
            #expect(origin.requestCount == 1)
        }
    }

    @Test("a miss does not forward the client's Cache-Control or credentials for the proxy; Connection: Age is 400 (c00016)")
    func missFilter() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        try await VarnishRulesTests.proxy("sub vcl_recv { set req.http.Added = \"vcl\"; }", origin: origin) { proxy in
            let response = try await Self.raw(
                proxy, "GET / HTTP/1.1\r\nHost: a\r\nCache-Control: no-cache\r\nProxy-Authorization: secret\r\n"
                    + "If-Match: \"x\"\r\nConnection: close, Added\r\n\r\n")
            #expect(response.status == 200)
            let seen = try #require(origin.requests.last)
            #expect(seen.header("Cache-Control") == nil && seen.header("Proxy-Authorization") == nil && seen.header("If-Match") == nil)
            #expect(seen.header("Added") == "vcl")  // VCL's own field, not the client's hop-by-hop one
            let refused = try await Self.raw(proxy, "GET / HTTP/1.1\r\nHost: a\r\nConnection: Age\r\n\r\n")
            #expect(refused.status == 400)
        }
    }

    @Test("vcl_backend_response reads the backend's Connection; resp.http.Connection = close closes (r01613)")
    func connectionFromVCL() async throws {
        let origin = try await TestOrigin.start(always: TestOrigin.Response(body: "ok").withHeader("Connection", "keep-alive, x-y"))
        try await VarnishRulesTests.proxy("""
            sub vcl_backend_response { set beresp.http.was = beresp.http.Connection; }
            sub vcl_deliver { if (req.url == "/close") { set resp.http.Connection = "close"; } }
            """, origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /open HTTP/1.1\r\nHost: a\r\n\r\n")
            let open = try await client.readResponse()
            #expect(open.header("was") == "keep-alive, x-y")
            try await client.send("GET /close HTTP/1.1\r\nHost: a\r\n\r\n")
            let closing = try await client.readResponse()
            #expect(closing.status == 200 && closing.header("Connection") == "close")
            #expect(await client.waitForClose())
            await client.close()
        }
    }

    @Test("a Vary field name over 127 bytes makes the response uncacheable (r01274)")
    func longVaryName() async throws {
        let name = String(repeating: "x", count: 128)
        let origin = try await TestOrigin.start(always: TestOrigin.Response(body: "ok").withHeader("Vary", name))
        try await VarnishRulesTests.proxy("", origin: origin) { proxy in
            for _ in 0..<2 {
                let response = try await fetch(proxy.url("/"))
                #expect(response.status == 200)
            }
            #expect(origin.requestCount == 2)
        }
    }

    @Test("a held (do_stream off) body too big for its store fails the fetch: 503 (r01036)")
    func heldBodyTooBig() async throws {
        let origin = try await TestOrigin.start(always: .sized(2 << 20))
        let file = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "\(origin.host)"; .port = "\(origin.port)"; }
            sub vcl_backend_response { set beresp.do_stream = false; }
            """)
        try await withProxy(origin: origin, storageBytes: 1 << 20, vclFile: file, keepBackends: true) { proxy in
            let response = try await fetch(proxy.url("/big"))
            #expect(response.status == 503)
        }
    }

    @Test("a request body that stalls past timeout_idle fails its fetch: the client gets a 503, then the close (r02722)")
    func stalledRequestBody() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "ok"))
        try await withProxy(origin: origin, parameters: ["timeout_idle=1"]) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nsome")
            let response = try await client.readResponse(timeout: .seconds(5))
            #expect(response.status == 503)
            #expect(await client.waitForClose())
            await client.close()
        }
    }

    @Test("send_timeout: a response still going out past it is cut and the connection closes (r03189)")
    func sendTimeout() async throws {
        let origin = try await TestOrigin.start(always: .chunked(chunks: (0..<10).map { "chunk \($0)\n" }, delayBetweenChunks: .milliseconds(300)))
        try await withProxy(origin: origin, parameters: ["send_timeout=1"]) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /drip HTTP/1.1\r\nHost: a\r\n\r\n")
            let started = ContinuousClock.now
            await #expect(throws: (any Error).self) { _ = try await client.readResponse(timeout: .seconds(6)) }
            #expect(ContinuousClock.now - started < .seconds(2.5))  // not the 3 s the backend takes
            await client.close()
        }
    }

    @Test("http_req_hdr_len, http_resp_hdr_len and http_resp_size bound header lines and heads: 400, or a failed fetch (c00039, c00040)")
    func headerLengthLimits() async throws {
        let line40 = "1...5: ..0....5....0....5....0....5....0"
        let origin = try await TestOrigin.start { request in
            switch request.path {
            case "/40": return TestOrigin.Response(body: "ok").withHeader("1...5", String(line40.dropFirst(7)))
            case "/41": return TestOrigin.Response(body: "ok").withHeader("1...5", String(line40.dropFirst(7)) + ".")
            default: return TestOrigin.Response(body: String(repeating: "x", count: 10)).withHeader("Pad", String(repeating: "p", count: 300))
            }
        }
        try await withProxy(
            origin: origin, parameters: ["http_req_hdr_len=40", "http_resp_hdr_len=40", "http_resp_size=256"]
        ) { proxy in
            let fits = try await Self.raw(proxy, "GET /40 HTTP/1.1\r\nHost: a\r\n\(line40)\r\nConnection: close\r\n\r\n")
            #expect(fits.status == 200)
            let long = try await Self.raw(proxy, "GET /40 HTTP/1.1\r\nHost: a\r\n\(line40).\r\nConnection: close\r\n\r\n")
            #expect(long.status == 400)
            let longResponseLine = try await fetch(proxy.url("/41"))
            #expect(longResponseLine.status == 503)
            let bigHead = try await fetch(proxy.url("/big"))
            #expect(bigHead.status == 503)
            #expect(BackendHealthTests.admin(proxy).execute(["param.set", "http_resp_size", "255"]).status == 106)
        }
    }
}
