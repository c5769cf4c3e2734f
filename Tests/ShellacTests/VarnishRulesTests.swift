import Foundation
import NIOHTTP1
import Testing

/// Rules Varnish 7.1 applies that Shellac follows too: VCL failures at run time (503 "VCL
/// failed"), the backend named `default`, 304s for misses, ESI on a 206, Connection: close
/// from VCL. Over real sockets, against a real origin.
@Suite("Varnish's run-time rules", .serialized)
struct VarnishRulesTests {
    static func proxy(
        _ vcl: String, origin: TestOrigin, keepBackends: Bool = false, _ body: (ShellacFixture) async throws -> Void
    ) async throws {
        let file = try VCLRequestStatesTests.file("vcl 4.1;\nbackend origin { .host = \"\(origin.host)\"; .port = \"\(origin.port)\"; }\n" + vcl)
        try await withProxy(origin: origin, vclFile: file, keepBackends: keepBackends, body)
    }

    @Test("setting req.url to an unset value, directors.lookup outside vcl_init, and do_esi after beresp.filters fail the request")
    func vclFailures() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "ok"))
        try await Self.proxy("""
            import directors;
            sub vcl_init {
                new rr = directors.round_robin();
                rr.add_backend(directors.lookup("origin"));
            }
            sub vcl_recv {
                if (req.url == "/rr") { set req.backend_hint = rr.backend(); }
                if (req.url == "/unset") { set req.url = req.http.no-such-header; }
                if (req.url == "/lookup") { set req.backend_hint = directors.lookup("origin"); }
                if (req.url == "/filters") { return (pass); }
            }
            sub vcl_backend_response {
                if (bereq.url == "/filters") { set beresp.filters = ""; set beresp.do_esi = true; }
            }
            """, origin: origin) { proxy in
            let unset = try await fetch(proxy.url("/unset"))
            #expect(unset.status == 503)
            let lookup = try await fetch(proxy.url("/lookup"))
            #expect(lookup.status == 503)
            let filters = try await fetch(proxy.url("/filters"))
            #expect(filters.status == 503)
            let viaDirector = try await fetch(proxy.url("/rr"))
            #expect(viaDirector.status == 200 && viaDirector.body == "ok")
            let fine = try await fetch(proxy.url("/fine"))
            #expect(fine.status == 200 && fine.body == "ok")
        }
    }

    @Test("a backend named default is the default even when declared second")
    func namedDefault() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "from default"))
        let file = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend first { .host = "127.0.0.1"; .port = "9"; }
            backend default { .host = "\(origin.host)"; .port = "\(origin.port)"; }
            sub vcl_recv { if (req.url == "/first") { set req.backend_hint = first; } }
            """)
        try await withProxy(origin: origin, vclFile: file, keepBackends: true) { proxy in
            let response = try await fetch(proxy.url("/"))
            #expect(response.status == 200 && response.body == "from default")
        }
    }

    @Test("a backend's 304 to a miss whose stale object (a 404) gave it nothing to ask with is a fetch error")
    func unsolicitedNotModifiedWithStale() async throws {
        let counter = TestCounter()
        let origin = try await TestOrigin.start { _ in
            counter.next() == 1
                ? Response(status: .notFound, headers: ["Cache-Control": "max-age=0, stale-while-revalidate=0"], body: "gone")
                : Response(status: .notModified)
        }
        try await withProxy(origin: origin, parameters: ["default_keep=60"]) { proxy in
            let first = try await fetch(proxy.url("/s"))
            #expect(first.status == 404)
            let second = try await fetch(proxy.url("/s"))
            #expect(second.status == 503)
        }
    }

    @Test("a miss whose client asked with a matching If-None-Match gets a 304; a later hit too")
    func notModifiedOnMiss() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["ETag": "\"v1\"", "Cache-Control": "max-age=60"], body: "abc"))
        try await withProxy(origin: origin) { proxy in
            let miss = try await fetch(proxy.url("/c"), headers: [("If-None-Match", "\"v1\"")])
            #expect(miss.status == 304 && miss.body.isEmpty)
            #expect(miss.headers.first(name: "ETag") == "\"v1\"")
            let other = try await fetch(proxy.url("/c"), headers: [("If-None-Match", "\"v2\"")])
            #expect(other.status == 200 && other.body == "abc")
            #expect(origin.requestCount(path: "/c") == 1)
        }
    }

    @Test("do_esi on a 206 from the backend fails the fetch (503)")
    func esiOnPartial() async throws {
        let origin = try await TestOrigin.start(always: Response(
            status: .partialContent, headers: ["Content-Range": "bytes 0-2/10"], body: "abc"))
        try await Self.proxy("""
            sub vcl_recv { return (pass); }
            sub vcl_backend_response { set beresp.do_esi = true; }
            """, origin: origin) { proxy in
            let response = try await fetch(proxy.url("/p"), headers: [("Range", "bytes=0-2")])
            #expect(response.status == 503)
        }
    }

    @Test("Connection: close set by VCL on the backend response closes the backend connection")
    func connectionCloseFromVCL() async throws {
        let origin = try await TestOrigin.start { request in Response(headers: ["Cache-Control": "no-store"], body: request.path) }
        try await Self.proxy("""
            sub vcl_backend_response { if (bereq.url == "/close") { set beresp.http.Connection = "close"; } }
            """, origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            for path in ["/keep", "/keep2", "/close", "/after"] {
                try await client.send("GET \(path) HTTP/1.1\r\nHost: h\r\n\r\n")
                let response = try await client.readResponse()
                #expect(response.status == 200 && response.bodyString == path)
            }
            await client.close()
            // /keep and /keep2 share one connection, /close ends it, /after opens another.
            #expect(origin.connectionCount == 2)
        }
    }

    @Test("with do_stream off, a body cut short goes to vcl_backend_error, whose retry gets the whole response")
    func shortBodyRetries() async throws {
        let counter = TestCounter()
        let origin = try await TestOrigin.start { _ in
            counter.next() == 1
                ? .raw("HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\nonly this", thenClose: true)
                : Response(body: "whole")
        }
        try await Self.proxy("""
            sub vcl_recv { return (pass); }
            sub vcl_backend_response { set beresp.do_stream = false; }
            sub vcl_backend_error { if (bereq.retries == 0) { return (retry); } }
            """, origin: origin) { proxy in
            let response = try await fetch(proxy.url("/short"))
            #expect(response.status == 200 && response.body == "whole")
            #expect(origin.requestCount(path: "/short") == 2)
        }
    }

    @Test("a retry from vcl_backend_response waits for the dropped response to end, and reuses its connection")
    func retryReusesConnection() async throws {
        let counter = TestCounter()
        let origin = try await TestOrigin.start { _ in
            counter.next() == 1 ? Response(headers: ["X-Try": "1"], body: "first") : Response(body: "second")
        }
        try await Self.proxy("""
            sub vcl_recv { return (pass); }
            sub vcl_backend_response { if (beresp.http.X-Try == "1") { return (retry); } }
            """, origin: origin) { proxy in
            let response = try await fetch(proxy.url("/r"))
            #expect(response.status == 200 && response.body == "second")
            #expect(origin.connectionCount == 1)
        }
    }

    @Test("a HEAD passed with do_stream off keeps the backend's Content-Length")
    func headPassKeepsLength() async throws {
        let origin = try await TestOrigin.start { request in
            request.method == "HEAD"
                ? .raw("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n") : Response(body: "abcdef")
        }
        try await Self.proxy("""
            sub vcl_recv { return (pass); }
            sub vcl_backend_response { set beresp.do_stream = false; }
            """, origin: origin) { proxy in
            let head = try await RawHTTPClient.exchange(
                port: proxy.port, "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n", forHEAD: true, timeout: .seconds(5))
            #expect(head.status == 200 && head.header("Content-Length") == "6")
        }
    }

    @Test("an HTTP/1.0 request without Host reaches the backend with the backend's .host_header, else its address")
    func hostForBackend() async throws {
        let origin = try await TestOrigin.start { request in Response(body: request.headers.first(name: "Host") ?? "none") }
        let file = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend named { .host = "\(origin.host)"; .port = "\(origin.port)"; .host_header = "FOObar"; }
            backend plain { .host = "\(origin.host)"; .port = "\(origin.port)"; }
            sub vcl_recv { if (req.url == "/plain") { set req.backend_hint = plain; } return (pass); }
            """)
        try await withProxy(origin: origin, vclFile: file, keepBackends: true) { proxy in
            let named = try await RawHTTPClient.exchange(port: proxy.port, "GET /named HTTP/1.0\r\n\r\n")
            #expect(named.bodyString == "FOObar")
            let plain = try await RawHTTPClient.exchange(port: proxy.port, "GET /plain HTTP/1.0\r\n\r\n")
            #expect(plain.bodyString == origin.host)
        }
    }

    @Test("a pipe takes an idle pooled backend connection when there is one")
    func pipeReusesConnection() async throws {
        let origin = try await TestOrigin.start { request in Response(body: request.path) }
        try await Self.proxy("""
            sub vcl_recv { if (req.url == "/pipe") { return (pipe); } return (pass); }
            """, origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /pass HTTP/1.1\r\nHost: h\r\n\r\n")
            let passed = try await client.readResponse()
            #expect(passed.bodyString == "/pass")
            try await client.send("GET /pipe HTTP/1.1\r\nHost: h\r\n\r\n")
            let piped = try await client.readResponse()
            #expect(piped.bodyString == "/pipe")
            await client.close()
            #expect(origin.connectionCount == 1)
        }
    }

    @Test("beresp.backend is the member a director chose; bereq.backend the director (b00016)")
    func directorAndMember() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "ok"))
        try await Self.proxy("""
            import directors;
            sub vcl_init { new bar = directors.random(); bar.add_backend(origin, 1); }
            sub vcl_recv { set req.backend_hint = bar.backend(); return (pass); }
            sub vcl_backend_response {
                set beresp.http.director = bereq.backend;
                set beresp.http.member = beresp.backend;
            }
            """, origin: origin, keepBackends: true) { proxy in
            let response = try await fetch(proxy.url("/"))
            #expect(response.header("director") == "bar" && response.header("member") == "origin")
        }
    }

    @Test("synthetic() of an unset string writes (null) (r01287)")
    func syntheticNull() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "ok"))
        try await Self.proxy("""
            sub vcl_recv { return (synth(200)); }
            sub vcl_synth { synthetic(req.http.none); return (deliver); }
            """, origin: origin) { proxy in
            let response = try await fetch(proxy.url("/"))
            #expect(response.status == 200 && response.body == "(null)")
        }
    }

    @Test("storage.NAME.used_space and free_space read the store (v00033)")
    func storageSpace() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "12345"))
        try await Self.proxy("""
            sub vcl_backend_response { set beresp.storage = storage.Transient; }
            sub vcl_deliver {
                set resp.http.used = storage.Transient.used_space > 0B;
                set resp.http.free = storage.s0.free_space > 1KB;
            }
            """, origin: origin) { proxy in
            let response = try await fetch(proxy.url("/"))
            #expect(response.header("used") == "true" && response.header("free") == "true")
        }
    }

    @Test("vcl_init runs when a VCL is loaded: a failure refuses it with varnishd's words (v00040)")
    func failingInit() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "ok"))
        try await Self.proxy("", origin: origin) { proxy in
            let admin = BackendHealthTests.admin(proxy)
            let refused = admin.execute([
                "vcl.inline", "vcl2",
                "vcl 4.1; backend b1 { .host = \"127.0.0.1\"; } sub vcl_init { return (fail(\"Do Not Press\")); }",
            ])
            #expect(refused.status == 300)
            #expect(refused.body == "VCL \"vcl2\" Failed initialization\nMessage:\n\tDo Not Press")
            #expect(!admin.execute(["vcl.list"]).body.contains("vcl2"))
        }
    }
}
