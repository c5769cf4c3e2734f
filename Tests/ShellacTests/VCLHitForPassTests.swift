import Foundation
import NIOHTTP1
import Testing

/// Hit-for-pass over real sockets: after `return (pass(DURATION))` (or the legacy
/// `return (pass)` in vcl_fetch) requests for the URL go to vcl_pass and each reaches the
/// origin as the client made it; hit-for-miss still goes to vcl_miss.
@Suite("VCL hit-for-pass")
struct VCLHitForPassTests {
    static let vcl = """
        vcl 4.1;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        sub vcl_miss { set req.http.X-Path = "miss"; }
        sub vcl_pass { set req.http.X-Path = "pass"; }
        sub vcl_backend_response {
            set beresp.http.X-Be-Hitmiss = bereq.is_hitmiss;
            set beresp.http.X-Be-Hitpass = bereq.is_hitpass;
            if (bereq.url ~ "^/hfp") { return (pass(60s)); }
            if (bereq.url ~ "^/hfm") { set beresp.uncacheable = true; set beresp.ttl = 60s; }
        }
        sub vcl_deliver { set resp.http.X-Path = req.http.X-Path; }
        """

    /// An origin that numbers its answers, so that each response shows which fetch made it.
    static func numberingOrigin(delay: Duration = .zero) async throws -> TestOrigin {
        let counter = TestCounter()
        return try await TestOrigin.start { request in
            if delay > .zero { try await Task.sleep(for: delay) }
            return Response(headers: ["Cache-Control": "max-age=60"], body: "\(request.method) #\(counter.next())")
        }
    }

    @Test("after return (pass(60s)) later requests run vcl_pass and each reaches the origin")
    func laterRequestsPass() async throws {
        let origin = try await Self.numberingOrigin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let first = try await fetch(proxy.url("/hfp"))
            #expect(first.body == "GET #1" && first.header("X-Path") == "miss")
            for n in 2...4 {
                let later = try await fetch(proxy.url("/hfp"))
                #expect(later.body == "GET #\(n)" && !later.isHit)
                #expect(later.header("X-Path") == "pass")
            }
            #expect(origin.requestCount(path: "/hfp") == 4)
            #expect(proxy.server.statistics.value(.cacheHitForPass) == 3)
        }
    }

    @Test("a hit-for-pass request goes to the origin as the client made it: method and conditions kept")
    func passKeepsRequest() async throws {
        let origin = try await Self.numberingOrigin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            _ = try await fetch(proxy.url("/hfp-head"))
            let head = try await fetch(proxy.url("/hfp-head"), method: .HEAD, headers: [("If-None-Match", "\"x\"")])
            #expect(head.status == 200 && head.header("X-Path") == "pass")
            let seen = origin.requests(path: "/hfp-head")
            #expect(seen.map(\.method) == ["GET", "HEAD"])
            #expect(seen.last?.header("If-None-Match") == "\"x\"")
        }
    }

    @Test("concurrent requests after a hit-for-pass do not coalesce: each gets its own fetch")
    func noCoalescing() async throws {
        let origin = try await Self.numberingOrigin(delay: .milliseconds(300))
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            _ = try await fetch(proxy.url("/hfp-busy"))
            let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<4 { group.addTask { try await fetch(proxy.url("/hfp-busy")).body } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(bodies).count == 4, "\(bodies)")
            #expect(origin.requestCount(path: "/hfp-busy") == 5)
        }
    }

    @Test("hit-for-miss still runs vcl_miss and fetches a GET")
    func hitForMissStillMisses() async throws {
        let origin = try await Self.numberingOrigin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            _ = try await fetch(proxy.url("/hfm"))
            let later = try await fetch(proxy.url("/hfm"), method: .HEAD)
            #expect(later.header("X-Path") == "miss")
            #expect(origin.requests(path: "/hfm").map(\.method) == ["GET", "GET"])
            #expect(proxy.server.statistics.value(.cacheHitForMiss) == 1)
            #expect(proxy.server.statistics.value(.cacheHitForPass) == 0)
        }
    }

    @Test("the legacy return (pass) in vcl_fetch makes a hit-for-pass")
    func legacyPass() async throws {
        let origin = try await Self.numberingOrigin()
        let legacy = """
            backend default { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_pass { set req.http.X-Path = "pass"; }
            sub vcl_fetch {
                if (req.url ~ "^/legacy") { return (pass); }
            }
            sub vcl_deliver { set resp.http.X-Path = req.http.X-Path; }
            """
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(legacy)) { proxy in
            _ = try await fetch(proxy.url("/legacy"))
            let later = try await fetch(proxy.url("/legacy"))
            #expect(later.header("X-Path") == "pass" && later.body == "GET #2")
            #expect(proxy.server.statistics.value(.cacheHitForPass) == 1)
        }
    }

    @Test("bereq.is_hitmiss and bereq.is_hitpass tell the backend side what the lookup found")
    func backendSeesTheMarker() async throws {
        let origin = try await Self.numberingOrigin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let first = try await fetch(proxy.url("/hfm"))
            #expect(first.header("X-Be-Hitmiss") == "false")
            let second = try await fetch(proxy.url("/hfm"))
            #expect(second.header("X-Be-Hitmiss") == "true" && second.header("X-Be-Hitpass") == "false")
            _ = try await fetch(proxy.url("/hfp"))
            let passed = try await fetch(proxy.url("/hfp"))
            #expect(passed.header("X-Be-Hitpass") == "true")
        }
    }

    @Test("std.rollback(bereq) in vcl_backend_response fails the fetch: vcl_backend_error may retry it")
    func rollbackThenRetry() async throws {
        let origin = try await Self.numberingOrigin()
        let vcl = """
            vcl 4.1;
            import std;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_backend_fetch { set bereq.http.X-Try = bereq.retries; }
            sub vcl_backend_response { if (bereq.retries == 0) { std.rollback(bereq); } }
            sub vcl_backend_error { if (bereq.retries == 0) { return (retry); } }
            """
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(vcl)) { proxy in
            let response = try await fetch(proxy.url("/r"))
            #expect(response.status == 200 && response.body == "GET #2")
            #expect(origin.requests(path: "/r").map { $0.header("X-Try") } == ["0", "1"])
        }
    }
}
