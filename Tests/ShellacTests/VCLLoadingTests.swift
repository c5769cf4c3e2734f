import Foundation
import Testing

/// `-f`, `-C` and SIGHUP: VCL files compiled at start, checked without starting, reloaded
/// while the daemon keeps answering.
@Suite("VCL loading", .serialized)
struct VCLLoadingTests {
    static var binary: String { ChildProcess.shellacExecutable() }
    /// The seed configurations, as copied into the VCL test corpus.
    static let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("VCLTests/Corpus/seeds").path

    static func run(_ arguments: [String]) async throws -> (status: ChildProcess.ExitStatus?, stdout: String, stderr: String) {
        let child = try ChildProcess.launch(binary, arguments)
        let status = await child.waitForExit(timeout: .seconds(15))
        if status == nil { await child.stop(grace: .seconds(2)) }
        return (status, child.stdout, child.stderr)
    }

    /// True when `stderr` shows an error at `file:line:col`, then `source`, then a caret in that column.
    static func showsError(_ stderr: String, file: String, line: Int, source: String) -> Bool {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, text) in lines.enumerated() where text.hasPrefix("\(file):\(line):") && index + 2 < lines.count {
            let parts = text.dropFirst("\(file):\(line):".count).split(separator: ":", maxSplits: 1)
            guard let column = parts.first.flatMap({ Int($0) }) else { continue }
            let caret = lines[index + 2]
            if lines[index + 1].contains(source), caret.hasSuffix("^"), caret.count == column { return true }
        }
        return false
    }

    @Test("a broken -f file exits 2 and prints every error with file:line:col, the line and a caret")
    func brokenFileExits2() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let file = try directory.write("broken.vcl", TestVCL.broken)
        let result = try await Self.run(["-a", "127.0.0.1:0", "-f", file, "-F"])
        #expect(result.status == .exited(2), "\(result.status.map(\.description) ?? "still running"); stderr: \(result.stderr)")
        #expect(Self.showsError(result.stderr, file: file, line: 4, source: "set req.no_such_thing"), "stderr: \(result.stderr)")
        #expect(Self.showsError(result.stderr, file: file, line: 5, source: "return (pass) }"), "stderr: \(result.stderr)")
        #expect(!result.stdout.contains("listening on"))
    }

    @Test("-C -f with a good file exits 0; with a broken one exits 2 and prints the errors")
    func compileOnly() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let good = try directory.write("good.vcl", TestVCL.good())
        let ok = try await Self.run(["-C", "-f", good])
        #expect(ok.status == .exited(0), "stderr: \(ok.stderr)")
        #expect(ok.stdout.contains("VCL compiled"))
        #expect(!ok.stdout.contains("listening on"))

        let broken = try directory.write("broken.vcl", TestVCL.broken)
        let failed = try await Self.run(["-C", "-f", broken])
        #expect(failed.status == .exited(2))
        #expect(Self.showsError(failed.stderr, file: broken, line: 4, source: "req.no_such_thing"), "stderr: \(failed.stderr)")
        #expect(failed.stderr.contains("VCL compilation failed"))
    }

    @Test("the seed VCL files compile with -C: exit 0, legacy warnings with their positions",
          arguments: ["upstage-varnish2.vcl", "shop-varnish3.vcl"])
    func seedsCompile(_ name: String) async throws {
        let file = Self.seeds + "/" + name
        let result = try await Self.run(["-C", "-f", file])
        #expect(result.status == .exited(0), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("\(file):1:1: warning:"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("vcl_fetch is read as vcl_backend_response"))
    }

    @Test("-f without -b fetches from the VCL's first backend; with -b, from -b")
    func backendFromVCL() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "from the VCL's backend"))
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let file = try directory.write("origin.vcl", TestVCL.good(host: "127.0.0.1", port: origin.port))
        let child = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0", "-f", file, "-F"])
        do {
            let address = try await child.waitForListening(timeout: .seconds(10))
            let response = try await fetch("http://127.0.0.1:\(address.port)/vcl-backend")
            #expect(response.status == 200 && response.body == "from the VCL's backend")
        } catch {
            await child.stop(grace: .seconds(2))
            await origin.shutdown()
            throw error
        }
        #expect(await child.stop(grace: .seconds(5)) == .exited(0))

        // The VCL names an unroutable address; -b points every backend at the origin.
        let elsewhere = try directory.write("elsewhere.vcl", TestVCL.good(host: "192.0.2.1", port: 81))
        let overridden = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0", "-f", elsewhere, "-b", origin.address, "-F"])
        do {
            let address = try await overridden.waitForListening(timeout: .seconds(10))
            let response = try await fetch("http://127.0.0.1:\(address.port)/overridden")
            #expect(response.status == 200 && response.body == "from the VCL's backend")
        } catch {
            await overridden.stop(grace: .seconds(2))
            await origin.shutdown()
            throw error
        }
        #expect(await overridden.stop(grace: .seconds(5)) == .exited(0))
        await origin.shutdown()
    }

    @Test("SIGHUP with a fixed file switches VCL, with a broken file keeps it; requests are answered throughout")
    func sighupReload() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "no-store"], body: "ok"))
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let file = try directory.write("main.vcl", TestVCL.good(name: "first"))
        let daemon = try await AdminDaemon.start(["-f", file, "-b", origin.address], directory: directory)
        do {
            // Requests keep flowing on four connections while the file is reloaded.
            let traffic = Task { () -> [Int] in
                try await withThrowingTaskGroup(of: [Int].self) { group in
                    for worker in 0..<4 {
                        group.addTask {
                            var statuses: [Int] = []
                            let deadline = ContinuousClock.now + .seconds(3)
                            var index = 0
                            while ContinuousClock.now < deadline {
                                statuses.append(try await fetch(daemon.url("/during/\(worker)/\(index)")).status)
                                index += 1
                            }
                            return statuses
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
            try await Task.sleep(for: .milliseconds(300))

            // A broken file: the errors are printed, the boot VCL stays active.
            try directory.write("main.vcl", TestVCL.broken)
            daemon.child.hangUp()
            _ = try await daemon.child.waitForLine(containing: "reload of \(file) failed", in: .stderr, timeout: .seconds(10))
            #expect(VCLLoadingTests.showsError(daemon.child.stderr, file: file, line: 4, source: "req.no_such_thing"))
            let afterBroken = try await daemon.adm(["vcl.list"])
            #expect(afterBroken.status == .exited(0))
            #expect(Self.activeName(in: afterBroken.stdout) == "boot", "vcl.list: \(afterBroken.stdout)")

            // A fixed file: it becomes active under a reload_ name.
            try directory.write("main.vcl", TestVCL.good(name: "second"))
            daemon.child.hangUp()
            _ = try await daemon.child.waitForLine(containing: "VCL reloaded from \(file)", in: .stdout, timeout: .seconds(10))
            let afterFixed = try await daemon.adm(["vcl.list"])
            let active = Self.activeName(in: afterFixed.stdout)
            #expect(active?.hasPrefix("reload_") == true, "vcl.list: \(afterFixed.stdout)")
            #expect(afterFixed.stdout.contains("available") && afterFixed.stdout.contains("boot"))

            let statuses = try await traffic.value
            #expect(statuses.count > 10, "only \(statuses.count) requests during the reloads")
            #expect(statuses.allSatisfy { $0 == 200 }, "statuses: \(Set(statuses))")
            #expect(daemon.child.isRunning)
        } catch {
            await daemon.stop()
            await origin.shutdown()
            throw error
        }
        #expect(await daemon.stop() == .exited(0))
        await origin.shutdown()
    }

    /// The name on the `active` line of `vcl.list`.
    static func activeName(in listing: String) -> String? {
        listing.split(separator: "\n").first { $0.hasPrefix("active") }.flatMap { $0.split(separator: " ").last.map(String.init) }
    }
}
