import Foundation
import Testing

/// `shellac ncsa` (varnishncsa) as a user runs it: lines for real requests, read from the
/// ring; formats; the backend side; a file logrotate can move (SIGHUP reopens it).
@Suite("shellac ncsa (varnishncsa)", .serialized)
struct NCSAToolTests {
    static func waitForFile(_ path: String, containing text: String) async -> String {
        for _ in 0..<100 {
            if let data = FileManager.default.contents(atPath: path), String(decoding: data, as: UTF8.self).contains(text) {
                return String(decoding: data, as: UTF8.self)
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    @Test("NCSA combined by default; -F with varnishncsa's codes; -b for the backend side")
    func formats() async throws {
        try await LogToolTests.withDaemon { port, workdir in
            _ = try await fetch("http://127.0.0.1:\(port)/n/1", headers: [("Referer", "http://shop/"), ("User-Agent", "Tester/2")])
            _ = try await fetch("http://127.0.0.1:\(port)/n/1", headers: [("User-Agent", "Tester/2")])
            let combined = try await LogToolTests.run(["ncsa", "-n", workdir, "-d", "-k", "2"])
            #expect(combined.status == .exited(0), "\(combined.stderr)")
            let lines = combined.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "\(combined.stdout)")
            let pattern = #/^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET http://127\.0\.0\.1:\d+/n/1 HTTP/1\.1" 200 7 "(.*)" "Tester/2"$/#
            #expect(lines.allSatisfy { $0.wholeMatch(of: pattern) != nil }, "\(lines)")
            #expect(lines.first?.contains("\"http://shop/\"") == true && lines.last?.contains("\"-\"") == true)

            let custom = try await LogToolTests.run(["ncsa", "-n", workdir, "-d", "-k", "2", "-F", "%m %U %s %b %{Varnish:hitmiss}x %{User-Agent}i"])
            #expect(custom.stdout == "GET /n/1 200 7 miss Tester/2\nGET /n/1 200 7 hit Tester/2\n", "\(custom.stdout)\(custom.stderr)")

            let backend = try await LogToolTests.run(["ncsa", "-n", workdir, "-d", "-k", "1", "-b", "-F", "%m %U %s"])
            #expect(backend.stdout == "GET /n/1 200\n", "\(backend.stdout)\(backend.stderr)")

            let bad = try await LogToolTests.run(["ncsa", "-n", workdir, "-F", "%{Varnish:nonsense}x"])
            #expect(bad.status == .exited(2), "\(bad.stdout)")
        }
    }

    @Test("-a -w FILE: lines go to the file; SIGHUP after logrotate's move starts a new file")
    func rotation() async throws {
        try await LogToolTests.withDaemon { port, workdir in
            let file = workdir + "/access.log"
            let writer = try ChildProcess.launch(ChildProcess.shellacExecutable(), ["ncsa", "-n", workdir, "-a", "-w", file, "-F", "%U %s"])
            try await Task.sleep(for: .milliseconds(300))
            _ = try await fetch("http://127.0.0.1:\(port)/before")
            #expect(await Self.waitForFile(file, containing: "/before 200") == "/before 200\n")
            try FileManager.default.moveItem(atPath: file, toPath: file + ".1")
            writer.hangUp()
            try await Task.sleep(for: .milliseconds(200))
            _ = try await fetch("http://127.0.0.1:\(port)/after")
            #expect(await Self.waitForFile(file, containing: "/after 200") == "/after 200\n")
            #expect(FileManager.default.contents(atPath: file + ".1").map { String(decoding: $0, as: UTF8.self) } == "/before 200\n")
            writer.terminate()
            _ = await writer.waitForExit(timeout: .seconds(5))
        }
    }
}
