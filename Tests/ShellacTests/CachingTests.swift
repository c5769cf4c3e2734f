import Foundation
import NIOHTTP1
import Testing

/// What a Varnish user checks first: misses become hits, freshness follows the headers, and
/// what must not be shared is not.
@Suite("Caching")
struct CachingTests {
    @Test("a miss is stored and the next request is a hit")
    func missThenHit() async throws {
        let origin = try await TestOrigin.start(always: .init(headers: ["Cache-Control": "max-age=60"], body: "hello"))
        try await withProxy(origin: origin) { proxy in
            let first = try await fetch(proxy.url("/a"))
            let second = try await fetch(proxy.url("/a"))
            #expect(first.status == 200 && first.body == "hello")
            #expect(first.xids.count == 1)
            #expect(second.body == "hello")
            #expect(second.xids.count == 2)
            // As in Varnish, the object carries the id of the fetch that made it: the one the
            // miss took right after its own (a fresh server numbers from one block).
            #expect(second.xids.last.flatMap { Int($0) } == first.xids.first.flatMap { Int($0) }.map { $0 + 1 })
            #expect(second.header("Via") == "1.1 shellac")
            #expect(origin.requestCount == 1)
        }
    }

    @Test("HEAD is answered from a cached GET, and a HEAD miss fetches with GET")
    func headFromCache() async throws {
        let origin = try await TestOrigin.start(always: .init(headers: ["Cache-Control": "max-age=60"], body: "hello"))
        try await withProxy(origin: origin) { proxy in
            let head = try await fetch(proxy.url("/h"), method: .HEAD)
            #expect(head.status == 200 && head.body.isEmpty)
            let get = try await fetch(proxy.url("/h"))
            #expect(get.isHit && get.body == "hello")
            let again = try await fetch(proxy.url("/h"), method: .HEAD)
            #expect(again.isHit && again.body.isEmpty && again.header("Content-Length") == "5")
            #expect(origin.requests.map(\.method) == ["GET"])
        }
    }

    @Test("Age counts the backend's own Age plus the time in cache")
    func ageHeader() async throws {
        let origin = try await TestOrigin.start(always: .init(headers: ["Cache-Control": "max-age=600", "Age": "30"], body: "x"))
        try await withProxy(origin: origin) { proxy in
            let first = try await fetch(proxy.url("/age"))
            #expect(Int(first.header("Age") ?? "") == 30)
            try await Task.sleep(for: .milliseconds(1100))
            let second = try await fetch(proxy.url("/age"))
            #expect(second.isHit)
            #expect((Int(second.header("Age") ?? "") ?? 0) >= 31)
            #expect(second.headers["Age"].count == 1)
        }
    }

    @Test("an object expires after its max-age")
    func expiry() async throws {
        let origin = try await TestOrigin.start(always: .init(headers: ["Cache-Control": "max-age=1"], body: "x"))
        try await withProxy(origin: origin, parameters: ["default_grace=0"]) { proxy in
            _ = try await fetch(proxy.url("/e"))
            #expect(try await fetch(proxy.url("/e")).isHit)
            try await Task.sleep(for: .milliseconds(1300))
            let later = try await fetch(proxy.url("/e"))
            #expect(!later.isHit)
            #expect(origin.requestCount == 2)
        }
    }

    @Test("freshness: s-maxage over max-age, Expires, default_ttl", arguments: [
        (["Cache-Control": "s-maxage=0, max-age=60"], false),
        (["Cache-Control": "max-age=60, s-maxage=60"], true),
        (["Expires": "Thu, 01 Jan 1970 00:00:00 GMT"], false),
        (["Expires": "0"], false),
        (["Expires": "Fri, 01 Jan 2100 00:00:00 GMT"], true),
        ([:], true),  // default_ttl
        (["Cache-Control": "max-age=abc"], false),
    ] as [([String: String], Bool)])
    func freshnessSources(headers: [String: String], cached: Bool) async throws {
        var fields = HTTPHeaders()
        for (name, value) in headers { fields.add(name: name, value: value) }
        let origin = try await TestOrigin.start(always: .init(headers: fields, body: "x"))
        try await withProxy(origin: origin) { proxy in
            _ = try await fetch(proxy.url("/f"))
            let second = try await fetch(proxy.url("/f"))
            #expect(second.isHit == cached)
            #expect(origin.requestCount == (cached ? 1 : 2))
        }
    }

    @Test("uncacheable responses mark their URL hit-for-miss", arguments: [
        ["Cache-Control": "max-age=60", "Set-Cookie": "a=b"],
        ["Cache-Control": "private, max-age=60"],
        ["Cache-Control": "no-store"],
        ["Cache-Control": "no-cache, max-age=60"],
        ["Cache-Control": "max-age=60", "Vary": "*"],
        ["Cache-Control": "max-age=0"],
    ])
    func hitForMiss(headers: [String: String]) async throws {
        var fields = HTTPHeaders()
        for (name, value) in headers { fields.add(name: name, value: value) }
        let origin = try await TestOrigin.start(always: .init(headers: fields, body: "private"))
        try await withProxy(origin: origin) { proxy in
            _ = try await fetch(proxy.url("/p"))
            // Marked: concurrent requests now go to the backend side by side, not in line.
            let started = ContinuousClock.now
            origin.route("/p", Response(headers: fields, body: "private").delayed(by: .milliseconds(1500)))
            async let a = fetch(proxy.url("/p"))
            async let b = fetch(proxy.url("/p"))
            let (ra, rb) = try await (a, b)
            #expect(ra.body == "private" && rb.body == "private")
            #expect(!ra.isHit && !rb.isHit)
            #expect(ContinuousClock.now - started < .milliseconds(2800))  // in line would be 3 s
            #expect(origin.requestCount == 3)
        }
    }

    @Test("non-cacheable statuses are not stored; 404 is", arguments: [(500, false), (503, false), (404, true), (301, true)])
    func statuses(status: Int, cached: Bool) async throws {
        let origin = try await TestOrigin.start(
            always: .init(status: HTTPResponseStatus(statusCode: status), headers: ["Cache-Control": "max-age=60"], body: "s"))
        try await withProxy(origin: origin) { proxy in
            _ = try await fetch(proxy.url("/s"))
            let second = try await fetch(proxy.url("/s"))
            #expect(second.status == status)
            #expect(origin.requestCount == (cached ? 1 : 2))
        }
    }

    @Test("requests with Cookie or Authorization, and POSTs, pass")
    func passes() async throws {
        let origin = try await TestOrigin.start { request in
            Response(headers: ["Cache-Control": "max-age=60"], body: "\(request.method) \(request.bodyString)")
        }
        try await withProxy(origin: origin) { proxy in
            _ = try await fetch(proxy.url("/c"), headers: [("Cookie", "JSESSIONID=1")])
            _ = try await fetch(proxy.url("/c"), headers: [("Cookie", "JSESSIONID=1")])
            _ = try await fetch(proxy.url("/c"), headers: [("Authorization", "Basic eDp5")])
            #expect(origin.requestCount == 3)
            let post = try await fetch(proxy.url("/c"), method: .POST, body: "a=1")
            #expect(post.body == "POST a=1")
            #expect(origin.requests.last?.method == "POST")
            #expect(origin.requestCount == 4)
        }
    }

    @Test("the key is URL plus Host")
    func hostInKey() async throws {
        let origin = try await TestOrigin.start { request in
            Response(headers: ["Cache-Control": "max-age=60"], body: request.header("Host") ?? "")
        }
        try await withProxy(origin: origin) { proxy in
            let a = try await fetch(proxy.url("/k"), headers: [("Host", "a.example")])
            let b = try await fetch(proxy.url("/k"), headers: [("Host", "b.example")])
            let a2 = try await fetch(proxy.url("/k"), headers: [("Host", "a.example")])
            #expect(a.body == "a.example" && b.body == "b.example" && a2.body == "a.example")
            #expect(a2.isHit)
            #expect(origin.requestCount == 2)
        }
    }

    /// An origin that varies on Accept-Encoding and says which it got.
    static func acceptEncodingEcho() async throws -> TestOrigin {
        try await TestOrigin.start { request in
            Response(
                headers: ["Cache-Control": "max-age=60", "Vary": "Accept-Encoding"],
                body: "ae=\(request.header("Accept-Encoding") ?? "none")")
        }
    }

    @Test("Vary: Accept-Encoding with http_gzip_support: one object, fetched with gzip, serves every client")
    func varyAcceptEncodingOneObject() async throws {
        let origin = try await Self.acceptEncodingEcho()
        try await withProxy(origin: origin) { proxy in
            let plain = try await fetch(proxy.url("/v"), headers: [("Accept-Encoding", "br")])
            let gzip = try await fetch(proxy.url("/v"), headers: [("Accept-Encoding", "gzip, deflate, br")])
            let none = try await fetch(proxy.url("/v"))
            #expect(plain.body == "ae=gzip" && gzip.body == "ae=gzip" && none.body == "ae=gzip")
            #expect(gzip.isHit && none.isHit)
            #expect(origin.requestCount == 1)
        }
    }

    @Test("Vary variants without http_gzip_support, with Accept-Encoding reduced to gzip-or-not")
    func varyVariants() async throws {
        let origin = try await Self.acceptEncodingEcho()
        try await withProxy(origin: origin, parameters: ["http_gzip_support=off"]) { proxy in
            let gzip = try await fetch(proxy.url("/v"), headers: [("Accept-Encoding", "gzip, deflate, br")])
            let plain = try await fetch(proxy.url("/v"), headers: [("Accept-Encoding", "br")])
            let gzipAgain = try await fetch(proxy.url("/v"), headers: [("Accept-Encoding", "gzip")])
            let none = try await fetch(proxy.url("/v"), headers: [("Accept-Encoding", "identity")])
            #expect(gzip.body == "ae=gzip")
            #expect(plain.body == "ae=none")
            #expect(gzipAgain.isHit && gzipAgain.body == "ae=gzip")
            #expect(none.isHit && none.body == "ae=none")
            #expect(origin.requestCount == 2)
        }
    }

    @Test("conditional requests on a hit get 304")
    func notModified() async throws {
        let origin = try await TestOrigin.start(
            always: .init(
                headers: [
                    "Cache-Control": "max-age=60", "ETag": "\"v1\"",
                    "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT",
                ], body: "body"))
        try await withProxy(origin: origin) { proxy in
            _ = try await fetch(proxy.url("/n"))
            let etag = try await fetch(proxy.url("/n"), headers: [("If-None-Match", "W/\"v1\"")])
            #expect(etag.status == 304 && etag.body.isEmpty && etag.header("ETag") == "\"v1\"")
            let other = try await fetch(proxy.url("/n"), headers: [("If-None-Match", "\"v2\"")])
            #expect(other.status == 200 && other.body == "body")
            let since = try await fetch(proxy.url("/n"), headers: [("If-Modified-Since", "Tue, 03 Nov 2026 10:00:00 GMT")])
            #expect(since.status == 304)
            let before = try await fetch(proxy.url("/n"), headers: [("If-Modified-Since", "Sun, 01 Nov 2026 10:00:00 GMT")])
            #expect(before.status == 200)
            #expect(origin.requestCount == 1)
            #expect(origin.requests.first?.header("If-None-Match") == nil)
        }
    }

    @Test("targeted cache control (RFC 9213): CDN-Cache-Control, or a field of one's own, rules over Cache-Control")
    func targetedCacheControl() async throws {
        let origin = try await TestOrigin.start { request in
            switch request.path {
            case "/cdn-only":  // private for browsers, cacheable for this cache
                return Response(headers: ["Cache-Control": "private", "CDN-Cache-Control": "max-age=60"], body: "a")
            case "/cdn-no-store":
                return Response(headers: ["Cache-Control": "max-age=60", "CDN-Cache-Control": "no-store"], body: "b")
            case "/cdn-no-expires":  // the target replaces Expires too: no freshness, default_ttl
                return Response(headers: ["Expires": "Thu, 01 Jan 1970 00:00:00 GMT", "CDN-Cache-Control": "must-revalidate"], body: "c")
            default:
                return Response(headers: ["CDN-Cache-Control": "max-age=60", "Shellac-Cache-Control": "max-age=1"], body: "d")
            }
        }
        try await withProxy(origin: origin, parameters: ["targeted_cache_control=Shellac-Cache-Control, CDN-Cache-Control"]) { proxy in
            for path in ["/cdn-only", "/cdn-no-store", "/cdn-no-expires", "/own"] {
                _ = try await fetch(proxy.url(path))
                let second = try await fetch(proxy.url(path))
                #expect(second.isHit == (path != "/cdn-no-store"), "\(path)")
            }
            let privately = try await fetch(proxy.url("/cdn-only"))
            #expect(privately.header("Cache-Control") == "private")  // clients still see theirs
            try await Task.sleep(for: .milliseconds(1100))
            // Shellac-Cache-Control's 1 s, not CDN-Cache-Control's 60: stale now, so this hit
            // (in default_grace) refreshes the object in the background.
            _ = try await fetch(proxy.url("/own"))
            try await Task.sleep(for: .milliseconds(300))
            #expect(origin.requestCount(path: "/own") == 2 && origin.requestCount(path: "/cdn-only") == 1)
        }
    }
}
