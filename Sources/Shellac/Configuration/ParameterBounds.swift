/// The ranges varnishd 7.1 enforces on parameters (those Shellac only accepts, and the byte
/// and count ones it acts on), so that `param.set` refuses (CLI status 106) what varnishd
/// refuses, even for a value Shellac would not act on. Some ranges depend on another parameter (`thread_pool_min` ≤ `thread_pool_max`,
/// `thread_pool_reserve` ≤ 95% of `thread_pool_min`).
enum ParameterBounds {
    /// Fixed ranges, in the parameter's unit (seconds, bytes or a count).
    private static let fixed: [String: ClosedRange<Double>] = [
        "acceptor_sleep_decay": 0...1,
        "acceptor_sleep_incr": 0...1,
        "acceptor_sleep_max": 0...10,
        "gzip_buffer": 2048...Double.infinity,
        "gzip_level": 0...9,
        "gzip_memlevel": 1...9,
        "http_max_hdr": 32...65_535,
        "http_req_hdr_len": 40...Double.infinity,
        "http_resp_hdr_len": 40...Double.infinity,
        "http_resp_size": 256...Double.infinity,
        "pcre2_match_limit": 1...Double.infinity,
        "pcre2_depth_limit": 1...Double.infinity,
        "rush_exponent": 2...Double.infinity,
        "tcp_keepalive_probes": 1...100,
        "thread_pools": 1...Double.infinity,
        "workspace_thread": 256...8_192,
    ]

    /// Whether `value` (already of the right kind) is in range for `name`, given the other
    /// parameters as they stand.
    static func allows(_ name: String, _ value: String, in parameters: Parameters) -> Bool {
        switch name {
        case "thread_pool_min":
            guard let number = Double(value) else { return false }
            return number >= 5 && number <= poolMax(parameters)
        case "thread_pool_max":
            if value == "unlimited" { return true }
            guard let number = Double(value) else { return false }
            return number >= poolMin(parameters)
        case "thread_pool_reserve":
            guard let number = Double(value) else { return false }
            return number >= 0 && number <= (poolMin(parameters) * 0.95).rounded(.down)
        case "pool_req", "pool_sess", "pool_vbo":
            let parts = value.split(separator: ",").compactMap { Double($0) }
            return parts.count == 3 && parts[0] >= 0 && parts[1] >= 1 && parts[0] <= parts[1] && parts[2] >= 0
        default:
            guard let range = fixed[name] else { return true }
            guard let number = magnitude(name, value) else { return false }
            return range.contains(number)
        }
    }

    private static func poolMin(_ parameters: Parameters) -> Double {
        Double(parameters.value(of: "thread_pool_min") ?? "") ?? 100
    }

    private static func poolMax(_ parameters: Parameters) -> Double {
        let text = parameters.value(of: "thread_pool_max") ?? ""
        return text == "unlimited" ? .infinity : Double(text) ?? 5000
    }

    /// The value in the parameter's unit.
    private static func magnitude(_ name: String, _ value: String) -> Double? {
        switch AcceptedParameter.byName[name]?.kind {
        case .duration: return Parameters.parseDuration(value)
        case .bytes: return Parameters.parseBytes(value).map(Double.init)
        default: return Double(value)
        }
    }
}
