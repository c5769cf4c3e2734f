import Foundation
import Testing

/// The admin HTTP listener (`-p admin_http=…`): Prometheus's `/metrics` named as the Varnish
/// exporter names things, response-time histograms, backend health, and the dashboard's page
/// and data. Over real sockets, with a real shellac and real requests.
@Suite("admin HTTP: /metrics and the dashboard", .serialized)
struct MetricsTests {
    /// The value of the sample `name` (with its labels, as written) in an exposition.
    static func sample(_ exposition: String, _ name: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    @Test("/metrics counts what happened; histograms by handling; backend health; the dashboard and its data")
    func metricsAndDashboard() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "metrics"))
        let workdir = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-metrics-\(UUID().uuidString)").path
        let daemon = try ChildProcess.launch(
            ChildProcess.shellacExecutable(),
            ["-a", "127.0.0.1:0", "-b", origin.address, "-n", workdir, "-p", "admin_http=127.0.0.1:0", "-F"])
        defer { try? FileManager.default.removeItem(atPath: workdir) }
        do {
            let port = try await daemon.waitForListening().port
            let line = try #require(daemon.stdout.split(separator: "\n").first { $0.contains("admin HTTP on ") })
            let admin = try #require(line.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }).dropLast()
            _ = try await fetch("http://127.0.0.1:\(port)/p/1")
            for _ in 0..<3 { #expect(try await fetch("http://127.0.0.1:\(port)/p/1").isHit) }
            _ = try await fetch("http://127.0.0.1:\(port)/p/2")

            let metrics = try await fetch("http://\(admin)/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = metrics.body
            #expect(Self.sample(text, "varnish_main_client_req") == 5)
            #expect(Self.sample(text, "varnish_main_cache_hit") == 3)
            #expect(Self.sample(text, "varnish_main_cache_miss") == 2)
            #expect(Self.sample(text, "varnish_main_n_object") == 2)
            #expect(text.contains("# TYPE varnish_main_client_req counter"))
            #expect(text.contains("# TYPE varnish_main_n_object gauge"))
            #expect(Self.sample(text, "varnish_sma_g_bytes{type=\"s0\"}").map { $0 > 0 } == true)
            #expect(Self.sample(text, "varnish_backend_up{backend=\"default\",server=\"boot\"}") == 1, "\(text)")
            #expect(Self.sample(text, "shellac_response_seconds_count{handling=\"hit\"}") == 3)
            #expect(Self.sample(text, "shellac_response_seconds_count{handling=\"miss\"}") == 2)
            #expect(Self.sample(text, "shellac_response_seconds_bucket{handling=\"hit\",le=\"+Inf\"}") == 3)
            #expect(Self.sample(text, "shellac_response_seconds_bucket{handling=\"hit\",le=\"10\"}") == 3)

            let page = try await fetch("http://\(admin)/")
            #expect(page.status == 200 && page.header("Content-Type")?.hasPrefix("text/html") == true)
            for id in ["reqs", "hitratio", "bytesout", "storage", "backends", "missed", "histogram"] {
                #expect(page.body.contains("id=\"\(id)\""), "the page shows \(id)")
            }
            #expect(!page.body.contains("http://") && !page.body.contains("https://"), "no external assets")

            // The top missed URLs come from the log, read once a second.
            var stats: [String: Any] = [:]
            for _ in 0..<30 {
                let body = try await fetch("http://\(admin)/stats.json").body
                stats = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                if (stats["missed"] as? [[String: Any]])?.count == 2 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let counters = try #require(stats["counters"] as? [String: Int])
            #expect(counters["MAIN.client_req"] == 5 && counters["MAIN.cache_hit"] == 3)
            let missed = try #require(stats["missed"] as? [[String: Any]])
            #expect(Set(missed.compactMap { $0["url"] as? String }) == ["/p/1", "/p/2"], "\(stats)")
            #expect(try await fetch("http://\(admin)/nothing").status == 404)
        } catch {
            await daemon.stop()
            await origin.shutdown()
            throw error
        }
        #expect(await daemon.stop() == .exited(0))
        await origin.shutdown()
    }

    @Test("a bad admin_http address is refused at start")
    func badAddress() async throws {
        let child = try ChildProcess.launch(
            ChildProcess.shellacExecutable(), ["-a", "127.0.0.1:0", "-b", "127.0.0.1:9", "-p", "admin_http=nowhere:port"])
        let status = await child.waitForExit(timeout: .seconds(10))
        #expect(status == .exited(2))
        #expect(child.stderr.contains("admin_http"), "\(child.stderr)")
    }
}
