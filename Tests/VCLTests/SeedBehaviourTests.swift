import Testing
@testable import VCL

/// The two seed configurations, run through the runtime as the server would drive them.
@Suite struct ShopSeedTests {
    let program: VCLProgram

    init() throws {
        program = try VCLCompiler.compile(file: Support.corpus.appendingPathComponent("seeds/shop-varnish3.vcl").path)
    }

    @Test func cookieIsStrippedWithoutSession() {
        let context = Support.request(program, headers: [("Host", "shop.example"), ("Cookie", "theme=dark; lang=en")])
        #expect(program.run(.recv, context) == .hash)
        #expect(context.req.headers["Cookie"] == nil)
    }

    @Test func jsessionidPasses() {
        let context = Support.request(program, headers: [("Host", "shop.example"), ("Cookie", "JSESSIONID=abc123")])
        #expect(program.run(.recv, context) == .pass)
        #expect(context.req.headers["Cookie"] == "JSESSIONID=abc123")
        #expect(context.logLines == ["found jsessionid in request, passing to backend server"])
    }

    @Test func postPasses() {
        let context = Support.request(program, "POST", "/cart", headers: [("Host", "shop.example")])
        #expect(program.run(.recv, context) == .pass)
    }

    @Test func hashUsesUrlAndHost() {
        let context = Support.request(program, "GET", "/item/1", headers: [("Host", "shop.example")])
        #expect(program.run(.hash, context) == .lookup)
        #expect(context.hashData == ["/item/1", "shop.example"])
    }

    @Test func backendResponseCachesTenMinutesWithoutCookies() {
        let context = Support.request(program, "GET", "/item/1", headers: [("Host", "shop.example")])
        Support.prepareBackend(context)
        context.beresp.headers = HeaderList([("Set-Cookie", "tracking=1"), ("Content-Type", "text/html")])
        #expect(program.run(.backendResponse, context) == .deliver)
        #expect(context.beresp.ttl == 600)
        #expect(context.beresp.headers["Set-Cookie"] == nil)
        #expect(!context.beresp.uncacheable)
        #expect(context.logLines == ["removing cookie in url /item/1"])
    }

    @Test func backendResponseForPostIsHitForPass() {
        let context = Support.request(program, "POST", "/cart", headers: [("Host", "shop.example")])
        Support.prepareBackend(context)
        #expect(program.run(.backendResponse, context) == .deliver)
        #expect(context.beresp.uncacheable)
        #expect(context.beresp.hitForPass)
        #expect(context.beresp.ttl == 120)
        #expect(context.logLines == ["not removing cookie/passing POST, url /cart"])
    }

    @Test func deliverMarksHitsAndMisses() {
        let hit = Support.request(program)
        hit.obj.hits = 3
        #expect(program.run(.deliver, hit) == .deliver)
        #expect(hit.resp.headers["X-Cache-Action"] == "HIT")
        #expect(hit.resp.headers["X-Cache-Hits"] == "3")

        let miss = Support.request(program)
        #expect(program.run(.deliver, miss) == .deliver)
        #expect(miss.resp.headers["X-Cache-Action"] == "MISS")
        #expect(miss.resp.headers["X-Cache-Hits"] == nil)
    }

    @Test func backendIsDeclared() {
        var expected = VCLBackend(name: "default", host: "localhost")
        expected.port = "80"
        #expect(program.backends == [expected])
        #expect(program.defaultBackend == "default")
    }
}

@Suite struct UpstageSeedTests {
    let program: VCLProgram

    init() throws {
        program = try VCLCompiler.compile(file: Support.corpus.appendingPathComponent("seeds/upstage-varnish2.vcl").path)
    }

    let host = ("Host", "www.upstage.example.org")

    @Test func adminPasses() {
        let context = Support.request(program, "GET", "/admin/users", headers: [host, ("Cookie", "sessionid=1")])
        #expect(program.run(.recv, context) == .pass)
        #expect(context.req.backendHint == "upstage")
    }

    @Test func swfPasses() {
        let context = Support.request(program, "GET", "/swf/player", headers: [host])
        #expect(program.run(.recv, context) == .pass)
    }

    @Test func mediaIsLookedUpWithoutCookieOrAuthorization() {
        let context = Support.request(program, "GET", "/media/pic.png",
                                      headers: [host, ("Cookie", "sessionid=1"), ("Authorization", "Basic x")])
        #expect(program.run(.recv, context) == .hash)
        #expect(context.req.headers["Cookie"] == nil)
        #expect(context.req.headers["Authorization"] == nil)
    }

    @Test func staticFilesAreLookedUpWithoutCookie() {
        let context = Support.request(program, "GET", "/theme/site.css", headers: [host, ("Cookie", "a=b")])
        #expect(program.run(.recv, context) == .hash)
        #expect(context.req.headers["Cookie"] == nil)
    }

    @Test func postPasses() {
        let context = Support.request(program, "POST", "/stage/1", headers: [host])
        #expect(program.run(.recv, context) == .pass)
    }

    @Test func unknownMethodPipes() {
        let context = Support.request(program, "PROPFIND", "/dav", headers: [host])
        #expect(program.run(.recv, context) == .pipe)
    }

    @Test func noCacheRequestIssuesBan() {
        let context = Support.request(program, "GET", "/media/a.mp3", headers: [host, ("Cache-Control", "no-cache")])
        #expect(program.run(.recv, context) == .hash)
        #expect(context.bans == ["req.url ~ /media/a.mp3"])
    }

    @Test func otherGetFallsThroughToBuiltin() {
        let plain = Support.request(program, "GET", "/stage/1", headers: [host])
        #expect(program.run(.recv, plain) == .hash)
        let withCookie = Support.request(program, "GET", "/stage/1", headers: [host, ("Cookie", "a=b")])
        #expect(program.run(.recv, withCookie) == .pass)
    }

    @Test func hashOnUrlAndHostOrServerIP() {
        let context = Support.request(program, "GET", "/media/x", headers: [host])
        #expect(program.run(.hash, context) == .lookup)
        #expect(context.hashData == ["/media/x", "www.upstage.example.org"])

        let noHost = Support.request(program, "GET", "/media/x", headers: [])
        noHost.serverIP = VCLIP("192.0.2.10")!
        #expect(program.run(.hash, noHost) == .lookup)
        #expect(noHost.hashData == ["/media/x", "192.0.2.10"])
    }

    @Test func mediaCachedTwelveHours() {
        let context = Support.request(program, "GET", "/media/pic.png", headers: [host])
        Support.prepareBackend(context)
        context.beresp.headers = HeaderList([("Set-Cookie", "x=1")])
        #expect(program.run(.backendResponse, context) == .deliver)
        #expect(context.beresp.ttl == 12 * 3600)
        #expect(context.beresp.headers["Set-Cookie"] == nil)
        #expect(!context.beresp.uncacheable)
    }

    @Test func errorStatusIsHitForPass() {
        let context = Support.request(program, "GET", "/stage/2", headers: [host])
        Support.prepareBackend(context)
        context.beresp.status = 404
        #expect(program.run(.backendResponse, context) == .deliver)
        #expect(context.beresp.uncacheable && context.beresp.hitForPass)
        #expect(context.beresp.ttl == 120)
    }

    @Test func maxAgeResponseKeepsTtlAndDropsCookie() {
        let context = Support.request(program, "GET", "/stage/3", headers: [host])
        Support.prepareBackend(context)
        context.beresp.ttl = 300
        context.beresp.headers = HeaderList([("Cache-Control", "max-age=300"), ("Set-Cookie", "s=1")])
        #expect(program.run(.backendResponse, context) == .deliver)
        #expect(context.beresp.ttl == 300)
        #expect(context.beresp.headers["Set-Cookie"] == nil)
        #expect(!context.beresp.uncacheable)
    }
}
