import Foundation
import NIOHTTP1
import Testing

/// The two seed configurations, loaded as users bring them (Varnish 2.x and 3.x dialects),
/// behaving over real sockets as their documents describe.
@Suite("Seed VCL end to end")
struct SeedVCLTests {
    static let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("VCLTests/Corpus/seeds")
    static var shop: String { seeds.appendingPathComponent("shop-varnish3.vcl").path }
    static var upstage: String { seeds.appendingPathComponent("upstage-varnish2.vcl").path }

    /// An origin that echoes what it saw and tries to set a cookie on everything.
    static func echoOrigin() async throws -> TestOrigin {
        try await TestOrigin.start { request in
            Response(
                headers: ["Set-Cookie": "session=fresh", "Cache-Control": "max-age=60"],
                body: "\(request.method) \(request.uri) cookie=\(request.header("Cookie") ?? "none")")
        }
    }

    @Test("shop: other cookies are stripped, the page is cached 600 s, hits are counted on deliver")
    func shopCachesStatelessUsers() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, vclFile: Self.shop) { proxy in
            let first = try await fetch(proxy.url("/offer"), headers: [("Cookie", "tracking=1")])
            #expect(first.body == "GET /offer cookie=none")
            #expect(first.header("X-Cache-Action") == "MISS")
            #expect(first.header("Set-Cookie") == nil)
            let second = try await fetch(proxy.url("/offer"), headers: [("Cookie", "tracking=2")])
            #expect(second.header("X-Cache-Action") == "HIT")
            #expect(second.header("X-Cache-Hits") == "1")
            let third = try await fetch(proxy.url("/offer"))
            #expect(third.header("X-Cache-Hits") == "2")
            #expect(origin.requestCount == 1)
        }
    }

    @Test("shop: a JSESSIONID user and a POST go to the backend every time")
    func shopPassesSessions() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, vclFile: Self.shop) { proxy in
            for _ in 0..<2 {
                let response = try await fetch(proxy.url("/cart"), headers: [("Cookie", "JSESSIONID=abc")])
                #expect(response.body == "GET /cart cookie=JSESSIONID=abc")
            }
            let post = try await fetch(proxy.url("/cart"), method: .POST, body: "item=1")
            #expect(post.body.hasPrefix("POST /cart"))
            #expect(origin.requestCount == 3)
        }
    }

    @Test("upstage: /admin/ passes, /media/ and static files are cached without cookies")
    func upstageRules() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, vclFile: Self.upstage) { proxy in
            let host = ("Host", "www.upstage.example.org")
            _ = try await fetch(proxy.url("/admin/stage"), headers: [host])
            _ = try await fetch(proxy.url("/admin/stage"), headers: [host])
            #expect(origin.requestCount(path: "/admin/stage") == 2)

            let media = try await fetch(proxy.url("/media/a.png"), headers: [host, ("Cookie", "u=1")])
            #expect(media.body == "GET /media/a.png cookie=none")
            #expect(media.header("Set-Cookie") == nil)
            let again = try await fetch(proxy.url("/media/a.png"), headers: [host, ("Cookie", "u=2")])
            #expect(again.isHit)
            #expect(origin.requestCount(path: "/media/a.png") == 1)

            let style = try await fetch(proxy.url("/site.css"), headers: [host, ("Cookie", "u=3")])
            #expect(style.body == "GET /site.css cookie=none")
            #expect(try await fetch(proxy.url("/site.css"), headers: [host]).isHit)
        }
    }

    @Test("upstage: Cache-Control: no-cache from the browser (shift+reload) purges the URL")
    func upstageShiftReload() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, vclFile: Self.upstage) { proxy in
            let host = ("Host", "www.upstage.example.org")
            _ = try await fetch(proxy.url("/media/b.mp3"), headers: [host])
            #expect(try await fetch(proxy.url("/media/b.mp3"), headers: [host]).isHit)
            let reload = try await fetch(proxy.url("/media/b.mp3"), headers: [host, ("Cache-Control", "no-cache")])
            #expect(!reload.isHit)
            #expect(origin.requestCount(path: "/media/b.mp3") == 2)
        }
    }

    @Test("upstage: a method it does not know is piped to the backend")
    func upstagePipes() async throws {
        let origin = try await Self.echoOrigin()
        try await withProxy(origin: origin, vclFile: Self.upstage) { proxy in
            let response = try await RawHTTPClient.exchange(
                port: proxy.port, "PROPFIND /pot HTTP/1.1\r\nHost: www.upstage.example.org\r\n\r\n")
            #expect(response.bodyString == "PROPFIND /pot cookie=none")
            #expect(origin.requests.last?.method == "PROPFIND")
        }
    }
}
