import Foundation
import Testing

/// Several `-s` stores, as varnishd has them: each bounded and evicting on its own, objects
/// given to them in turn or by `beresp.storage`, short-lived ones in Transient, and
/// varnishstat's `SMA.NAME.*` for each. Over real sockets, with a real shellac.
@Suite("-s stores and SMA counters", .serialized)
struct StorageAreasTests {
    /// The counters `adm -n` reads from the running daemon.
    static func counters(_ workdir: String) async throws -> [String: Int] {
        let result = try await StatCommandTests.run(["adm", "-n", workdir, "stat"])
        var values: [String: Int] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Int(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    static func adm(_ workdir: String, _ words: [String]) async throws -> String {
        try await StatCommandTests.run(["adm", "-n", workdir] + words).stdout
    }

    @Test("objects go to s1, s2, s0 in turn and each store evicts only its own; beresp.storage and shortlived pick the store")
    func storesInTurn() async throws {
        let body = String(repeating: "x", count: 700 << 10)
        let origin = try await TestOrigin.start { request in
            let ttl = request.path.hasPrefix("/short") ? "3" : "600"
            return Response(headers: ["Cache-Control": "max-age=\(ttl)"], body: request.path.hasPrefix("/small") || request.path.hasPrefix("/short") ? "s" : body)
        }
        let workdir = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-sma-\(UUID().uuidString)").path
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "\(origin.host)"; .port = "\(origin.port)"; }
            sub vcl_backend_response {
                set beresp.grace = 0s;
                if (bereq.url ~ "^/small") { set beresp.storage = storage.s2; }
            }
            sub vcl_deliver { set resp.http.X-Storage = obj.storage; }
            """)
        let daemon = try ChildProcess.launch(
            ChildProcess.shellacExecutable(),
            ["-a", "127.0.0.1:0", "-f", vcl, "-n", workdir, "-s", "s1=malloc,1m", "-s", "s2=malloc,1m", "-s", "s0=malloc,1m",
             "-s", "Transient=malloc,2m", "-F"])
        defer { try? FileManager.default.removeItem(atPath: workdir) }
        let port = try await daemon.waitForListening().port
        func get(_ path: String) async throws -> FetchedResponse { try await fetch("http://127.0.0.1:\(port)\(path)") }

        let s1 = try await get("/a")
        #expect(s1.headers.first(name: "X-Storage") == "storage.s1")
        let s2 = try await get("/b")
        #expect(s2.headers.first(name: "X-Storage") == "storage.s2")
        let s3 = try await get("/c")
        #expect(s3.headers.first(name: "X-Storage") == "storage.s0")
        var values = try await Self.counters(workdir)
        for store in ["s0", "s1", "s2"] {
            #expect((values["SMA.\(store).g_bytes"] ?? 0) > 700 << 10, "\(store)")
            #expect(values["SMA.\(store).g_alloc"] == 1)
            #expect((values["SMA.\(store).g_space"] ?? 0) < 400 << 10)
        }
        #expect(values["SMA.Transient.g_bytes"] == 0)

        // The fourth goes to s1 again: s1 evicts /a to make room; s2 and s0 keep theirs.
        let s4 = try await get("/d")
        #expect(s4.headers.first(name: "X-Storage") == "storage.s1")
        values = try await Self.counters(workdir)
        #expect(values["MAIN.n_lru_nuked"] == 1)
        let b = try await get("/b"), c = try await get("/c"), a = try await get("/a")
        #expect(b.isHit && c.isHit)
        #expect(!a.isHit)

        // VCL names the store; a TTL under shortlived (10 s) goes to Transient.
        let s5 = try await get("/small")
        #expect(s5.headers.first(name: "X-Storage") == "storage.s2")
        let s6 = try await get("/short")
        #expect(s6.headers.first(name: "X-Storage") == "storage.Transient")
        values = try await Self.counters(workdir)
        #expect((values["SMA.Transient.g_bytes"] ?? 0) > 0 && values["SMA.Transient.g_alloc"] == 1)
        #expect(values["MAIN.beresp_shortlived"] == 1)
        #expect((values["SMA.s1.c_freed"] ?? 0) > 700 << 10)

        let list = try await Self.adm(workdir, ["storage.list"])
        #expect(list.contains("storage.s1 = malloc") && list.contains("storage.Transient = malloc"))
        #expect(await daemon.stop() == .exited(0))
    }

    @Test("an object larger than its store is refused by it (c_fail) and delivered uncached")
    func tooLarge() async throws {
        let origin = try await TestOrigin.start(always: Response.sized(300 << 10, headers: ["Cache-Control": "max-age=600"]))
        let workdir = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-sma-\(UUID().uuidString)").path
        let daemon = try ChildProcess.launch(
            ChildProcess.shellacExecutable(),
            ["-a", "127.0.0.1:0", "-b", origin.address, "-n", workdir, "-s", "small=malloc,256k", "-F"])
        defer { try? FileManager.default.removeItem(atPath: workdir) }
        let port = try await daemon.waitForListening().port
        let first = try await fetch("http://127.0.0.1:\(port)/big")
        #expect(first.status == 200 && first.body.utf8.count == 300 << 10)
        let second = try await fetch("http://127.0.0.1:\(port)/big")
        #expect(!second.isHit)
        let values = try await Self.counters(workdir)
        #expect(values["SMA.small.g_bytes"] == 0)
        #expect(values["SMA.small.c_fail"] == 2)
        #expect(values["SMA.s0.g_bytes"] == nil, "no s0 when every store is named")
        #expect(await daemon.stop() == .exited(0))
    }
}
