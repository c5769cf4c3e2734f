import Testing
@testable import VCL

/// The seed configurations driven through whole request flows by `MiniCache`.
@Suite struct SeedFlowTests {
    func cache(_ seed: String) throws -> MiniCache {
        MiniCache(program: try VCLCompiler.compile(file: Support.corpus.appendingPathComponent("seeds/\(seed)").path))
    }

    @Test func shopCachesAnonymousPagesForTenMinutes() throws {
        let shop = try cache("shop-varnish3.vcl")
        shop.origin = { _ in (200, HeaderList([("Set-Cookie", "track=1"), ("Content-Type", "text/html")]), 0) }
        let host = ("Host", "shop.example")
        let first = shop.handle("GET", "/product/7", [host, ("Cookie", "theme=dark")])
        #expect(first.path == ["recv", "hash", "miss", "backend_fetch", "backend_response", "deliver"])
        #expect(first.response.headers["X-Cache-Action"] == "MISS")
        #expect(first.response.headers["Set-Cookie"] == nil)
        #expect(shop.backendRequests.first?.headers["Cookie"] == nil)
        #expect(shop.stored("/product/7", host: "shop.example")?.ttl == 600)

        let second = shop.handle("GET", "/product/7", [host])
        #expect(second.path == ["recv", "hash", "hit", "deliver"])
        #expect(second.response.headers["X-Cache-Action"] == "HIT")
        #expect(second.response.headers["X-Cache-Hits"] == "1")
        let third = shop.handle("GET", "/product/7", [host, ("Cookie", "x=y")])
        #expect(third.response.headers["X-Cache-Hits"] == "2")
        #expect(shop.backendRequests.count == 1)
    }

    @Test func shopSessionsAndPostsGoToTheBackend() throws {
        let shop = try cache("shop-varnish3.vcl")
        let host = ("Host", "shop.example")
        let session = shop.handle("GET", "/account", [host, ("Cookie", "JSESSIONID=42")])
        #expect(session.path == ["recv", "pass", "backend_fetch", "backend_response", "deliver"])
        #expect(shop.backendRequests.last?.headers["Cookie"] == "JSESSIONID=42")
        let post = shop.handle("POST", "/cart", [host])
        #expect(post.path.contains("pass"))
        #expect(shop.store.isEmpty)
    }

    @Test func upstageFlows() throws {
        let upstage = try cache("upstage-varnish2.vcl")
        upstage.origin = { request in
            request.url.hasPrefix("/media/") ? (200, HeaderList([("Set-Cookie", "s=1")]), 120) : (200, HeaderList(), 120)
        }
        let host = ("Host", "upstage.example.org")

        let media = upstage.handle("GET", "/media/stage.jpg", [host, ("Cookie", "sessionid=9")])
        #expect(media.path == ["recv", "hash", "miss", "backend_fetch", "backend_response", "deliver"])
        #expect(upstage.backendRequests.last?.headers["Cookie"] == nil)
        #expect(upstage.stored("/media/stage.jpg", host: "upstage.example.org")?.ttl == 43200)
        #expect(media.response.headers["Set-Cookie"] == nil)
        #expect(upstage.handle("GET", "/media/stage.jpg", [host]).path == ["recv", "hash", "hit", "deliver"])

        let admin = upstage.handle("GET", "/admin/", [host])
        #expect(admin.path.starts(with: ["recv", "pass"]))
        #expect(admin.context.req.backendHint == "upstage")

        let dav = upstage.handle("MKCOL", "/files/", [host])
        #expect(dav.path == ["recv", "pipe"])

        let missingHost = upstage.handle("GET", "/", [])
        #expect(missingHost.path == ["recv", "synth"])
        #expect(missingHost.response.status == 400)
        #expect(missingHost.body.contains("400 Bad Request"))
    }

    @Test func upstageErrorsBecomeHitForPass() throws {
        let upstage = try cache("upstage-varnish2.vcl")
        upstage.origin = { _ in (503, HeaderList(), 120) }
        let host = ("Host", "upstage.example.org")
        _ = upstage.handle("GET", "/stage/1", [host])
        #expect(upstage.stored("/stage/1", host: "upstage.example.org")?.marker == .hitForPass)
        let again = upstage.handle("GET", "/stage/1", [host])
        #expect(again.path == ["recv", "hash", "pass", "backend_fetch", "backend_response", "deliver"])
    }

    @Test func builtinHitForMissAndPurge() throws {
        let program = try Support.compile("""
            vcl 4.1;
            backend default { .host = "127.0.0.1"; }
            sub vcl_recv { if (req.method == "PURGE") { return (purge); } }
            """)
        let mini = MiniCache(program: program)
        mini.origin = { _ in (200, HeaderList([("Cache-Control", "private")]), 60) }
        let host = ("Host", "h")
        _ = mini.handle("GET", "/p", [host])
        #expect(mini.stored("/p", host: "h")?.marker == .hitForMiss)
        #expect(mini.handle("GET", "/p", [host]).path.contains("miss"))

        mini.origin = { _ in (200, HeaderList(), 60) }
        _ = mini.handle("GET", "/q", [host])
        #expect(mini.stored("/q", host: "h") != nil)
        let purge = mini.handle("PURGE", "/q", [host])
        #expect(purge.path == ["recv", "purge", "synth"])
        #expect(purge.response.status == 200 && purge.response.reason == "Purged")
        #expect(mini.stored("/q", host: "h") == nil)
    }
}
