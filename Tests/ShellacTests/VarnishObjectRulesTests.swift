import Foundation
import NIOHTTP1
import Testing

@testable import Shellac
import ShellacCache

/// What Varnish 7.1 does with a stored object on its way out, and what private objects cost:
/// `http_max_hdr` at delivery, the backend's Content-Length in `vcl_deliver`, Transient for
/// passes, and a cached response to an unsafe method. Over real sockets, against a real
/// origin (each named after the varnishtest that pins it).
@Suite("Varnish's object rules", .serialized)
struct VarnishObjectRulesTests {
    /// An origin response with `count` extra header fields.
    static func manyFields(_ count: Int) -> Response {
        var response = Response(body: "ok")
        for index in 0..<count { response = response.withHeader("X-Field-\(index)", "\(index)") }
        return response
    }

    @Test("an object with more header lines than http_max_hdr allows is a 500 from vcl_synth, hit after hit (r01807, r03410)")
    func tooManyHeaderLines() async throws {
        let origin = try await TestOrigin.start { request in
            Self.manyFields(request.path == "/many" ? 40 : 10)
        }
        try await withProxy(origin: origin, parameters: ["http_max_hdr=32"]) { proxy in
            let few = try await fetch(proxy.url("/few"))
            #expect(few.status == 200 && few.header("X-Field-9") == "9")
            let first = try await fetch(proxy.url("/many"))
            #expect(first.status == 500 && first.headers.first(name: "X-Field-0") == nil)
            // The object stays: the next request is a hit, and fails the same way.
            let again = try await fetch(proxy.url("/many"))
            #expect(again.status == 500)
            #expect(origin.requestCount(path: "/many") == 1)
            let logged = proxy.server.log.read(from: 0, limit: 1000).records.map(\.text)
            #expect(logged.contains { $0.hasPrefix("Too many headers to Decode object") })
        }
    }

    @Test("the same object goes out whole once http_max_hdr has room for it")
    func enoughHeaderSlots() async throws {
        let origin = try await TestOrigin.start(always: Self.manyFields(40))
        try await withProxy(origin: origin, parameters: ["http_max_hdr=64"]) { proxy in
            let response = try await fetch(proxy.url("/many"))
            #expect(response.status == 200 && response.header("X-Field-39") == "39")
        }
    }

    @Test("vcl_deliver reads the backend's Content-Length; a 304 still goes out without one (r00806)")
    func contentLengthInDeliver() async throws {
        let origin = try await TestOrigin.start { request in
            request.path == "/304"
                ? Response(status: .notModified).withHeader("Content-Length", "100")
                : Response(body: "abc")
        }
        try await VarnishRulesTests.proxy("""
            sub vcl_recv { return (pass); }
            sub vcl_deliver { set resp.http.CL = resp.http.Content-Length; }
            """, origin: origin) { proxy in
            let full = try await fetch(proxy.url("/200"))
            #expect(full.status == 200 && full.header("CL") == "3" && full.header("Content-Length") == "3")
            #expect(full.body == "abc")
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /304 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let notModified = try await client.readResponse()
            #expect(notModified.status == 304 && notModified.header("CL") == "100")
            #expect(notModified.header("Content-Length") == nil && notModified.bodyString.isEmpty)
            // The connection is still good for the next request.
            try await client.send("GET /200 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            let next = try await client.readResponse()
            #expect(next.status == 200 && next.bodyString == "abc")
            await client.close()
        }
    }

    @Test("a pass's object is charged to Transient while it is fetched, and given back after (r02530)")
    func passChargesTransient() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "ab"))
        try await VarnishRulesTests.proxy("sub vcl_recv { return (pass); }", origin: origin) { proxy in
            let admin = BackendHealthTests.admin(proxy)
            let response = try await fetch(proxy.url("/pass"))
            #expect(response.status == 200 && response.body == "ab")
            // (The fetch lets go of its object on its own loop, just after the response.)
            try await VCLTemperatureTests.waitUntil(seconds: 2) {
                MoreCountersTests.value(admin.counters(), "SMA.Transient.g_bytes") == 0
            }
            let counters = admin.counters()
            let value = { (name: String) in MoreCountersTests.value(counters, name) ?? -1 }
            #expect(value("SMA.Transient.c_req") == 2)
            #expect(value("SMA.Transient.c_bytes") >= 2 + CachedObject.recordBytes)
            #expect(value("SMA.Transient.c_freed") == value("SMA.Transient.c_bytes"))
            #expect(value("SMA.s0.c_req") == 0)
        }
    }

    @Test("a POST that VCL caches stays cached: its own response is not invalidated by it (r01927)")
    func cachedPostStays() async throws {
        let origin = try await TestOrigin.start { request in Response(body: "\(request.method) answer") }
        try await VarnishRulesTests.proxy("""
            sub vcl_recv { set req.http.method = req.method; return (hash); }
            sub vcl_backend_fetch { set bereq.method = bereq.http.method; }
            """, origin: origin) { proxy in
            let first = try await fetch(proxy.url("/form"), method: .POST, body: "foo")
            #expect(first.body == "POST answer" && !first.isHit)
            let second = try await fetch(proxy.url("/form"), method: .POST, body: "foo")
            #expect(second.body == "POST answer" && second.isHit)
            #expect(origin.requestCount(path: "/form") == 1)
        }
    }

    @Test("a passed POST still invalidates what is stored under its URL (RFC 9111 §4.4)")
    func passedPostInvalidates() async throws {
        let origin = try await TestOrigin.start { request in Response(body: "\(request.method) answer") }
        try await withProxy(origin: origin) { proxy in
            #expect(try await fetch(proxy.url("/page")).body == "GET answer")
            #expect(try await fetch(proxy.url("/page")).isHit)
            _ = try await fetch(proxy.url("/page"), method: .POST, body: "foo")
            let after = try await fetch(proxy.url("/page"))
            #expect(!after.isHit && origin.requestCount(path: "/page") == 3)
        }
    }
}
