import ShellacCache

/// `/stats.json`: what the dashboard draws, read each second: the server's clock and the
/// counters it needs (rates are differences between two reads over the server's clock, made
/// by the page), storage, backends, the response
/// time histogram and the top missed URLs.
enum DashboardData {
    static func json(commands: AdminCommands, times: ResponseTimes, misses: MissedURLs, rates: DashboardRates.Rates) -> String {
        let counters = Dictionary(commands.counters().map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        func number(_ name: String) -> Int { counters[name] ?? 0 }
        var fields: [String] = []
        for name in [
            "MAIN.uptime", "MAIN.client_req", "MAIN.cache_hit", "MAIN.cache_miss", "MAIN.cache_hitpass",
            "MAIN.cache_hitmiss", "MAIN.s_pass", "MAIN.s_synth", "MAIN.s_resp_hdrbytes", "MAIN.s_resp_bodybytes",
            "MAIN.n_object", "MAIN.n_lru_nuked", "MAIN.backend_fail", "MAIN.fetch_failed", "SMA.s0.g_bytes",
            "SMA.s0.g_space",
        ] {
            fields.append("\"\(name)\": \(number(name))")
        }
        let backends = commands.backends(matching: nil).map {
            "{\"vcl\": \(JSONString.quoted($0.vcl)), \"name\": \(JSONString.quoted($0.health.name)), \"healthy\": \($0.health.isHealthy)}"
        }
        var histograms: [String] = []
        for handling in ResponseTimes.Handling.allCases {
            let histogram = times.histogram(handling)
            histograms.append("\(JSONString.quoted(handling.name)): {\"buckets\": [\(histogram.buckets.map(String.init).joined(separator: ", "))], \"count\": \(histogram.count), \"sum\": \(histogram.sum)}")
        }
        let missed = misses.top(10).map { "{\"url\": \(JSONString.quoted($0.url)), \"misses\": \(Int($0.misses.rounded()))}" }
        return """
            {"time": \(HTTPDate.currentTime()),
             "rates": {"requests": \(rates.requestsPerSecond), "bytes": \(rates.bytesPerSecond), "hitratio": \(rates.hitRatio.map { String($0) } ?? "null")},
             "counters": {\(fields.joined(separator: ", "))},
             "backends": [\(backends.joined(separator: ", "))],
             "bounds": [\(ResponseTimes.bounds.map { String($0) }.joined(separator: ", "))],
             "histograms": {\(histograms.joined(separator: ", "))},
             "missed": [\(missed.joined(separator: ", "))]}

            """
    }
}
