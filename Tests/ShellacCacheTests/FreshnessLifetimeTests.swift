import Testing
import VCL
@testable import ShellacCache

@Suite("Freshness lifetime (RFC 9111 §4.2.1, Varnish's TTL rules)")
struct FreshnessLifetimeTests {
    /// Mon, 23 Nov 2026 18:40:00 GMT
    static let now: Double = 1_795_459_200
    static let nowDate = "Mon, 23 Nov 2026 18:40:00 GMT"
    static let inOneHour = "Mon, 23 Nov 2026 19:40:00 GMT"
    static let oneHourAgo = "Mon, 23 Nov 2026 17:40:00 GMT"

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var status = 200
        var headers: [(String, String)]
        var ttl: Double
        var grace: Double = 10
        var originAge = 0
        var source: FreshnessLifetime.Source
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "nothing: default_ttl", headers: [], ttl: 120, source: .defaultTTL),
        Case(name: "max-age", headers: [("Cache-Control", "max-age=60")], ttl: 60, source: .maxAge),
        Case(name: "s-maxage beats max-age", headers: [("Cache-Control", "max-age=60, s-maxage=300")], ttl: 300, source: .sMaxAge),
        Case(name: "s-maxage after max-age in text", headers: [("Cache-Control", "s-maxage=5"), ("Cache-Control", "max-age=60")], ttl: 5, source: .sMaxAge),
        Case(name: "max-age beats Expires", headers: [("Cache-Control", "max-age=60"), ("Date", nowDate), ("Expires", inOneHour)], ttl: 60, source: .maxAge),
        Case(name: "invalid max-age is stale and still beats Expires", headers: [("Cache-Control", "max-age=soon"), ("Expires", inOneHour)], ttl: 0, source: .maxAge),
        Case(name: "negative max-age", headers: [("Cache-Control", "max-age=-10")], ttl: 0, source: .maxAge),
        Case(name: "invalid s-maxage is stale", headers: [("Cache-Control", "s-maxage=x, max-age=60")], ttl: 0, source: .sMaxAge),
        Case(name: "huge max-age clamps", headers: [("Cache-Control", "max-age=999999999999")], ttl: 2_147_483_648, source: .maxAge),
        Case(name: "Expires - Date", headers: [("Date", nowDate), ("Expires", inOneHour)], ttl: 3600, source: .expires),
        Case(name: "Expires - Date uses Date, not now", headers: [("Date", oneHourAgo), ("Expires", nowDate)], ttl: 3600, source: .expires),
        Case(name: "Expires without Date uses now", headers: [("Expires", inOneHour)], ttl: 3600, source: .expires),
        Case(name: "Expires with invalid Date uses now", headers: [("Date", "yesterday"), ("Expires", inOneHour)], ttl: 3600, source: .expires),
        Case(name: "Expires: 0 is already expired", headers: [("Date", nowDate), ("Expires", "0")], ttl: 0, source: .invalidExpires),
        Case(name: "Expires: -1", headers: [("Expires", "-1")], ttl: 0, source: .invalidExpires),
        Case(name: "empty Expires", headers: [("Expires", "")], ttl: 0, source: .invalidExpires),
        Case(name: "Expires in the past", headers: [("Date", nowDate), ("Expires", oneHourAgo)], ttl: 0, source: .invalidExpires),
        Case(name: "Expires equal to Date", headers: [("Date", nowDate), ("Expires", nowDate)], ttl: 0, source: .invalidExpires),
        Case(name: "Expires in asctime", headers: [("Date", nowDate), ("Expires", "Mon Nov 23 19:40:00 2026")], ttl: 3600, source: .expires),
        Case(name: "first Expires line wins", headers: [("Date", nowDate), ("Expires", inOneHour), ("Expires", "0")], ttl: 3600, source: .expires),
        Case(name: "Age subtracted from max-age", headers: [("Cache-Control", "max-age=60"), ("Age", "20")], ttl: 40, originAge: 20, source: .maxAge),
        Case(name: "Age beyond max-age gives negative ttl", headers: [("Cache-Control", "max-age=60"), ("Age", "100")], ttl: -40, originAge: 100, source: .maxAge),
        Case(name: "Age subtracted from Expires", headers: [("Date", nowDate), ("Expires", inOneHour), ("Age", "600")], ttl: 3000, originAge: 600, source: .expires),
        Case(name: "Age subtracted from default_ttl", headers: [("Age", "20")], ttl: 100, originAge: 20, source: .defaultTTL),
        Case(name: "invalid Age ignored", headers: [("Cache-Control", "max-age=60"), ("Age", "20, 30")], ttl: 60, source: .maxAge),
        Case(name: "negative Age ignored", headers: [("Cache-Control", "max-age=60"), ("Age", "-20")], ttl: 60, source: .maxAge),
        Case(name: "stale-while-revalidate sets grace", headers: [("Cache-Control", "max-age=60, stale-while-revalidate=300")], ttl: 60, grace: 300, source: .maxAge),
        Case(name: "invalid stale-while-revalidate: no grace", headers: [("Cache-Control", "max-age=60, stale-while-revalidate=x")], ttl: 60, grace: 0, source: .maxAge),
        Case(name: "stale-while-revalidate with max-age=0", headers: [("Cache-Control", "max-age=0, stale-while-revalidate=30")], ttl: 0, grace: 30, source: .maxAge),
        Case(name: "stale-while-revalidate applies before Age is subtracted", headers: [("Cache-Control", "max-age=10, stale-while-revalidate=30"), ("Age", "20")], ttl: -10, grace: 30, originAge: 20, source: .maxAge),
        Case(name: "no-cache does not change the ttl", headers: [("Cache-Control", "no-cache, max-age=60")], ttl: 60, source: .maxAge),
        Case(name: "404 default", status: 404, headers: [], ttl: 120, source: .defaultTTL),
        Case(name: "304 like 200", status: 304, headers: [("Cache-Control", "max-age=5")], ttl: 5, source: .maxAge),
        Case(name: "500 never", status: 500, headers: [("Cache-Control", "max-age=60")], ttl: -1, source: .uncacheableStatus),
        Case(name: "206 never", status: 206, headers: [("Cache-Control", "max-age=60")], ttl: -1, source: .uncacheableStatus),
        Case(name: "201 never", status: 201, headers: [], ttl: -1, source: .uncacheableStatus),
        Case(name: "503 ignores swr", status: 503, headers: [("Cache-Control", "stale-while-revalidate=30")], ttl: -1, grace: 10, source: .uncacheableStatus),
        Case(name: "302 without freshness is not cached", status: 302, headers: [], ttl: -1, source: .uncacheableStatus),
        Case(name: "307 without freshness is not cached", status: 307, headers: [("Age", "5")], ttl: -1, originAge: 5, source: .uncacheableStatus),
        Case(name: "302 with max-age", status: 302, headers: [("Cache-Control", "max-age=30")], ttl: 30, source: .maxAge),
        Case(name: "307 with Expires", status: 307, headers: [("Expires", inOneHour)], ttl: 3600, source: .expires),
        Case(name: "301 default", status: 301, headers: [], ttl: 120, source: .defaultTTL),
    ]

    @Test(arguments: cases)
    func lifetime(_ c: Case) {
        let result = FreshnessLifetime.compute(status: c.status, headers: HeaderList(c.headers), now: Self.now)
        #expect(result.ttl == c.ttl)
        #expect(result.grace == c.grace)
        #expect(result.keep == 0)
        #expect(result.originAge == c.originAge)
        #expect(result.source == c.source)
    }

    @Test func defaultsArePassedThrough() {
        let defaults = FreshnessDefaults(ttl: 5, grace: 7, keep: 9)
        let result = FreshnessLifetime.compute(status: 200, headers: HeaderList(), now: Self.now, defaults: defaults)
        #expect(result == FreshnessLifetime(ttl: 5, grace: 7, keep: 9, originAge: 0, source: .defaultTTL))
        let swr = FreshnessLifetime.compute(
            status: 200, headers: HeaderList([("Cache-Control", "max-age=1, stale-while-revalidate=2")]), now: Self.now,
            defaults: defaults)
        #expect(swr == FreshnessLifetime(ttl: 1, grace: 2, keep: 9, originAge: 0, source: .maxAge))
    }

    @Test func varnishDefaults() {
        #expect(FreshnessDefaults.varnish == FreshnessDefaults(ttl: 120, grace: 10, keep: 0))
    }

    @Test func preParsedCacheControlIsUsed() {
        let headers = HeaderList([("Cache-Control", "max-age=60")])
        let result = FreshnessLifetime.compute(
            status: 200, headers: headers, cacheControl: CacheControl("max-age=7"), now: Self.now)
        #expect(result.ttl == 7)
    }

    @Test func fractionalNowWithExpiresWithoutDate() {
        let result = FreshnessLifetime.compute(
            status: 200, headers: HeaderList([("Expires", Self.inOneHour)]), now: Self.now + 0.25)
        #expect(result.ttl == 3599.75)
    }
}
