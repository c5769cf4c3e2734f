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

        // The counters in shared memory are published ten times a second: the second request
        // shows within a few publications.
        var json: [String: Any] = [:]
        var counters: [String: [String: Any]] = [:]
        for _ in 0..<30 {
            let stat = try await Self.run(["stat", "-1", "-j", "-n", workdir])
            #expect(stat.status == .exited(0))
            json = try #require(try JSONSerialization.jsonObject(with: Data(stat.stdout.utf8)) as? [String: Any])
            counters = try #require(json["counters"] as? [String: [String: Any]])
            if counters["MAIN.client_req"]?["value"] as? Int == 2 && counters["MAIN.n_object"]?["value"] as? Int == 1 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
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

    @Test("without any CLI (-T none) stat -n reads the counters from shared memory; after the stop it says so")
    func countersWithoutCLI() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "ok"))
        let workdir = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-vsc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: workdir) }
        let daemon = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0", "-b", origin.address, "-n", workdir, "-T", "none", "-F"])
        let port = try await daemon.waitForListening().port
        for _ in 0..<3 { _ = try await fetch("http://127.0.0.1:\(port)/v") }
        var line = ""
        for _ in 0..<30 {
            let stat = try await Self.run(["stat", "-1", "-n", workdir, "-f", "MAIN.cache_hit"])
            #expect(stat.status == .exited(0))
            line = stat.stdout.trimmingCharacters(in: .newlines)
            if line.hasSuffix(" 2") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(line.hasPrefix("MAIN.cache_hit ") && line.hasSuffix(" 2"), "\(line)")
        #expect(await daemon.stop() == .exited(0))
        await origin.shutdown()
        try await Task.sleep(for: .seconds(6))
        let stale = try await Self.run(["stat", "-1", "-n", workdir])
        #expect(stale.status == .exited(2))
        #expect(stale.stdout.isEmpty)
    }
}
