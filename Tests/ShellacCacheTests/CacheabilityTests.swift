import Testing
import VCL
@testable import ShellacCache

@Suite("Cacheability (Varnish builtin.vcl)")
struct CacheabilityTests {
    @Test(arguments: 100..<600)
    func cacheableStatuses(status: Int) {
        let expected: Set = [200, 203, 204, 300, 301, 302, 304, 307, 404, 410, 414]
        #expect(Cacheability.isCacheableStatus(status) == expected.contains(status))
    }

    @Test(arguments: [-1, 0, 99, 1200, Int.max, Int.min])
    func oddStatuses(status: Int) {
        #expect(!Cacheability.isCacheableStatus(status))
    }

    @Test(arguments: [
        ([], 120, nil),
        ([("Cache-Control", "max-age=60")], 60, nil),
        ([("Cache-Control", "public, max-age=60")], 60, nil),
        ([], 0, .notFresh),
        ([], -1, .notFresh),
        ([], .nan, .notFresh),
        ([("Set-Cookie", "a=b")], 0, .notFresh),  // ttl is checked first
        ([("Set-Cookie", "a=b")], 60, .setCookie),
        ([("set-cookie", "")], 60, .setCookie),
        ([("Set-Cookie", "a=b"), ("Cache-Control", "no-store")], 60, .setCookie),
        ([("Cache-Control", "private")], 60, .cacheControlPrivate),
        ([("Cache-Control", "PRIVATE, max-age=60")], 60, .cacheControlPrivate),
        ([("Cache-Control", "private=\"Set-Cookie\"")], 60, .cacheControlPrivate),
        ([("Cache-Control", "no-cache")], 60, .cacheControlNoCache),
        ([("Cache-Control", "no-cache=\"Set-Cookie\"")], 60, .cacheControlNoCache),
        ([("Cache-Control", "no-store")], 60, .cacheControlNoStore),
        ([("Cache-Control", "max-age=60"), ("Cache-Control", "no-store")], 60, .cacheControlNoStore),
        ([("Cache-Control", "no-cache, no-store, private")], 60, .cacheControlNoStore),
        ([("Cache-Control", "max-age=60, x=\"private\"")], 60, nil),  // parsed, not regex-matched
        ([("Cache-Control", "privately")], 60, nil),
        ([("Surrogate-Control", "no-store")], 60, .surrogateControlNoStore),
        ([("Surrogate-Control", "max-age=60, No-Store")], 60, .surrogateControlNoStore),
        ([("Surrogate-Control", "no-store;edge1")], 60, .surrogateControlNoStore),
        ([("Surrogate-Control", "no-store-remote")], 60, .surrogateControlNoStore),
        ([("Surrogate-Control", "content=\"ESI/1.0\"")], 60, nil),
        // With Surrogate-Control present, Cache-Control is not consulted (builtin.vcl).
        ([("Surrogate-Control", "max-age=60"), ("Cache-Control", "private")], 60, nil),
        ([("Vary", "*")], 60, .varyAny),
        ([("Vary", "Accept-Encoding, *")], 60, .varyAny),
        ([("Vary", "Accept-Encoding"), ("Vary", " * ")], 60, .varyAny),
        ([("Vary", "Accept-Encoding")], 60, nil),
        ([("Vary", "")], 60, nil),
        ([("Cache-Control", "private"), ("Vary", "*")], 60, .cacheControlPrivate),
    ] as [([(String, String)], Double, UncacheableReason?)])
    func builtinRule(headers: [(String, String)], ttl: Double, reason: UncacheableReason?) {
        #expect(Cacheability.uncacheableReason(headers: HeaderList(headers), ttl: ttl) == reason)
    }

    @Test func preParsedCacheControl() {
        let headers = HeaderList([("Cache-Control", "private")])
        #expect(Cacheability.uncacheableReason(headers: headers, ttl: 10, cacheControl: CacheControl()) == nil)
    }

    @Test func reasonsDescribeThemselves() {
        #expect(UncacheableReason.setCookie.description == "Set-Cookie")
        #expect("\(UncacheableReason.notFresh)" == "ttl <= 0")
        #expect(Cacheability.hitForMissTTL == 120)
    }
}
