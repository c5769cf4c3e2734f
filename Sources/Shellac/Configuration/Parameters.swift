import ShellacLog

/// Run-time parameters, settable with `-p name=value` as in varnishd.
/// Durations are seconds; sizes are bytes (with k/m/g suffixes on input).
public struct Parameters: Sendable, Equatable {
    public var defaultTTL: Double = 120
    public var defaultGrace: Double = 10
    public var defaultKeep: Double = 0
    public var httpRequestSize: Int = 32 * 1024
    /// `http_req_hdr_len`: the longest request field line (400 beyond).
    public var httpRequestHeaderLength: Int = 8 * 1024
    /// `http_resp_size` and `http_resp_hdr_len`: the largest backend response head and its
    /// longest field line (the fetch fails beyond).
    public var httpResponseSize: Int = 32 * 1024
    public var httpResponseHeaderLength: Int = 8 * 1024
    public var httpRequestBodyMax: Int = 16 * 1024 * 1024
    public var timeoutIdle: Double = 5
    public var timeoutRequest: Double = 2
    public var connectTimeout: Double = 3.5
    public var firstByteTimeout: Double = 60
    public var betweenBytesTimeout: Double = 60
    /// `send_timeout`: the longest a response may take to send, from its head on.
    public var sendTimeout: Double = 600
    public var hitForMissTTL: Double = 120
    public var shutdownTimeout: Double = 10
    public var maxConnections: Int = 10_000
    /// How many times VCL's `return (retry)` may send one backend request again.
    public var maxRetries: Int = 4
    /// How many times `return (restart)` may send one client request back to `vcl_recv`.
    public var maxRestarts: Int = 4
    /// A hit moves its object to the front of the LRU list at most this often (read at start).
    public var lruInterval: Double = 2
    /// A fetch finding its backend at `.max_connections` waits this long for a connection
    /// (0: fails at once), in a queue of at most `backendWaitLimit` (Varnish 7.6's parameters).
    public var backendWaitTimeout: Double = 0
    public var backendWaitLimit: Int = 0
    /// `http_range_support`: answer `Range` requests with 206 (kept here as a Bool for the
    /// delivery path; listed with the accepted parameters).
    public var httpRangeSupport = true
    /// `http_gzip_support`: fetches ask for gzip and store it, deliveries inflate it for clients
    /// that do not accept it; `gzip_level`, `gzip_memlevel` and `gzip_buffer` shape zlib's work.
    public var httpGzipSupport = true
    public var gzipLevel = 6
    public var gzipMemoryLevel = 8
    public var gzipBuffer = 32 * 1024
    /// `targeted_cache_control` (Shellac's, RFC 9213): the fields, first first, whose
    /// directives replace Cache-Control and Expires for this cache. Empty: none.
    public var targetedCacheControl = ["CDN-Cache-Control"]
    /// `admin_http` (Shellac's): where the admin HTTP listener (`/metrics`, the dashboard)
    /// listens, e.g. `127.0.0.1:6085`; empty: off. Read at start.
    public var adminHTTP = ""
    /// `max_esi_depth`: includes nest at most this deep.
    public var maxESIDepth = 5
    /// `feature=+esi_disable_xml_check`: read bodies as ESI even when they do not start with `<`.
    public var esiSkipsXMLCheck = false
    /// `feature=+esi_include_onerror`: a failed include aborts the page unless it says
    /// `onerror="continue"` (then it is left out).
    public var esiIncludeOnError = false
    /// `feature=+esi_ignore_https`: `https://` includes are fetched as `http://` ones (else dropped).
    public var esiIgnoreHTTPS = false
    /// `feature=+esi_remove_bom`: a UTF-8 byte order mark at the start of an ESI page goes.
    public var esiRemoveBOM = false
    /// `feature=+esi_ignore_other_elements`: a tag that is not ESI is not skipped whole.
    public var esiIgnoresOtherElements = false
    /// `feature=+http_date_postel`: HTTP dates may have a one-digit day of the month.
    public var httpDatePostel = false
    /// `feature=+https_scheme`: an `https://` request target is taken apart as `http://` is.
    public var httpsScheme = false
    /// `ban_lurker_age`: a ban this old is tested against every stored object in the
    /// background; `ban_lurker_sleep` 0 turns that off.
    public var banLurkerAge: Double = 60
    public var banLurkerSleep: Double = 0.01
    /// `ban_lurker_batch`: objects the lurker tests per hold of the store's lock.
    public var banLurkerBatch = 1000
    /// `ban_cutoff`: the lurker kills, untested, an object checked only up to a ban more than
    /// this many places below the newest, and no longer waits for lookups on `req.*` bans that
    /// far down (0: no cutoff).
    public var banCutoff = 0
    /// `vsl_mask`: the log tags not written; `vsl_reclen`: the longest record payload;
    /// `vsl_buffer`: each event loop's log buffer; `vsl_space` (`-l`): the ring's size (read
    /// at start).
    public var vslMask = VSLMask.varnishDefault
    public var vslRecordLimit = 255
    public var vslBuffer = 16 * 1024
    public var vslSpace = 80 << 20
    /// `backend_remote_error_holddown` and `backend_local_error_holddown` (see `BackendHolddown`).
    public var remoteErrorHolddown = 0.25
    public var localErrorHolddown = 10.0
    /// `nuke_limit`: most objects evicted to make room for one.
    public var nukeLimit = 50
    /// `pipe_sess_max`: most pipes open at once (0: no limit).
    public var pipeSessionLimit = 0
    /// `shortlived`: an object whose TTL + grace + keep is shorter goes to Transient.
    public var shortlived = 10.0
    /// `vcl_cooldown`: an unused auto VCL goes cold this long after it was last active.
    public var vclCooldown = 600.0
    /// `http_max_hdr`: the header slots of a message; a stored object whose response needs
    /// more (see `ObjectMetadata.headerSlots`) is not delivered (a 500, as varnishd).
    public var httpMaxHeaders = 64
    /// Parameters kept with the accepted ones (for their varnishd syntax) that do act here.
    static let actedOnAccepted: Set<String> = [
        "http_range_support", "max_esi_depth", "ban_lurker_age", "ban_lurker_sleep", "ban_lurker_batch", "ban_cutoff",
        "http_gzip_support", "gzip_level", "gzip_memlevel", "gzip_buffer",
        "vsl_mask", "vsl_reclen", "vsl_buffer", "vsl_space", "pipe_sess_max", "shortlived", "nuke_limit",
        "backend_remote_error_holddown", "backend_local_error_holddown", "http_max_hdr", "max_vcl", "max_vcl_handling",
        "vcc_err_unref", "vcc_allow_inline_c", "vcl_cooldown",
    ]
    /// varnishd parameters Shellac accepts without acting on them, as set (`AcceptedParameter`).
    public var accepted: [String: String] = [:]

    public init() {}

    /// `countFromZero` is a count that may be 0 (the others must be positive).
    private enum Kind { case duration, bytes, count, countFromZero }

    private static var table: [(name: String, kind: Kind, path: WritableKeyPath<Parameters, Double>?, intPath: WritableKeyPath<Parameters, Int>?, help: String)] { [
        ("default_ttl", .duration, \.defaultTTL, nil, "TTL when the backend gives none"),
        ("default_grace", .duration, \.defaultGrace, nil, "grace period for new objects"),
        ("default_keep", .duration, \.defaultKeep, nil, "keep period for new objects"),
        ("http_req_size", .bytes, nil, \.httpRequestSize, "largest request line + headers"),
        ("http_req_hdr_len", .bytes, nil, \.httpRequestHeaderLength, "longest request header line"),
        ("http_resp_size", .bytes, nil, \.httpResponseSize, "largest response head"),
        ("http_resp_hdr_len", .bytes, nil, \.httpResponseHeaderLength, "longest response header line"),
        ("http_req_body_max", .bytes, nil, \.httpRequestBodyMax, "largest request body (413 beyond)"),
        ("timeout_idle", .duration, \.timeoutIdle, nil, "idle keep-alive client timeout"),
        ("timeout_req", .duration, \.timeoutRequest, nil, "time to receive a whole request head"),
        ("connect_timeout", .duration, \.connectTimeout, nil, "backend connect timeout"),
        ("first_byte_timeout", .duration, \.firstByteTimeout, nil, "backend first byte timeout"),
        ("between_bytes_timeout", .duration, \.betweenBytesTimeout, nil, "backend between-bytes timeout"),
        ("send_timeout", .duration, \.sendTimeout, nil, "longest time to send a response"),
        ("hit_for_miss_ttl", .duration, \.hitForMissTTL, nil, "how long an uncacheable answer marks its URL"),
        ("shutdown_timeout", .duration, \.shutdownTimeout, nil, "how long a graceful stop waits for responses"),
        ("max_connections", .count, nil, \.maxConnections, "client connections accepted at once"),
        ("max_retries", .countFromZero, nil, \.maxRetries, "times VCL's return (retry) may repeat a backend request"),
        ("max_restarts", .countFromZero, nil, \.maxRestarts, "times VCL's return (restart) may send a request back to vcl_recv"),
        ("lru_interval", .duration, \.lruInterval, nil, "least time between two LRU moves of one object on hits (read at start)"),
        ("backend_wait_timeout", .duration, \.backendWaitTimeout, nil, "how long a fetch waits for a backend at .max_connections"),
        ("backend_wait_limit", .countFromZero, nil, \.backendWaitLimit, "fetches that may wait for a backend at .max_connections"),
    ] }

    /// Every parameter name: those Shellac acts on and those it only accepts.
    public static var names: [String] {
        (table.map(\.name) + AcceptedParameter.all.map(\.name) + ["targeted_cache_control", "admin_http"]).sorted()
    }

    static let targetedHelp = "fields whose directives replace Cache-Control and Expires for this cache, first first (RFC 9213; not in Varnish)"

    public enum SetError: Error, Equatable, CustomStringConvertible {
        case unknownName(String)
        case badValue(name: String, value: String)
        case malformed(String)

        public var description: String {
            switch self {
            case .unknownName(let name): return "unknown parameter '\(name)'"
            case .badValue(let name, let value): return "bad value '\(value)' for parameter '\(name)'"
            case .malformed(let text): return "expected name=value, got '\(text)'"
            }
        }
    }

    /// Applies `name=value`.
    public mutating func set(_ assignment: String) throws(SetError) {
        guard let equals = assignment.firstIndex(of: "=") else { throw .malformed(assignment) }
        try set(String(assignment[..<equals]), String(assignment[assignment.index(after: equals)...]))
    }

    public mutating func set(_ name: String, _ value: String) throws(SetError) {
        if name == "admin_http" {
            let text = value.trimmingCharacters(in: .whitespaces)
            guard text.isEmpty || text == "none" || Endpoint(parsing: text, defaultPort: nil) != nil else {
                throw .badValue(name: name, value: value)
            }
            adminHTTP = text == "none" ? "" : text
            return
        }
        if name == "targeted_cache_control" {
            let fields = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard fields.allSatisfy({ $0.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x5F } })
            else { throw .badValue(name: name, value: value) }
            targetedCacheControl = fields
            return
        }
        guard let entry = Self.table.first(where: { $0.name == name }) else {
            guard let other = AcceptedParameter.byName[name] else { throw .unknownName(name) }
            guard var kept = other.normalized(value), ParameterBounds.allows(name, kept, in: self) else {
                throw .badValue(name: name, value: value)
            }
            if name == "vsl_mask" {
                var mask = vslMask
                do { try mask.apply(kept) } catch { throw .badValue(name: name, value: value) }
                vslMask = mask
            }
            if name == "feature" || name == "debug" { kept = Self.mergeFlags(accepted[name] ?? other.defaultValue, kept) }
            accepted[name] = kept
            if name == "http_range_support" { httpRangeSupport = kept == "on" }
            if name == "max_esi_depth", let depth = Int(kept) { maxESIDepth = depth }
            if name == "http_gzip_support" { httpGzipSupport = kept == "on" }
            if name == "gzip_level", let level = Int(kept) { gzipLevel = level }
            if name == "gzip_memlevel", let level = Int(kept) { gzipMemoryLevel = level }
            if name == "gzip_buffer", let size = Self.parseBytes(kept) { gzipBuffer = size }
            if name == "ban_cutoff", let count = Double(kept) { banCutoff = Int(min(count, 1e9)) }
            if name == "ban_lurker_age", let seconds = Self.parseDuration(kept) { banLurkerAge = seconds }
            if name == "ban_lurker_sleep", let seconds = Self.parseDuration(kept) { banLurkerSleep = seconds }
            if name == "ban_lurker_batch", let count = Int(kept), count > 0 { banLurkerBatch = count }
            if name == "pipe_sess_max", let count = Double(kept) { pipeSessionLimit = Int(count) }
            if name == "nuke_limit", let count = Double(kept) { nukeLimit = Int(count) }
            if name == "http_max_hdr", let count = Double(kept) { httpMaxHeaders = Int(count) }
            if name == "backend_remote_error_holddown", let seconds = Self.parseDuration(kept) { remoteErrorHolddown = seconds }
            if name == "backend_local_error_holddown", let seconds = Self.parseDuration(kept) { localErrorHolddown = seconds }
            if name == "shortlived", let seconds = Self.parseDuration(kept) { shortlived = seconds }
            if name == "vcl_cooldown", let seconds = Self.parseDuration(kept) { vclCooldown = seconds }
            if name == "vsl_reclen", let size = Self.parseBytes(kept) {
                guard (16...65_535).contains(size) else { throw .badValue(name: name, value: value) }
                vslRecordLimit = size
            }
            if name == "vsl_buffer", let size = Self.parseBytes(kept) {
                guard size >= 1_024 else { throw .badValue(name: name, value: value) }
                vslBuffer = size
            }
            if name == "vsl_space", let size = Self.parseBytes(kept) {
                guard size >= 1 << 20 else { throw .badValue(name: name, value: value) }
                vslSpace = size
            }
            if name == "feature" {
                let flags = Set(kept.split(separator: ","))
                esiSkipsXMLCheck = flags.contains("+esi_disable_xml_check")
                esiIncludeOnError = flags.contains("+esi_include_onerror")
                esiIgnoreHTTPS = flags.contains("+esi_ignore_https")
                esiRemoveBOM = flags.contains("+esi_remove_bom")
                esiIgnoresOtherElements = flags.contains("+esi_ignore_other_elements")
                httpDatePostel = flags.contains("+http_date_postel")
                httpsScheme = flags.contains("+https_scheme")
            }
            return
        }
        switch entry.kind {
        case .duration:
            guard let seconds = Self.parseDuration(value), let path = entry.path else {
                throw .badValue(name: name, value: value)
            }
            self[keyPath: path] = seconds
        case .bytes, .count, .countFromZero:
            let parsed = entry.kind == .bytes ? Self.parseBytes(value) : Int(value)
            let least = entry.kind == .countFromZero ? 0 : 1
            guard let number = parsed, number >= least, let path = entry.intPath,
                ParameterBounds.allows(name, String(number), in: self)
            else {
                throw .badValue(name: name, value: value)
            }
            self[keyPath: path] = number
        }
    }

    public func value(of name: String) -> String? {
        if name == "targeted_cache_control" { return targetedCacheControl.joined(separator: ",") }
        if name == "admin_http" { return adminHTTP }
        guard let entry = Self.table.first(where: { $0.name == name }) else {
            return AcceptedParameter.byName[name].map { accepted[name] ?? $0.defaultValue }
        }
        if let path = entry.path { return Self.format(self[keyPath: path]) }
        if let path = entry.intPath { return String(self[keyPath: path]) }
        return nil
    }

    /// `param.show`-style listing, by name, every varnishd parameter included.
    public func listing() -> [(name: String, value: String, help: String)] {
        let used = Self.table.map { ($0.name, value(of: $0.name) ?? "", $0.help) }
        let accepted = AcceptedParameter.all.map { parameter in
            let unit = parameter.unit.isEmpty ? "" : " (\(parameter.unit))"
            let effect = Self.actedOnAccepted.contains(parameter.name) ? "" : "; accepted, no effect in Shellac"
            return (parameter.name, value(of: parameter.name) ?? "", "\(parameter.help)\(unit)\(effect)")
        }
        let targeted = ("targeted_cache_control", value(of: "targeted_cache_control") ?? "", Self.targetedHelp)
        let adminHTTP = ("admin_http", self.adminHTTP, "address of the admin HTTP listener: Prometheus /metrics and the dashboard; empty: off (not in Varnish; read at start)")
        return (used + accepted + [targeted, adminHTTP]).sorted { $0.0 < $1.0 }
    }

    /// A flag parameter changed as varnishd changes one: `+x` turns x on, `-x` off, `none`
    /// everything off; the others keep their state. The result lists the flags that are on.
    static func mergeFlags(_ current: String, _ change: String) -> String {
        var on: [Substring] = current.split(separator: ",").compactMap { item in
            item.hasPrefix("-") || item == "none" ? nil : item.hasPrefix("+") ? item.dropFirst() : item
        }
        for item in change.split(separator: ",") {
            if item == "none" {
                on.removeAll()
            } else if item.hasPrefix("-") {
                on.removeAll { $0 == item.dropFirst() }
            } else {
                let name = item.hasPrefix("+") ? item.dropFirst() : item
                if !on.contains(name) { on.append(name) }
            }
        }
        return on.isEmpty ? "none" : on.map { "+" + $0 }.joined(separator: ",")
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }

    /// `1.5`, `10s`, `250ms`, `2m`, `1h`, `1d`, `1w` → seconds. Negative is refused.
    public static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800), ("y", 31_536_000)]
        var number = Substring(text.trimmingASCIISpaces())
        var scale = 1.0
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        return value * scale
    }

    /// `256m`, `1G`, `32k`, `1MB`, `1024` → bytes (binary multiples, as varnishd's).
    public static func parseBytes(_ text: String) -> Int? {
        var number = Substring(text.trimmingASCIISpaces())
        // varnishd also takes a B after the unit: 1MB, 32kB.
        if number.count > 2, number.last == "B" || number.last == "b",
            let unit = number.dropLast().last?.lowercased(), "kmgt".contains(unit)
        {
            number = number.dropLast()
        }
        var scale = 1
        if let last = number.last?.lowercased() {
            switch last {
            case "k": scale = 1 << 10
            case "m": scale = 1 << 20
            case "g": scale = 1 << 30
            case "t": scale = 1 << 40
            case "b": scale = 1
            default: scale = 0
            }
            if scale != 0 { number = number.dropLast() } else { scale = 1 }
        }
        guard let value = Double(number), value > 0, value * Double(scale) < Double(Int.max) else { return nil }
        return Int(value * Double(scale))
    }
}

extension String {
    func trimmingASCIISpaces() -> Substring {
        var slice = Substring(self)
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
