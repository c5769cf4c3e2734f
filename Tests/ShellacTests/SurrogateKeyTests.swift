import Foundation
import NIOHTTP1
import Testing

@testable import Shellac

/// Surrogate keys (vmod xkey's API) and vmod purge's hard and soft purges, over real sockets.
@Suite("Surrogate keys and soft purges")
struct SurrogateKeyTests {
    static let vcl = """
        vcl 4.1;
        import xkey;
        import purge;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        sub vcl_recv {
            if (req.method == "XKEY") {
                return (synth(200, "purged " + xkey.purge(req.http.X-Keys)));
            }
            if (req.method == "SOFTKEY") {
                return (synth(200, "soft " + xkey.softpurge(req.http.X-Keys)));
            }
            if (req.method == "SOFTPURGE") { set req.method = "GET"; set req.http.X-Soft = "1"; }
        }
        sub vcl_hit {
            if (req.http.X-Soft) { return (synth(200, "soft-purged " + purge.soft(0s, 60s))); }
        }
        sub vcl_backend_response { set beresp.ttl = 60s; set beresp.grace = 0s; }
        """

    @Test("xkey.purge removes every object tagged with a key (xkey and Surrogate-Key); softpurge keeps them for grace")
    func keys() async throws {
        let counter = TestCounter()
        let origin = try await TestOrigin.start { request in
            let tags = request.path.hasPrefix("/product") ? "product-1 listing" : "listing"
            let header = request.path.hasSuffix("b") ? "Surrogate-Key" : "xkey"
            return TestOrigin.Response(headers: [header: tags], body: "\(request.path) v\(counter.next())")
        }
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            for path in ["/product/a", "/product/b", "/list"] { _ = try await fetch(proxy.url(path)) }
            let purge = try await fetch(proxy.url("/"), method: .RAW(value: "XKEY"), headers: [("X-Keys", "product-1")])
            #expect(purge.status == 200 && purge.body.contains("purged 2"))
            #expect(!(try await fetch(proxy.url("/product/a"))).isHit)
            #expect(try await fetch(proxy.url("/list")).isHit)
            let admin = BackendHealthTests.admin(proxy).execute(["xkey.purge", "listing"])
            #expect(admin.status == 200 && admin.body == "Purged 2 objects")  // /list and the refetched /product/a
            let soft = try await fetch(proxy.url("/"), method: .RAW(value: "SOFTKEY"), headers: [("X-Keys", "nothing")])
            #expect(soft.body.contains("soft 0"))
        }
    }

    @Test("purge.soft in vcl_hit expires the object now but keeps it for the grace given")
    func softPurge() async throws {
        let counter = TestCounter()
        let origin = try await TestOrigin.start { _ in TestOrigin.Response(body: "v\(counter.next())") }
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            #expect(try await fetch(proxy.url("/s")).body == "v1")
            let soft = try await fetch(proxy.url("/s"), method: .RAW(value: "SOFTPURGE"))
            #expect(soft.body.contains("soft-purged 1"))
            // Stale now, inside its new grace: answered at once, refreshed in the background.
            let stale = try await fetch(proxy.url("/s"))
            #expect(stale.body == "v1")
            #expect(await origin.waitForRequests(2))
        }
    }
}
