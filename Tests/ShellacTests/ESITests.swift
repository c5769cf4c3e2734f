import Foundation
import NIOHTTP1
import Synchronization
import Testing
import VCL

@testable import Shellac

/// ESI over real sockets: a page assembled from fragments that each go through VCL, with
/// their own cache entries and TTLs.
@Suite("ESI")
struct ESITests {
    static let vcl = """
        vcl 4.1;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        sub vcl_recv {
            if (req.url ~ "^/fragment/level") { set req.http.X-Level = req.esi_level; }
        }
        sub vcl_backend_response {
            if (bereq.url ~ "^/page" || bereq.url ~ "^/nested") { set beresp.do_esi = true; }
            if (bereq.url ~ "^/fragment/short") { set beresp.ttl = 0.3s; set beresp.grace = 0s; }
        }
        """

    static func origin(_ fragments: TestCounter) async throws -> TestOrigin {
        try await TestOrigin.start { request in
            switch request.path {
            case "/page":
                return TestOrigin.Response(body: """
                    <html><esi:include src="/fragment/a"/>|<esi:include src="fragment/short"/>|\
                    <esi:remove>not shown</esi:remove><!--esi <b>shown</b> -->|\
                    <esi:include src="http://other.example/fragment/host"/></html>
                    """)
            case "/nested":
                return TestOrigin.Response(body: "<n><esi:include src=\"/page\"/>:<esi:include src=\"/fragment/level\"/></n>")
            case "/fragment/short":
                return TestOrigin.Response(body: "short\(fragments.next())")
            case "/fragment/host":
                return TestOrigin.Response(body: "host=\(request.header("Host") ?? "")")
            case "/fragment/level":
                return TestOrigin.Response(body: "level=\(request.header("X-Level") ?? "?")")
            default:
                return TestOrigin.Response(body: "A")
            }
        }
    }

    @Test("includes are requests of their own (absolute, relative, another host), each cached with its TTL")
    func assembles() async throws {
        let fragments = TestCounter()
        let origin = try await Self.origin(fragments)
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let first = try await fetch(proxy.url("/page"))
            #expect(first.status == 200)
            #expect(first.body == "<html>A|short1| <b>shown</b> |host=other.example</html>")
            #expect(first.header("Content-Length") == nil)
            let second = try await fetch(proxy.url("/page"))
            #expect(second.body == first.body)  // every part from the cache
            try await Task.sleep(for: .milliseconds(500))
            let third = try await fetch(proxy.url("/page"))
            #expect(third.body == "<html>A|short2| <b>shown</b> |host=other.example</html>")  // only the short one refetched
            #expect(origin.requestCount(path: "/page") == 1 && origin.requestCount(path: "/fragment/a") == 1)
            // Body bytes count what the clients got, without chunk framing; three includes a page.
            #expect(proxy.server.statistics.value(.responseBodyBytes) == 3 * first.body.utf8.count)
            #expect(proxy.server.statistics.value(.esiRequests) == 9)
        }
    }

    @Test("ESI nests (req.esi_level counts the depth); HTTP/1.0 gets the page without chunking")
    func nestedAndHTTP10() async throws {
        let origin = try await Self.origin(TestCounter())
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let nested = try await fetch(proxy.url("/nested"))
            #expect(nested.body == "<n><html>A|short1| <b>shown</b> |host=other.example</html>:level=1</n>")
            let old = try await RawHTTPClient.exchange(
                port: proxy.port, "GET /page HTTP/1.0\r\nHost: example.com\r\n\r\n", timeout: .seconds(5))
            #expect(old.status == 200 && old.header("Transfer-Encoding") == nil)
            #expect(old.bodyString.hasPrefix("<html>A|short"))
        }
    }

    @Test("feature=+esi_include_onerror: a failed include stops the page, or is left out with onerror=continue")
    func includeOnError() async throws {
        let origin = try await TestOrigin.start { request in
            switch request.path {
            case "/abort": return TestOrigin.Response(body: "<p>before <esi:include src=\"/fail\"/> after</p>")
            case "/continue": return TestOrigin.Response(body: "<p>before <esi:include src=\"/fail\" onerror=\"continue\"/> after</p>")
            // A head, then the close: no byte of the include could have gone into the page.
            // (Bytes that stream before a failure stay in it, as in Varnish.)
            default: return .raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", thenClose: true)
            }
        }
        try await withProxy(origin: origin, parameters: ["feature=+esi_include_onerror"],
                            vclFile: try VCLRequestStatesTests.file(Self.vcl.replacingOccurrences(of: "^/page", with: "^/(page|abort|continue)"))) { proxy in
            let continued = try await RawHTTPClient.exchange(port: proxy.port, "GET /continue HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(continued.bodyString == "<p>before  after</p>")
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /abort HTTP/1.1\r\nHost: a\r\n\r\n")
            // The body stops after "before ": the connection closes with no last chunk.
            await #expect {
                _ = try await client.readResponse(timeout: .seconds(5))
            } throws: { error in
                guard case RawHTTPClient.ClientError.closedBeforeResponse(let received) = error else { return false }
                return received.contains("<p>before ") && !received.contains("after")
            }
            await client.close()
        }
    }

    @Test("req_top.* in an include is the client's request at the top of the page tree; it is read-only")
    func requestTop() async throws {
        let origin = try await TestOrigin.start { request in
            if request.path == "/top" { return TestOrigin.Response(body: "<p><esi:include src=\"/mid\"/></p>") }
            if request.path == "/mid" { return TestOrigin.Response(body: "<m><esi:include src=\"/leaf\"/></m>") }
            return TestOrigin.Response(body: request.header("X-Top") ?? "?")
        }
        let vcl = """
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_recv { set req.http.X-Top = req_top.method + " " + req_top.url + " " + req_top.http.X-Client; }
            sub vcl_backend_response { if (bereq.url != "/leaf") { set beresp.do_esi = true; } }
            """
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(vcl)) { proxy in
            let page = try await fetch(proxy.url("/top"), headers: [("X-Client", "c1")])
            #expect(page.body == "<p><m>GET /top c1</m></p>")
        }
        #expect {
            _ = try VCLCompiler.compile(
                source: "vcl 4.1; backend b { .host = \"127.0.0.1\"; } sub vcl_recv { set req_top.url = \"/x\"; }")
        } throws: { error in
            "\(error)".contains("Variable 'req_top.url' is read-only") && "\(error)".contains("Variable is read only.")
        }
    }

    /// An origin with these bodies by path, and `otherwise` for any other.
    static func pages(_ bodies: [String: String], otherwise: String) async throws -> TestOrigin {
        try await TestOrigin.start { request in TestOrigin.Response(body: bodies[request.path] ?? otherwise) }
    }

    @Test("resp.do_esi = false in an include's vcl_deliver puts that include in as stored")
    func includeTurnsESIOff() async throws {
        let origin = try await Self.pages(
            ["/outer": "<o><esi:include src=\"/inner\"/></o>", "/inner": "<i><esi:include src=\"/leaf\"/></i>"],
            otherwise: "leaf")
        let vcl = """
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_backend_response { set beresp.do_esi = true; }
            sub vcl_deliver {
                if (req.url == "/inner" && req.http.raw) { set resp.do_esi = false; }
            }
            """
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(vcl)) { proxy in
            #expect(try await fetch(proxy.url("/outer")).body == "<o><i>leaf</i></o>")
            let raw = try await fetch(proxy.url("/outer"), headers: [("raw", "1")])
            #expect(raw.body == "<o><i><esi:include src=\"/leaf\"/></i></o>")
        }
    }
}
