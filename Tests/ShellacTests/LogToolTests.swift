import Foundation
import Testing

/// `shellac log` as a user runs it: a real shellac with a work directory, real requests, the
/// tool as a subprocess reading the ring in shared memory (no CLI). And, when Debian's
/// varnishd is installed, the same scripted requests through Varnish: varnishlog and
/// `shellac log` must show the same records in the same order.
@Suite("shellac log (varnishlog) over the shared-memory ring", .serialized)
struct LogToolTests {
    static var binary: String { ChildProcess.shellacExecutable() }

    static func run(_ arguments: [String]) async throws -> (status: ChildProcess.ExitStatus?, stdout: String, stderr: String) {
        let child = try ChildProcess.launch(binary, arguments)
        let status = await child.waitForExit(timeout: .seconds(10))
        if status == nil { await child.stop(grace: .seconds(1)) }
        return (status, child.stdout, child.stderr)
    }

    /// Runs `body` with a shellac started with `-n` in front of an origin answering "product".
    static func withDaemon(_ body: (_ port: Int, _ workdir: String) async throws -> Void) async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "product"))
        let workdir = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-log-\(UUID().uuidString)").path
        let daemon = try ChildProcess.launch(binary, ["-a", "127.0.0.1:0", "-b", origin.address, "-n", workdir, "-F"])
        do {
            let port = try await daemon.waitForListening().port
            try await body(port, workdir)
        } catch {
            await daemon.stop()
            await origin.shutdown()
            throw error
        }
        #expect(await daemon.stop() == .exited(0))
        await origin.shutdown()
        try? FileManager.default.removeItem(atPath: workdir)
    }

    /// The tag column of varnishlog's grouped layout, in order (`-   ReqURL   /` gives ReqURL).
    static func tags(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("-") else { return nil }
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
        }
    }

    @Test("a miss then a hit, grouped by request, with -q, as varnishlog shows them")
    func requestGrouping() async throws {
        try await Self.withDaemon { port, workdir in
            _ = try await fetch("http://127.0.0.1:\(port)/product/1")
            let hit = try await fetch("http://127.0.0.1:\(port)/product/1")
            #expect(hit.isHit)
            let misses = try await Self.run(["log", "-n", workdir, "-d", "-g", "request", "-q", "VCL_call eq \"MISS\"", "-k", "1"])
            #expect(misses.status == .exited(0), "\(misses.stderr)")
            let lines = misses.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("*   << Request  >> ") == true, "\(misses.stdout)")
            #expect(lines.contains("-   ReqURL         /product/1"))
            #expect(lines.contains("-   VCL_call       MISS"))
            #expect(lines.contains { $0.hasPrefix("**  << BeReq    >> ") }, "the fetch is part of the request's group")
            #expect(lines.contains("--  BerespStatus   200"))
            #expect(lines.contains("--  BereqURL       /product/1"))

            let hits = try await Self.run(["log", "-n", workdir, "-d", "-q", "ReqURL ~ \"^/product\" and VCL_call eq HIT", "-k", "1", "-i", "ReqURL,Hit,RespHeader,ReqAcct"])
            #expect(hits.status == .exited(0), "\(hits.stderr)")
            #expect(Self.tags(hits.stdout).first == "ReqURL")
            #expect(hits.stdout.contains("-   Hit            "))
            #expect(hits.stdout.contains("-   RespHeader     X-Varnish: \(hit.header("X-Varnish") ?? "?")"))
            #expect(!hits.stdout.contains("VCL_call"), "-i keeps only the tags named")
            // ReqAcct: header bytes, no body, their sum, response head bytes, body bytes (7), total.
            let acct = try #require(hits.stdout.split(separator: "\n").first { $0.contains("ReqAcct") })
            let figures = acct.split(separator: " ").suffix(6).compactMap { Int($0) }
            #expect(figures.count == 6 && figures[1] == 0 && figures[4] == 7 && figures[5] == figures[3] + 7, "\(acct)")
        }
    }

    @Test("-g raw, -b and -c; -w writes a file that -r reads back; a session groups its requests")
    func rawFilesAndSessions() async throws {
        try await Self.withDaemon { port, workdir in
            // curl closes its connection when it is done: the session ends, and -d shows it.
            let curl = try ChildProcess.launch("/usr/bin/curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/a"])
            #expect(await curl.waitForExit(timeout: .seconds(10)) == .exited(0))
            try await Task.sleep(for: .milliseconds(200))
            let raw = try await Self.run(["log", "-n", workdir, "-d", "-g", "raw", "-b", "-i", "BereqURL", "-k", "1"])
            #expect(raw.status == .exited(0), "\(raw.stderr)")
            let line = raw.stdout.trimmingCharacters(in: .newlines)
            #expect(line.hasSuffix(" BereqURL       b /a"), "\(raw.stdout)")

            let file = workdir + "/saved.log"
            let written = try await Self.run(["log", "-n", workdir, "-d", "-g", "request", "-k", "1", "-w", file])
            #expect(written.status == .exited(0) && written.stdout.isEmpty, "\(written.stderr)")
            let replayed = try await Self.run(["log", "-r", file, "-c", "-i", "ReqURL"])
            #expect(replayed.status == .exited(0), "\(replayed.stderr)")
            #expect(replayed.stdout.contains("-   ReqURL         /a"), "\(replayed.stdout)")

            let session = try await Self.run(["log", "-n", workdir, "-d", "-g", "session", "-k", "1", "-i", "Begin,Link,SessOpen,SessClose,End"])
            #expect(session.status == .exited(0), "\(session.stderr)")
            #expect(session.stdout.hasPrefix("*   << Session  >> "), "\(session.stdout)")
            #expect(session.stdout.contains("-   SessOpen       127.0.0.1 "))
            #expect(session.stdout.contains("-   SessClose      REM_CLOSE "))
            #expect(session.stdout.contains("**  << Request  >> "))
        }
    }

    @Test("shellac top -1 counts records as varnishtop -1 prints them; shellac hist -d draws hits | and misses #")
    func topAndHist() async throws {
        try await Self.withDaemon { port, workdir in
            for _ in 0..<3 { _ = try await fetch("http://127.0.0.1:\(port)/t") }
            _ = try await fetch("http://127.0.0.1:\(port)/u")
            let top = try await Self.run(["top", "-n", workdir, "-1", "-i", "ReqURL"])
            #expect(top.status == .exited(0), "\(top.stderr)")
            #expect(top.stdout == "     3.00 ReqURL /t\n     1.00 ReqURL /u\n", "\(top.stdout)")
            let calls = try await Self.run(["top", "-n", workdir, "-1", "-i", "VCL_call", "-q", "ReqURL eq \"/t\""])
            #expect(calls.stdout.contains("     2.00 VCL_call HIT\n") && calls.stdout.contains("     1.00 VCL_call MISS\n"), "\(calls.stdout)")

            let hist = try await Self.run(["hist", "-n", workdir, "-d"])
            #expect(hist.status == .exited(0), "\(hist.stderr)")
            let lines = hist.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("1:1, n = 4 ") == true, "\(hist.stdout)")
            #expect(lines.last?.hasPrefix("|1e-6   |1e-5") == true)
            let bars = lines.dropFirst().dropLast().joined()
            #expect(bars.filter { $0 == "|" }.count == 2 && bars.filter { $0 == "#" }.count == 2, "two hits, two misses: \(hist.stdout)")
            let sizes = try await Self.run(["hist", "-n", workdir, "-d", "-P", "size"])
            #expect(sizes.stdout.hasPrefix("1:1, n = 4 "), "\(sizes.stdout)")
            let bad = try await Self.run(["hist", "-n", workdir, "-d", "-P", "nonsense"])
            #expect(bad.status == .exited(2) && bad.stderr.contains("-P nonsense"))
        }
    }

    @Test("an operator's mistakes: a bad query, an unknown tag, no log at -n, a file that is not a log")
    func mistakes() async throws {
        let query = try await Self.run(["log", "-n", "/nonexistent", "-q", "RespStatus >= "])
        #expect(query.status == .exited(2))
        #expect(query.stderr.contains("Query expression error"), "\(query.stderr)")
        let tag = try await Self.run(["log", "-n", "/nonexistent", "-i", "ReqUrlz"])
        #expect(tag.status == .exited(2))
        let missing = try await Self.run(["log", "-n", "/nonexistent/shellac"])
        #expect(missing.status == .exited(2))
        #expect(missing.stderr.contains("is a shellac running with -n /nonexistent/shellac?"), "\(missing.stderr)")
        let notALog = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-log-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: notALog, contents: Data("hello".utf8))
        defer { try? FileManager.default.removeItem(atPath: notALog) }
        let file = try await Self.run(["log", "-r", notALog])
        #expect(file.status == .exited(2))
        #expect(file.stderr.contains("not a shellac log file"), "\(file.stderr)")
    }
}

/// The same scripted requests through Varnish (Debian's varnishd, when installed) and
/// Shellac: varnishlog and `shellac log` show the same records in the same order. Both
/// outputs go through one parser of varnishlog's layout.
@Suite("shellac log against varnishlog", .serialized)
struct LogAgainstVarnishlogTests {
    static let varnishd = "/usr/sbin/varnishd"
    static let varnishlog = "/usr/bin/varnishlog"

    /// One line of varnishlog's grouped layout: its level (the count of `-`), tag, payload.
    struct Line: Equatable, CustomStringConvertible {
        var level: Int
        var tag: String
        var payload: String
        var description: String { "\(level) \(tag) \(payload)" }
    }

    static func parse(_ output: String) -> [Line] {
        output.split(separator: "\n").compactMap { line in
            guard let first = line.first, first == "-" else { return nil }
            let marker = line.prefix { $0 == "-" }
            let rest = line.dropFirst(4)
            let tag = rest.prefix { $0 != " " }
            let payload = rest.count > 15 ? String(rest.dropFirst(15)) : ""
            return Line(level: marker.count, tag: String(tag), payload: payload)
        }
    }

    /// The (level, tag) sequence with runs of one tag merged: header counts differ between
    /// the two (Shellac's bereq carries Via; Varnish's stored object keeps the backend's
    /// protocol), their order and kinds must not.
    static func shape(_ lines: [Line]) -> [String] {
        var shape: [String] = []
        for line in lines {
            let item = "\(line.level) \(line.tag)"
            if shape.last != item { shape.append(item) }
        }
        return shape
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("a miss and a hit: the same records in the same order as varnishlog -g request",
          .enabled(if: FileManager.default.isExecutableFile(atPath: varnishd) && FileManager.default.isExecutableFile(atPath: varnishlog)))
    func sameRecordsAsVarnishlog() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "compare"))
        let varnishDirectory = "/tmp/shellac-varnish-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: varnishDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: varnishDirectory) }
        let port = Self.freePort()
        let varnish = try ChildProcess.launch(Self.varnishd, [
            "-F", "-a", "127.0.0.1:\(port)", "-b", origin.address, "-n", varnishDirectory + "/n", "-T", "127.0.0.1:0",
            "-s", "malloc,32m", "-p", "vsl_reclen=255",
        ])
        var ready = false
        for _ in 0..<100 where !ready {
            if (try? await fetch("http://127.0.0.1:\(port)/warm")) != nil { ready = true } else { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard ready else {
            await varnish.stop()
            await origin.shutdown()
            Issue.record("varnishd did not start: \(varnish.stderr)")
            return
        }
        var outputs: [String] = []
        let query = "ReqURL eq \"/compare\""
        _ = try await fetch("http://127.0.0.1:\(port)/compare")
        _ = try await fetch("http://127.0.0.1:\(port)/compare")
        let reference = try ChildProcess.launch(Self.varnishlog, ["-n", varnishDirectory + "/n", "-d", "-g", "request", "-q", query, "-k", "2"])
        _ = await reference.waitForExit(timeout: .seconds(10))
        outputs.append(reference.stdout)
        await varnish.stop()
        await origin.shutdown()

        try await LogToolTests.withDaemon { shellacPort, workdir in
            _ = try await fetch("http://127.0.0.1:\(shellacPort)/compare")
            _ = try await fetch("http://127.0.0.1:\(shellacPort)/compare")
            let ours = try await LogToolTests.run(["log", "-n", workdir, "-d", "-g", "request", "-q", query, "-k", "2"])
            outputs.append(ours.stdout)
        }
        let varnishLines = Self.parse(outputs[0])
        let shellacLines = Self.parse(outputs[1])
        #expect(!varnishLines.isEmpty, "varnishlog printed nothing: \(outputs[0])")
        #expect(Self.shape(shellacLines) == Self.shape(varnishLines), "varnishlog:\n\(outputs[0])\nshellac log:\n\(outputs[1])")
        // And what they say of the request: the same calls and answers.
        func payloads(_ lines: [Line], _ tags: Set<String>) -> [String] { lines.filter { tags.contains($0.tag) }.map(\.description) }
        let compared: Set<String> = ["ReqMethod", "ReqURL", "ReqProtocol", "VCL_call", "VCL_return", "RespStatus", "RespReason", "BereqMethod", "BereqURL", "BerespStatus", "Length"]
        #expect(payloads(shellacLines, compared) == payloads(varnishLines, compared))
    }
}
