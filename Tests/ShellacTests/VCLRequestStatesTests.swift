import Foundation
import NIOHTTP1
import Testing

/// VCL driving each request state over real sockets: synth, purge under an ACL, restart,
/// backend response lifetimes, and hit or miss turned into a pass.
@Suite("VCL request states")
struct VCLRequestStatesTests {
    /// Writes `source` to a temporary file for the fixture to compile.
    static func file(_ source: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("shellac-test-\(UUID().uuidString).vcl").path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let vcl = """
        vcl 4.1;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        acl purgers { "127.0.0.1"; }
        acl nobody { "192.0.2.200"; }
        sub vcl_recv {
            if (req.url == "/teapot") { return (synth(418, "I'm a teapot")); }
            if (req.method == "PURGE") {
                if (req.url ~ "^/denied" && !(client.ip ~ nobody)) { return (synth(405, "Not allowed")); }
                if (!(client.ip ~ purgers)) { return (synth(405, "Not allowed")); }
                return (purge);
            }
            if (req.url == "/old" && req.restarts == 0) {
                set req.url = "/new";
                return (restart);
            }
        }
        sub vcl_hit {
            if (req.http.X-Bypass) { return (pass); }
        }
        sub vcl_backend_response {
            if (bereq.url ~ "^/short") { set beresp.ttl = 1s; set beresp.grace = 0s; }
            set beresp.http.X-Fetched-By = "shellac";
        }
        sub vcl_synth {
            set resp.http.Content-Type = "text/plain";
            synthetic("custom " + resp.status + " " + resp.reason);
            return (deliver);
        }
        sub vcl_deliver {
            set resp.http.X-Hits = obj.hits;
        }
        """

    static func origin() async throws -> TestOrigin {
        try await TestOrigin.start { request in
            Response(headers: ["Cache-Control": "max-age=60"], body: "origin \(request.uri)")
        }
    }

    @Test("return (synth) gives vcl_synth's status, headers and body")
    func synth() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try Self.file(Self.vcl)) { proxy in
            let response = try await fetch(proxy.url("/teapot"))
            #expect(response.status == 418)
            #expect(response.body == "custom 418 I'm a teapot")
            #expect(response.header("Content-Type") == "text/plain")
            #expect(origin.requestCount == 0)
        }
    }

    @Test("PURGE from an allowed address removes the object; from others it is refused")
    func purge() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try Self.file(Self.vcl)) { proxy in
            _ = try await fetch(proxy.url("/p"))
            #expect(try await fetch(proxy.url("/p")).isHit)
            let refused = try await fetch(proxy.url("/denied"), method: .RAW(value: "PURGE"))
            #expect(refused.status == 405)
            let purged = try await fetch(proxy.url("/p"), method: .RAW(value: "PURGE"))
            #expect(purged.status == 200)
            #expect(!(try await fetch(proxy.url("/p")).isHit))
            #expect(origin.requestCount(path: "/p") == 2)
        }
    }

    @Test("return (restart) runs vcl_recv again with the changed request")
    func restart() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try Self.file(Self.vcl)) { proxy in
            let response = try await fetch(proxy.url("/old"))
            #expect(response.body == "origin /new")
            #expect(origin.requests.map(\.uri) == ["/new"])
        }
    }

    @Test("vcl_backend_response sets the TTL and headers stored with the object")
    func backendResponse() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try Self.file(Self.vcl)) { proxy in
            let first = try await fetch(proxy.url("/short"))
            #expect(first.header("X-Fetched-By") == "shellac")
            let hit = try await fetch(proxy.url("/short"))
            #expect(hit.isHit && hit.header("X-Hits") == "1")
            try await Task.sleep(for: .milliseconds(1300))
            #expect(!(try await fetch(proxy.url("/short")).isHit))
            #expect(origin.requestCount(path: "/short") == 2)
        }
    }

    @Test("vcl_hit may turn a hit into a pass")
    func hitToPass() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try Self.file(Self.vcl)) { proxy in
            _ = try await fetch(proxy.url("/h"))
            let bypass = try await fetch(proxy.url("/h"), headers: [("X-Bypass", "1")])
            #expect(bypass.body == "origin /h")
            #expect(origin.requestCount(path: "/h") == 2)
            // X-Varnish names the pass and the object it passed over, as Varnish does (c00010).
            #expect(bypass.xids.count == 2)
        }
    }

    @Test("synth(1404): VCL sees 1404, the client gets 404; Connection: close from vcl_synth closes")
    func synthStatusAboveNineHundredNinetyNine() async throws {
        let vcl = """
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_recv { return (synth(1404, "Gone")); }
            sub vcl_synth {
                set resp.http.X-Full = resp.status;
                if (resp.status == 1404) { set resp.http.Connection = "close"; }
            }
            """
        let origin = try await TestOrigin.start { _ in TestOrigin.Response(body: "unused") }
        try await withProxy(origin: origin, vclFile: try Self.file(vcl)) { proxy in
            let response = try await RawHTTPClient.exchange(port: proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(response.status == 404 && response.reason == "Gone" && response.header("X-Full") == "1404")
            #expect(response.saysClose)
        }
    }
}
