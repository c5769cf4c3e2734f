import Foundation
import Testing

/// `shellac stat` and `shellac adm -n`: a shellac started with a work directory and no -T
/// opens its CLI on the loopback with a secret of its own, and leaves both where the tools
/// find them, as varnishd does for varnishstat and varnishadm.
@Suite("shellac stat and the work directory", .serialized)
struct StatCommandTests {
    static var binary: String { ChildProcess.shellacExecutable() }

    static func run(_ arguments: [String]) async throws -> (status: ChildProcess.ExitStatus?, stdout: String) {
        let child = try ChildProcess.launch(binary, arguments)
        let status = await child.waitForExit(timeout: .seconds(10))
        return (status, child.stdout)
    }

    @Test("counters as varnishstat -1 -j prints them, found through -n; adm -n reaches the same CLI")
    func countersThroughWorkDirectory() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "ok"))
        let workdir = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-wd-\(UUID().uuidString)").path
        let daemon = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0", "-b", origin.address, "-n", workdir, "-F"])
        let port = try await daemon.waitForListening().port
        _ = try await fetch("http://127.0.0.1:\(port)/c")
        #expect(try await fetch("http://127.0.0.1:\(port)/c").isHit)

        let stat = try await Self.run(["stat", "-1", "-j", "-n", workdir])
        #expect(stat.status == .exited(0))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(stat.stdout.utf8)) as? [String: Any])
        let counters = try #require(json["counters"] as? [String: [String: Any]])
        func value(_ name: String) -> Int? { counters[name]?["value"] as? Int }
        #expect(value("MAIN.client_req") == 2)
        #expect(value("MAIN.cache_hit") == 1 && value("MAIN.cache_miss") == 1)
        #expect(value("MAIN.n_object") == 1)
        // The client may have reused one connection: s_sess counts what sess_conn counts.
        #expect((value("MAIN.sess_conn") ?? 0) >= 1 && value("MAIN.s_sess") == value("MAIN.sess_conn"))
        #expect(value("MAIN.s_fetch") == 1)
        #expect(value("MAIN.n_vcl") == 1 && value("MAIN.n_backend") == 1)
        #expect(json["version"] as? Int == 1)

        let filtered = try await Self.run(["stat", "-1", "-n", workdir, "-f", "MAIN.cache_*", "-f", "^MAIN.cache_hit_grace"])
        let names = filtered.stdout.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(names.contains("MAIN.cache_hit") && names.contains("MAIN.cache_miss"))
        #expect(!names.contains("MAIN.client_req") && !names.contains("MAIN.cache_hit_grace"))

        let ping = try await Self.run(["adm", "-n", workdir, "ping"])
        #expect(ping.status == .exited(0) && ping.stdout.hasPrefix("PONG"))

        #expect(await daemon.stop() == .exited(0))
        #expect(!FileManager.default.fileExists(atPath: workdir + "/_.admin"), "the CLI address outlived the process")
    }
}
