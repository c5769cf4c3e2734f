import Foundation
import Testing

/// The dashboard in a real browser (Debian's chromium, headless): loaded while load runs, the
/// figures it shows agree with `shellac stat`, and a screenshot is kept
/// (`.build/artifacts/dashboard.png`).
@Suite("the dashboard in headless Chromium", .serialized)
struct DashboardBrowserTests {
    static let chromium = "/usr/bin/chromium"

    /// The text of the element with `id` in a dumped DOM.
    static func figure(_ dom: String, _ id: String) -> String? {
        guard let start = dom.range(of: "id=\"\(id)\">") else { return nil }
        let rest = dom[start.upperBound...]
        return String(rest.prefix { $0 != "<" })
    }

    static func counter(_ stat: String, _ name: String) -> Int? {
        for line in stat.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Int(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    @Test("under load the page shows req/s, a hit ratio, the request count stat reports, backends and missed URLs",
          .enabled(if: FileManager.default.isExecutableFile(atPath: chromium)))
    func dashboardUnderLoad() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "dash"))
        let workdir = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-dash-\(UUID().uuidString)").path
        let daemon = try ChildProcess.launch(
            ChildProcess.shellacExecutable(),
            ["-a", "127.0.0.1:0", "-b", origin.address, "-n", workdir, "-p", "admin_http=127.0.0.1:0", "-F"])
        defer { try? FileManager.default.removeItem(atPath: workdir) }
        do {
            let port = try await daemon.waitForListening().port
            let line = try #require(daemon.stdout.split(separator: "\n").first { $0.contains("admin HTTP on ") })
            let admin = try #require(line.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }).dropLast()
            _ = try await fetch("http://127.0.0.1:\(port)/page")
            let before = try await LogToolTests.run(["stat", "-1", "-n", workdir])
            // Load: hits on one page, for as long as the browser looks.
            let load = Task {
                var sent = 0
                let deadline = ContinuousClock.now + .seconds(8)
                while !Task.isCancelled && ContinuousClock.now < deadline {
                    _ = try? await fetch("http://127.0.0.1:\(port)/page")
                    sent += 1
                }
                return sent
            }
            // The server measures rates once a second: let a whole second of hits go by.
            try await Task.sleep(for: .milliseconds(2_200))
            let artifacts = FileManager.default.currentDirectoryPath + "/.build/artifacts"
            try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
            let browser = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--virtual-time-budget=2500"]
            let dump = try ChildProcess.launch(Self.chromium, browser + ["--dump-dom", "http://\(admin)/"])
            _ = await dump.waitForExit(timeout: .seconds(60))
            let shot = try ChildProcess.launch(
                Self.chromium, browser + ["--window-size=1280,900", "--screenshot=\(artifacts)/dashboard.png", "http://\(admin)/"])
            _ = await shot.waitForExit(timeout: .seconds(60))
            load.cancel()
            let sent = await load.value
            let after = try await LogToolTests.run(["stat", "-1", "-n", workdir])
            let dom = dump.stdout

            let shown = try #require(Self.figure(dom, "requests").flatMap { Int($0) }, "\(dom.prefix(2000))")
            let low = try #require(Self.counter(before.stdout, "MAIN.client_req"))
            let high = try #require(Self.counter(after.stdout, "MAIN.client_req"))
            #expect(low <= shown && shown <= high, "the page's request count \(shown) is stat's at that moment (\(low)…\(high))")
            #expect(sent > 10)
            let rate = try #require(Self.figure(dom, "reqs"))
            #expect(rate != "–" && rate != "0", "req/s under load: \(rate)")
            #expect(Self.figure(dom, "hitratio") == "100.0%", "only hits in the last second")
            #expect(Self.figure(dom, "storage")?.contains("B / ") == true)
            #expect(dom.contains("<td>default</td><td class=\"up\">healthy</td>"))
            #expect(dom.contains("<td>/page</td>"), "the one miss is in the top missed URLs")
            #expect(FileManager.default.fileExists(atPath: artifacts + "/dashboard.png"), "the screenshot is kept")
        } catch {
            await daemon.stop()
            await origin.shutdown()
            throw error
        }
        #expect(await daemon.stop() == .exited(0))
        await origin.shutdown()
    }
}
