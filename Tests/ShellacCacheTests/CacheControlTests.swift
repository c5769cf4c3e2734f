import Testing
import VCL
@testable import ShellacCache

@Suite("Cache-Control (RFC 9111 §5.2)")
struct CacheControlTests {
    @Test(arguments: [
        ("max-age=60", 60),
        ("MAX-AGE=60", 60),
        ("Max-Age=60", 60),
        ("max-age=\"60\"", 60),  // quoted form is accepted by recipients (§5.2)
        ("  max-age=60  ", 60),
        ("max-age = 60", 60),  // whitespace around "=" tolerated
        (",,max-age=60,,", 60),
        ("public, max-age=60", 60),
        ("max-age=0", 0),
        ("max-age=000120", 120),
        ("max-age=60, max-age=10", 60),  // first occurrence wins (§4.2.1)
        ("max-age=abc", 0),  // invalid: stale
        ("max-age=-1", 0),
        ("max-age=+5", 0),
        ("max-age=1.5", 0),
        ("max-age=", 0),
        ("max-age", 0),
        ("max-age=\"\"", 0),
        ("max-age=60 60", 0),
        ("max-age=\"6\\0\"", 0),
        ("max-age=\"60", 0),  // unterminated quote
        ("max-age=99999999999999999999", 2_147_483_648),  // overflow clamps (§1.2.2)
        ("max-age=2147483649", 2_147_483_648),
        ("max-age=abc, max-age=60", 0),
    ] as [(String, Int)])
    func maxAge(value: String, expected: Int) {
        #expect(CacheControl(value).maxAge == expected)
    }

    @Test(arguments: [
        "", " ", ",", ", ,", "public", "maxage=60", "max_age=60", "xmax-age=60", "max-age-x=60",
        "\"max-age=60\"", "foo=\"max-age=60\"", "foo=\"a, max-age=60\"", "s-maxage=5",
    ])
    func noMaxAge(value: String) {
        #expect(CacheControl(value).maxAge == nil)
    }

    @Test func sMaxAgeAndOthers() {
        let cc = CacheControl(
            "public, max-age=10, s-maxage=20, must-revalidate, proxy-revalidate, immutable, "
                + "stale-while-revalidate=30, stale-if-error=40, no-transform, must-understand")
        #expect(cc.maxAge == 10)
        #expect(cc.sMaxAge == 20)
        #expect(cc.isPublic && cc.mustRevalidate && cc.proxyRevalidate && cc.immutable)
        #expect(cc.noTransform && cc.mustUnderstand)
        #expect(cc.staleWhileRevalidate == 30)
        #expect(cc.staleIfError == 40)
        #expect(!cc.noCache && !cc.noStore && !cc.isPrivate)
    }

    @Test(arguments: [
        ("no-cache", nil),
        ("NO-CACHE", nil),
        ("no-cache=\"Set-Cookie\"", ["set-cookie"]),
        ("no-cache=\"Set-Cookie, X-Foo\"", ["set-cookie", "x-foo"]),
        ("no-cache=\" set-cookie ,, x-foo \"", ["set-cookie", "x-foo"]),
        ("no-cache=set-cookie", ["set-cookie"]),  // token form tolerated
        ("no-cache=\"\"", nil),  // empty list: unqualified (stricter)
        ("no-cache=\"a b\"", nil),  // malformed list: unqualified
        ("no-cache=", nil),
        ("no-cache=\"set-cookie\", no-cache=\"x\"", ["set-cookie"]),
    ] as [(String, [String]?)])
    func noCache(value: String, fields: [String]?) {
        let cc = CacheControl(value)
        #expect(cc.noCache)
        #expect(cc.noCacheFields == fields)
        #expect(cc.maxAge == nil)
    }

    @Test func commaInsideQuotedArgumentDoesNotSplit() {
        let cc = CacheControl("private=\"a, no-store\", max-age=5")
        #expect(cc.isPrivate)
        #expect(cc.privateFields == ["a", "no-store"])
        #expect(!cc.noStore)
        #expect(cc.maxAge == 5)
        let escaped = CacheControl(#"ext="a\", no-store", max-age=7"#)
        #expect(!escaped.noStore)
        #expect(escaped.maxAge == 7)
    }

    @Test(arguments: [
        ("no-store", true), ("No-Store", true), ("no-store=1", true), ("no-store ,max-age=5", true),
        ("nostore", false), ("no-stored", false), ("x-no-store", false), ("\"no-store\"", false),
        ("foo=no-store", false), ("foo=\"no-store\"", false),
    ] as [(String, Bool)])
    func noStore(value: String, expected: Bool) {
        #expect(CacheControl(value).noStore == expected)
    }

    @Test(arguments: [
        ("private", true, nil),
        ("Private", true, nil),
        ("private=\"Set-Cookie\"", true, ["set-cookie"]),
        ("privately", false, nil),
        ("public", false, nil),
    ] as [(String, Bool, [String]?)])
    func privateDirective(value: String, isPrivate: Bool, fields: [String]?) {
        let cc = CacheControl(value)
        #expect(cc.isPrivate == isPrivate)
        #expect(cc.privateFields == fields)
    }

    @Test(arguments: [
        ("stale-while-revalidate=30", 30, nil),
        ("STALE-WHILE-REVALIDATE=30", 30, nil),
        ("stale-while-revalidate", 0, nil),
        ("stale-while-revalidate=-3", 0, nil),
        ("stale-if-error=86400", nil, 86_400),
        ("stale-if-error=x", nil, 0),
        ("stale-while-revalidate=1, stale-while-revalidate=2", 1, nil),
    ] as [(String, Int?, Int?)])
    func staleDirectives(value: String, swr: Int?, sie: Int?) {
        let cc = CacheControl(value)
        #expect(cc.staleWhileRevalidate == swr)
        #expect(cc.staleIfError == sie)
    }

    @Test func requestDirectives() {
        let cc = CacheControl("max-stale, min-fresh=5, only-if-cached, no-cache")
        #expect(cc.maxStale == DeltaSeconds.maximum)
        #expect(cc.minFresh == 5)
        #expect(cc.onlyIfCached)
        #expect(cc.noCache)
        #expect(CacheControl("max-stale=10").maxStale == 10)
        #expect(CacheControl("max-stale=x").maxStale == 0)
    }

    @Test func multipleFieldLinesCombine() {
        let headers = HeaderList([
            ("Cache-Control", "max-age=30"), ("X-Other", "no-store"), ("cache-control", "max-age=5, private"),
        ])
        let cc = CacheControl(headers)
        #expect(cc.maxAge == 30)
        #expect(cc.isPrivate)
        #expect(!cc.noStore)
        #expect(CacheControl(fieldValues: ["", "s-maxage=9", "s-maxage=1"]).sMaxAge == 9)
        #expect(CacheControl(headers, fieldName: "X-Other").noStore)
    }

    @Test(arguments: [
        "=", "==", "=60", "\"", "\"\"", ";;;", "max-age=60=60", "max-age==60", "\u{0}", "max-age\u{0}=60",
        "ñ=1", "🙂", String(repeating: ",", count: 10_000), String(repeating: "\"", count: 9_999),
        String(repeating: "a=\"\\", count: 1000),
    ])
    func garbageDoesNotCrashAndYieldsNothingUseful(value: String) {
        let cc = CacheControl(value)
        #expect(cc.maxAge == nil || cc.maxAge == 0)
        #expect(!cc.noStore && !cc.isPublic)
    }

    @Test func emptyAndUnknown() {
        #expect(CacheControl("").isEmpty)
        #expect(CacheControl("community=\"UCI\", foo, bar=baz").isEmpty)
        #expect(!CacheControl("public").isEmpty)
    }
}
