import Testing
@testable import VCL

/// The built-in VCL alone (an empty user VCL), behaving like Varnish's builtin.vcl.
@Suite struct BuiltinVCLTests {
    let program: VCLProgram

    init() throws {
        program = try Support.compile("vcl 4.1;\nbackend default { .host = \"127.0.0.1\"; .port = \"8080\"; }\n")
    }

    @Test(arguments: ["GET", "HEAD"])
    func cacheableMethodsAreLookedUp(_ method: String) {
        #expect(program.run(.recv, Support.request(program, method)) == .hash)
    }

    @Test(arguments: ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
    func otherKnownMethodsPass(_ method: String) {
        #expect(program.run(.recv, Support.request(program, method)) == .pass)
    }

    @Test(arguments: ["PROPFIND", "CONNECT", "BREW"])
    func unknownMethodsPipe(_ method: String) {
        #expect(program.run(.recv, Support.request(program, method)) == .pipe)
    }

    @Test func authorizationAndCookiePass() {
        let auth = Support.request(program, headers: [("Host", "a"), ("Authorization", "Basic x")])
        #expect(program.run(.recv, auth) == .pass)
        let cookie = Support.request(program, headers: [("Host", "a"), ("cookie", "x=1")])
        #expect(program.run(.recv, cookie) == .pass)
    }

    @Test func missingHostOnHTTP11IsBadRequest() {
        let context = Support.request(program, headers: [])
        #expect(program.run(.recv, context) == .synth(status: 400, reason: "Bad Request"))
        let old = Support.request(program, headers: [])
        old.req.proto = "HTTP/1.0"
        #expect(program.run(.recv, old) == .hash)
    }

    @Test func priIsRejected() {
        #expect(program.run(.recv, Support.request(program, "PRI")) == .synth(status: 405, reason: "Method Not Allowed"))
    }

    @Test func hashIsUrlPlusHostOrServerIP() {
        let context = Support.request(program, "GET", "/a?b", headers: [("Host", "example.com")])
        #expect(program.run(.hash, context) == .lookup)
        #expect(context.hashData == ["/a?b", "example.com"])
        let bare = Support.request(program, "GET", "/a", headers: [])
        bare.serverIP = VCLIP("::1")!
        _ = program.run(.hash, bare)
        #expect(bare.hashData == ["/a", "::1"])
    }

    @Test func simpleStates() {
        let context = Support.request(program)
        #expect(program.run(.hit, context) == .deliver)
        #expect(program.run(.miss, context) == .fetch)
        #expect(program.run(.pass, context) == .fetch)
        #expect(program.run(.pipe, context) == .pipe)
        #expect(program.run(.purge, context) == .synth(status: 200, reason: "Purged"))
        #expect(program.run(.deliver, context) == .deliver)
        #expect(program.run(.backendFetch, context) == .fetch)
        #expect(program.run(.initialize, context) == .ok)
        #expect(program.run(.finalize, context) == .ok)
    }

    func response(_ headers: [(String, String)], ttl: Double = 60, uncacheableRequest: Bool = false) -> VCLContext {
        let context = Support.request(program)
        Support.prepareBackend(context)
        context.bereq.uncacheable = uncacheableRequest
        context.beresp.ttl = ttl
        context.beresp.headers = HeaderList(headers.map { (name: $0.0, value: $0.1) })
        return context
    }

    @Test func cacheableResponseKeepsItsTtl() {
        let context = response([("Cache-Control", "max-age=60")])
        #expect(program.run(.backendResponse, context) == .deliver)
        #expect(!context.beresp.uncacheable)
        #expect(context.beresp.ttl == 60)
    }

    @Test(arguments: [
        [("Set-Cookie", "a=1")], [("Cache-Control", "private")], [("Cache-Control", "no-cache")],
        [("Cache-Control", "max-age=0, No-Store")], [("Vary", "*")], [("Surrogate-Control", "no-store")],
    ])
    func uncacheableResponsesBecomeHitForMiss(_ headers: [(String, String)]) {
        let context = response(headers)
        #expect(program.run(.backendResponse, context) == .deliver)
        #expect(context.beresp.uncacheable)
        #expect(!context.beresp.hitForPass)
        #expect(context.beresp.ttl == 120)
    }

    @Test func zeroTtlIsHitForMiss() {
        let context = response([], ttl: 0)
        _ = program.run(.backendResponse, context)
        #expect(context.beresp.uncacheable && context.beresp.ttl == 120)
    }

    @Test func surrogateControlOverridesCacheControl() {
        let context = response([("Surrogate-Control", "max-age=10"), ("Cache-Control", "private")])
        _ = program.run(.backendResponse, context)
        #expect(!context.beresp.uncacheable)
    }

    @Test func passedRequestsAreNotTouched() {
        let context = response([("Set-Cookie", "a=1")], uncacheableRequest: true)
        #expect(program.run(.backendResponse, context) == .deliver)
        #expect(!context.beresp.uncacheable)
        #expect(context.beresp.ttl == 60)
    }

    @Test func synthPage() {
        let context = Support.request(program)
        context.resp.status = 404
        context.resp.reason = "Not Found"
        context.req.xidNumber = 1234
        #expect(program.run(.synth, context) == .deliver)
        #expect(context.resp.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(context.resp.headers["Retry-After"] == "5")
        #expect(context.syntheticBody.contains("<title>404 Not Found</title>"))
        #expect(context.syntheticBody.contains("XID: 1234"))
    }

    @Test func backendErrorPage() {
        let context = Support.request(program)
        context.beresp.status = 503
        context.beresp.reason = "Backend fetch failed"
        #expect(program.run(.backendError, context) == .deliver)
        #expect(context.syntheticBody.contains("Error 503 Backend fetch failed"))
        #expect(context.beresp.headers["Content-Type"] == "text/html; charset=utf-8")
    }

    @Test func userCodeRunsFirstThenFallsThrough() throws {
        let program = try Support.compile("""
            vcl 4.1;
            sub vcl_recv { set req.http.X-Seen = "yes"; if (req.url == "/nocache") { return (pass); } }
            """)
        let plain = Support.request(program)
        #expect(program.run(.recv, plain) == .hash)
        #expect(plain.req.headers["X-Seen"] == "yes")
        #expect(program.run(.recv, Support.request(program, "GET", "/nocache")) == .pass)
        #expect(program.run(.recv, Support.request(program, "POST")) == .pass)
    }

    @Test("Varnish 7's split built-in: code added to vcl_req_cookie or vcl_beresp_stale changes the method; vcl_builtin_* can be called")
    func splitBuiltinSubs() throws {
        let program = try Support.compile("""
            vcl 4.1;
            sub vcl_req_cookie { return; }
            sub vcl_beresp_stale { if (beresp.ttl + beresp.grace > 0s) { return; } }
            sub vcl_deliver { call vcl_builtin_deliver; set resp.http.X-Deliver = "mine"; }
            """)
        #expect(program.run(.recv, Support.request(program, headers: [("Host", "a"), ("Cookie", "x=1")])) == .hash)
        #expect(program.run(.recv, Support.request(program, headers: [("Host", "a"), ("Authorization", "b")])) == .pass)
        let stale = Support.request(program)
        stale.beresp.ttl = -2
        stale.beresp.grace = 10
        #expect(program.run(.backendResponse, stale) == .deliver)
        #expect(!stale.beresp.uncacheable)  // a stale response in grace is kept, not hit-for-miss
        let gone = Support.request(program)
        gone.beresp.ttl = -2
        gone.beresp.grace = 0
        _ = program.run(.backendResponse, gone)
        #expect(gone.beresp.uncacheable && gone.beresp.ttl == 120)
        #expect(program.defines(.deliver))
        // The unchanged built-in still refuses cookies.
        #expect(self.program.run(.recv, Support.request(self.program, headers: [("Host", "a"), ("Cookie", "x=1")])) == .pass)
    }

    @Test("vcl_req_host lower-cases a Host with capitals (both forms); STRING .lower() and .upper()")
    func hostLowerCased() throws {
        for native in [true, false] {
            let program = try VCLCompiler.compile(source: "vcl 4.1;", nativeBuiltins: native)
            let context = Support.request(program, headers: [("Host", "WWW.Example.COM:8080")])
            #expect(program.run(.recv, context) == .hash)
            #expect(context.req.headers["Host"] == "www.example.com:8080")
        }
        let methods = try Support.compile("""
            vcl 4.1;
            sub vcl_recv { set req.http.U = req.http.x.upper(); set req.http.L = req.url.lower(); }
            """)
        let context = Support.request(methods, "GET", "/A/b", headers: [("Host", "a"), ("x", "mIxEd")])
        _ = methods.run(.recv, context)
        #expect(context.req.headers["U"] == "MIXED" && context.req.headers["L"] == "/a/b")
    }
}
