/// The counters in Prometheus's text format (version 0.0.4), named as the established Varnish
/// exporter (prometheus_varnish_exporter) names them, so existing dashboards work:
/// `MAIN.client_req` is `varnish_main_client_req`; `SMA.s0.g_bytes` is
/// `varnish_sma_g_bytes{type="s0"}`; per-backend figures are `varnish_backend_*` with
/// `backend` and `server` labels. Added: `shellac_response_seconds` histograms by handling.
public enum PrometheusExposition {
    public struct BackendState: Sendable {
        public var vcl: String
        public var name: String
        public var healthy: Bool

        public init(vcl: String, name: String, healthy: Bool) {
            self.vcl = vcl
            self.name = name
            self.healthy = healthy
        }
    }

    /// Gauges among the counters (everything else is a counter).
    static func isGauge(_ name: String) -> Bool {
        let last = name.split(separator: ".").last ?? ""
        return last.hasPrefix("g_") || name.hasPrefix("MAIN.n_") || name == "MAIN.bans" || name == "MAIN.uptime"
            || name.hasPrefix("MAIN.bans_persisted") || name == "MAIN.sess_conn_open"
    }

    public static func render(
        counters: [(name: String, value: Int)], backends: [BackendState], times: ResponseTimes
    ) -> String {
        var out = ""
        var described = Set<String>()
        for (name, value) in counters {
            let parts = name.split(separator: ".").map(String.init)
            guard let section = parts.first?.lowercased(), parts.count >= 2 else { continue }
            var metric: String
            var labels = ""
            switch section {
            case "main", "mgt", "lck", "mempool":
                metric = "varnish_\(section)_" + parts.dropFirst().joined(separator: "_")
            case "sma", "smf":
                metric = "varnish_\(section)_" + parts.dropFirst(2).joined(separator: "_")
                labels = "{type=\"\(parts[1])\"}"
            case "vbe":
                // VBE.<vcl>.<backend>.<field>
                guard parts.count >= 4 else { continue }
                metric = "varnish_backend_" + parts[3...].joined(separator: "_")
                labels = "{backend=\"\(parts[2])\",server=\"\(parts[1])\"}"
            default:
                metric = "varnish_\(section)_" + parts.dropFirst().joined(separator: "_")
            }
            metric = sanitized(metric)
            if described.insert(metric).inserted {
                out += "# HELP \(metric) \(name)\n# TYPE \(metric) \(isGauge(name) ? "gauge" : "counter")\n"
            }
            out += "\(metric)\(labels) \(value)\n"
        }
        out += "# HELP varnish_backend_up Backend health (1: healthy)\n# TYPE varnish_backend_up gauge\n"
        for backend in backends {
            out += "varnish_backend_up{backend=\"\(backend.name)\",server=\"\(backend.vcl)\"} \(backend.healthy ? 1 : 0)\n"
        }
        let metric = "shellac_response_seconds"
        out += "# HELP \(metric) Time from a request's first byte to its response's last, by handling\n# TYPE \(metric) histogram\n"
        for handling in ResponseTimes.Handling.allCases {
            let histogram = times.histogram(handling)
            for (bound, count) in zip(ResponseTimes.bounds, histogram.buckets) {
                out += "\(metric)_bucket{handling=\"\(handling.name)\",le=\"\(format(bound))\"} \(count)\n"
            }
            out += "\(metric)_bucket{handling=\"\(handling.name)\",le=\"+Inf\"} \(histogram.count)\n"
            out += "\(metric)_sum{handling=\"\(handling.name)\"} \(histogram.sum)\n"
            out += "\(metric)_count{handling=\"\(handling.name)\"} \(histogram.count)\n"
        }
        return out
    }

    static func sanitized(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    }

    static func format(_ bound: Double) -> String {
        bound == bound.rounded() ? String(Int(bound)) : String(bound)
    }
}
