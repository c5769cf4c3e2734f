import Foundation
import Testing

@testable import Shellac

/// `max_vcl`, the client's identity and addresses on the backend side, and `local.socket` /
/// `local.endpoint`, as Varnish 7.1 has them (v00025). Over real sockets, against a real origin.
@Suite("Varnish's listener and VCL-count rules", .serialized)
struct VarnishListenerRulesTests {
    static let vcl = """
        sub vcl_recv { set client.identity = "Samuel B. Nobody"; return (pass); }
        sub vcl_backend_fetch {
            set bereq.http.c-id = client.identity;
            set bereq.http.sock = local.socket;
            set bereq.http.ep = local.endpoint;
        }
        sub vcl_deliver { set resp.http.sock = local.socket; set resp.http.ep = local.endpoint; }
        """

    @Test("max_vcl with max_vcl_handling 2 refuses one VCL too many; with 1 it loads and warns")
    func maxVCL() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "ok"))
        try await VarnishRulesTests.proxy("", origin: origin) { proxy in
            let admin = BackendHealthTests.admin(proxy)
            let text = "vcl 4.1; backend b { .host = \"\(origin.host)\"; .port = \"\(origin.port)\"; }"
            #expect(admin.execute(["param.set", "max_vcl", "2"]).status == 200)
            #expect(admin.execute(["param.set", "max_vcl_handling", "2"]).status == 200)
            #expect(admin.execute(["vcl.inline", "second", text]).status == 200)
            let refused = admin.execute(["vcl.inline", "third", text])
            #expect(refused.status == 300 && refused.body.contains("Too many (2) VCLs already loaded"), "\(refused.body)")
            #expect(admin.execute(["param.set", "max_vcl_handling", "1"]).status == 200)
            let warned = admin.execute(["vcl.inline", "third", text])
            #expect(warned.status == 200 && warned.body.contains("Remember to vcl.discard the old/unused VCLs."), "\(warned.body)")
        }
    }

    @Test("client.identity set in vcl_recv and local.socket/local.endpoint reach the backend side")
    func identityAndListener() async throws {
        let origin = try await TestOrigin.start { request in
            Response(body: [request.header("c-id"), request.header("sock"), request.header("ep")].map { $0 ?? "-" }.joined(separator: "|"))
        }
        try await VarnishRulesTests.proxy(Self.vcl, origin: origin) { proxy in
            let response = try await fetch(proxy.url("/"))
            #expect(response.body == "Samuel B. Nobody|a0|127.0.0.1:\(proxy.port)", "\(response.body)")
            #expect(response.header("sock") == "a0" && response.header("ep") == "127.0.0.1:\(proxy.port)")
        }
    }

    @Test("-a name=/path.sock: local.socket is the name and local.endpoint the path (curl --unix-socket)")
    func namedUnixListener() async throws {
        let curl = try #require(ChildProcess.which("curl"), "curl is needed")
        let origin = try await TestOrigin.start { request in Response(body: request.header("sock") ?? "-") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("foo.sock").path
        let vclPath = directory.appendingPathComponent("test.vcl").path
        try ("vcl 4.1;\nbackend origin { .host = \"\(origin.host)\"; .port = \"\(origin.port)\"; }\n" + Self.vcl)
            .write(toFile: vclPath, atomically: true, encoding: .utf8)
        let child = try ChildProcess.launch(
            VarnishdOptionsTests.binary, ["-a", "127.0.0.1:0", "-a", "foo=\(path)", "-f", vclPath, "-F"])
        _ = try await child.waitForListening(timeout: .seconds(10))
        _ = try await child.waitForLine(containing: "listening on \(path)")
        let request = try ChildProcess.launch(curl, ["-s", "-i", "--unix-socket", path, "http://localhost/uds"])
        #expect(await request.waitForExit() == .exited(0))
        #expect(request.stdout.hasSuffix("\r\n\r\nfoo"), "\(request.stdout)")
        #expect(request.stdout.contains("ep: \(path)\r\n"), "\(request.stdout)")
        #expect(await child.stop() == .exited(0))
        await origin.shutdown()
    }
}
