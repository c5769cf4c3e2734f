import Foundation
import ShellacCache
import VCL

/// Executes admin CLI commands (authentication is the session's job) against a running server:
/// its VCL registry, its store and its parameters. Shared by every admin connection.
public final class AdminCommands: Sendable {
    let registry: VCLRegistry
    let loader: VCLLoader
    let store: CacheStore
    /// The parameters the server runs with; `param.set` changes them at once.
    let parameters: LiveParameters
    /// What `log.read` reads.
    let log: TransactionLog
    /// What `stat` reads.
    let statistics: Statistics
    /// What `debug.xid` restarts.
    let transactionIDs: TransactionIDs
    /// When the server started, for `MAIN.uptime`.
    let started = Date()
    /// `-r`: parameters `param.set` and `param.reset` may not change.
    let readOnly: Set<String>
    /// `VBE.*`, and the event loops serving clients (`MAIN.threads`).
    let backendCounters: BackendCounters
    let threads: Int

    public init(
        registry: VCLRegistry, loader: VCLLoader, store: CacheStore, parameters: LiveParameters, log: TransactionLog,
        statistics: Statistics = Statistics(), transactionIDs: TransactionIDs = TransactionIDs(), readOnly: Set<String> = [],
        backendCounters: BackendCounters = BackendCounters(), threads: Int = 1
    ) {
        self.backendCounters = backendCounters
        self.threads = threads
        self.readOnly = readOnly
        self.transactionIDs = transactionIDs
        self.registry = registry
        self.loader = loader
        self.store = store
        self.parameters = parameters
        self.log = log
        self.statistics = statistics
    }

    public static let banner = """
        -----------------------------
        Shellac CLI 1.0
        -----------------------------
        An HTTP accelerator speaking varnishd's CLI protocol.

        Type 'help' for command list.
        Type 'quit' to close CLI session.
        """

    /// Every command's syntax and help (`varnishd -x cli`).
    public static var summary: String {
        AdminCommandSpec.all.map { "\($0.syntax)\n    \($0.help)\n" }.joined(separator: "\n")
    }

    /// Runs one request already split into words (the command first). `auth` and `quit` are
    /// handled by the session and never reach here.
    public func execute(_ words: [String]) -> AdminResponse {
        let response = answer(words)
        // cli_limit: varnishd cuts a longer answer and says so with 201. Shellac's own
        // log.read and stat, read by its tools, are not cut.
        guard let name = words.first, name != "log.read", name != "stat",
            let limit = parameters.current.value(of: "cli_limit").flatMap(Parameters.parseBytes),
            response.body.utf8.count > limit
        else { return response }
        let cut = String(decoding: response.body.utf8.prefix(limit), as: UTF8.self)
        return AdminResponse(.truncated, cut + "\n[response was truncated]")
    }

    private func answer(_ words: [String]) -> AdminResponse {
        guard let name = words.first else { return AdminResponse(.ok, "") }
        guard let spec = AdminCommandSpec.named(name) else {
            return AdminResponse(.unknown, "Unknown request.\nType 'help' for more info.")
        }
        let arguments = Array(words.dropFirst())
        if arguments.count < spec.minArguments { return AdminResponse(.tooFew, "Too few parameters\nUsage: \(spec.syntax)") }
        if arguments.count > spec.maxArguments { return AdminResponse(.tooMany, "Too many parameters\nUsage: \(spec.syntax)") }
        switch name {
        case "help": return help(arguments.first)
        case "ping": return AdminResponse(.ok, "PONG \(Int(Date().timeIntervalSince1970)) 1.0")
        case "banner": return AdminResponse(.ok, Self.banner)
        case "status": return status(arguments)
        case "vcl.load": return load(name: arguments[0], file: arguments[1], state: arguments.dropFirst(2).first)
        case "vcl.use": return use(arguments[0])
        case "vcl.discard": return discard(arguments[0])
        case "vcl.list": return list(arguments)
        case "ban": return ban(arguments)
        case "param.show": return showParameters(arguments)
        case "param.set":
            let json = arguments.first == "-j"
            let rest = json ? Array(arguments.dropFirst()) : arguments
            guard rest.count == 2 else { return AdminResponse(.tooFew, "Too few parameters") }
            if readOnly.contains(rest[0]) { return protected(rest[0]) }
            let answer = setParameter(rest[0], rest[1])
            // varnishd's -j answers with the parameter as param.show -j shows it.
            return json && answer.status == AdminStatus.ok.rawValue ? showParameters(["-j", rest[0]]) : answer
        case "log.read": return readLog(arguments)
        case "debug.xid": return debugXID(arguments)
        case "stat": return AdminResponse(.ok, counters().map { "\($0.name) \($0.value)" }.joined(separator: "\n"))
        default: return more(name, arguments) ?? AdminResponse(.unimplemented, "Unimplemented request: \(name)")
        }
    }

    // MARK: - help

    private func help(_ command: String?) -> AdminResponse {
        if let command {
            guard let spec = AdminCommandSpec.named(command) else { return AdminResponse(.unknown, "Unknown request.") }
            return AdminResponse(.ok, "\(spec.syntax)\n    \(spec.help)")
        }
        return AdminResponse(.ok, AdminCommandSpec.all.map(\.syntax).joined(separator: "\n"))
    }

    // MARK: - VCL

    private func load(name: String, file: String, state: String?) -> AdminResponse {
        let source = FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) }
        return load(name: name, source: source, state: state) { () throws(VCLCompileError) in try currentLoader.compile(file: file) }
    }

    /// `auto`, `cold` or `warm` as `vcl.load`, `vcl.inline` and `vcl.state` take it (none:
    /// `auto`); nil for another word.
    static func temperatureSetting(_ word: String?) -> VCLTemperature.Setting? {
        guard let word else { return .auto }
        return VCLTemperature.Setting(rawValue: word)
    }

    static let badState = AdminResponse(.parameter, "State must be one of auto, cold or warm.")

    /// A registry's refusal as varnishd answers it.
    static func refusal(_ error: VCLRegistry.RegistryError) -> AdminResponse {
        AdminResponse(error.isRefusal ? .cannot : .parameter, error.description)
    }

    /// Compiles with `compile` and keeps the program as `name`, with the text it came from
    /// (`vcl.load`, `vcl.inline`).
    func load(
        name: String, source: String?, state: String? = nil, compile: () throws(VCLCompileError) -> VCLProgram
    ) -> AdminResponse {
        guard let setting = Self.temperatureSetting(state) else { return Self.badState }
        guard VCLRegistry.isValidName(name) else {
            return AdminResponse(.parameter, VCLRegistry.RegistryError.badName(name).description)
        }
        if registry.program(named: name) != nil {
            return AdminResponse(.parameter, VCLRegistry.RegistryError.nameTaken(name).description)
        }
        // max_vcl, as varnishd's mgt_new_vcl: past it, max_vcl_handling 2 refuses the load and
        // 1 says so with the answer.
        let loaded = registry.programCount
        let maxVCL = parameters.current.value(of: "max_vcl").flatMap { Int($0) } ?? 100
        let handling = parameters.current.value(of: "max_vcl_handling").flatMap { Int($0) } ?? 1
        if handling == 2 && loaded >= maxVCL {
            return AdminResponse(.cannot, "Too many (\(loaded)) VCLs already loaded\n(See max_vcl and max_vcl_handling parameters)")
        }
        let program: VCLProgram
        do {
            program = try compile()
        } catch {
            return AdminResponse(.parameter, "Message from VCC-compiler:\n\(error.description)\nVCL compilation failed")
        }
        // As varnishd: vcl_init runs as the VCL is loaded, and a failure there refuses it.
        if let failure = VCLLoader.initialize(program) {
            return AdminResponse(.cannot, VCLLoader.initializationFailure(name: name, message: failure))
        }
        do {
            try registry.load(program, as: name, source: source, setting: setting)
        } catch {
            return AdminResponse(.parameter, error.description)
        }
        var lines = program.warnings.map(\.description)
        if handling == 1 && loaded + 1 > maxVCL {
            lines.append("\(loaded + 1) VCLs loaded\nRemember to vcl.discard the old/unused VCLs.\n(See max_vcl and max_vcl_handling parameters)")
        }
        return AdminResponse(.ok, (lines + ["VCL compiled."]).joined(separator: "\n"))
    }

    private func use(_ name: String) -> AdminResponse {
        do {
            try registry.use(name)
            return AdminResponse(.ok, "VCL '\(name)' now active")
        } catch {
            return Self.refusal(error)
        }
    }

    private func discard(_ name: String) -> AdminResponse {
        do {
            try registry.discard(name)
            return AdminResponse(.ok, "")
        } catch .discardingActive(let name) {
            return AdminResponse(.cannot, VCLRegistry.RegistryError.discardingActive(name).description)
        } catch {
            return AdminResponse(.parameter, error.description)
        }
    }

    /// `active      auto    warm         0    boot`, as varnishadm prints (the busy count is
    /// not tracked and shows 0).
    private func list(_ arguments: [String]) -> AdminResponse {
        if let flag = arguments.first, flag != "-j" { return AdminResponse(.parameter, "Unknown option \(flag)") }
        let entries = registry.list()
        if arguments.first == "-j" {
            let items = entries.map { entry in
                let status = entry.isActive ? "active" : "available"
                let label = entry.labelTarget.map { ",\n    \"label\": \"\($0)\"" } ?? ""
                return "  {\n    \"status\": \"\(status)\",\n    \"state\": \"\(entry.labelTarget == nil ? entry.state : "label")\",\n"
                    + "    \"temperature\": \"\(entry.temperature)\",\n    \"busy\": 0,\n    \"name\": \"\(entry.name)\"\(label)\n  }"
            }
            let time = String(format: "%.3f", Date().timeIntervalSince1970)
            return AdminResponse(.ok, "[ 2, [\"vcl.list\", \"-j\"], \(time),\n" + items.joined(separator: ",\n") + "\n]")
        }
        let lines = entries.map { entry in
            let state = entry.labelTarget == nil ? entry.state : "label"
            let name = entry.labelTarget.map { "\(entry.name) -> \($0)" } ?? entry.name
            return Self.padded(entry.isActive ? "active" : "available", 12) + Self.padded(state, 8) + entry.temperature
                + String(repeating: " ", count: 9) + "0    " + name
        }
        return AdminResponse(.ok, lines.joined(separator: "\n"))
    }

    // MARK: - bans

    private func ban(_ arguments: [String]) -> AdminResponse {
        let expression = AdminWords.join(arguments)
        let ban: VCLBan
        do {
            ban = try VCLBan(expression)
        } catch {
            return AdminResponse(.parameter, error.description)
        }
        store.ban(ban, now: HTTPDate.currentTime())
        return AdminResponse(.ok, "")
    }

    // MARK: - parameters

    /// A `-r` parameter: varnishd answers 107.
    func protected(_ name: String) -> AdminResponse {
        AdminResponse(.authenticate, "parameter \"\(name)\" is protected.")
    }

    private func showParameters(_ arguments: [String]) -> AdminResponse {
        let long = arguments.contains("-l")
        let json = arguments.contains("-j")
        let names = arguments.filter { $0 != "-l" && $0 != "-j" }
        if names.count > 1 { return AdminResponse(.tooMany, "Too many parameters\nUsage: param.show [-l] [<param>]") }
        if long && json { return AdminResponse(.parameter, "-l and -j are mutually exclusive") }
        let defaults = Parameters()
        var entries = parameters.current.listing()
        if names.first == "changed" {
            entries = entries.filter { defaults.value(of: $0.name) != $0.value }
        } else if let name = names.first {
            entries = entries.filter { $0.name == name }
            if entries.isEmpty { return AdminResponse(.parameter, "Unknown parameter \"\(name)\".") }
        }
        if json { return parametersJSON(entries, arguments: arguments, defaults: defaults) }
        var lines: [String] = []
        for entry in entries {
            var line = Self.padded(entry.name, 32) + entry.value
            if defaults.value(of: entry.name) == entry.value { line += " (default)" }
            lines.append(line)
            if long || names.first != nil { lines.append("        \(entry.help)\n") }
        }
        return AdminResponse(.ok, lines.joined(separator: "\n"))
    }

    /// Checks the value and applies it to the running server: new requests, fetches and
    /// objects use it (a request already under way keeps the values it started with).
    private func setParameter(_ name: String, _ value: String) -> AdminResponse {
        do {
            _ = try parameters.set(name, value)
        } catch .unknownName {
            return AdminResponse(.parameter, "Unknown parameter \"\(name)\".")
        } catch {
            return AdminResponse(.parameter, "\(error)")
        }
        return AdminResponse(.ok, "")
    }

    // MARK: - debug.xid

    /// `debug.xid [N [CHUNK]]`: the next transaction id is N + 1, ids handed out CHUNK at a
    /// time (1 by default); without N, where the numbering stands.
    private func debugXID(_ arguments: [String]) -> AdminResponse {
        guard let first = arguments.first else {
            return AdminResponse(.ok, "XID is \(transactionIDs.upcoming)")
        }
        guard let last = UInt64(first), let chunk = arguments.count > 1 ? UInt64(arguments[1]) : 1, chunk > 0 else {
            return AdminResponse(.parameter, "debug.xid: expected a number and an optional chunk size")
        }
        transactionIDs.restart(after: last, blockSize: chunk)
        return AdminResponse(.ok, "XID is \(last + 1) chunk \(chunk)")
    }

    // MARK: - stat

    /// Every counter, by varnishstat's name: the request path's, the store's, uptime.
    public func counters() -> [(name: String, value: Int)] {
        let store = self.store.statistics
        let vcls = registry.list()
        return statistics.snapshot() + [
            ("MAIN.uptime", Int(Date().timeIntervalSince(started))),
            ("MAIN.n_vcl", vcls.count),
            // Every program loaded is usable (none is cold here); a discarded one is gone.
            ("MAIN.n_vcl_avail", vcls.filter { $0.labelTarget == nil }.count),
            ("MAIN.n_vcl_discard", 0),
            // Header lines dropped for http_max_hdr: Shellac keeps every line.
            ("MAIN.losthdr", 0),
            ("MAIN.n_lru_moved", store.lruMoves),
            ("MAIN.n_backend", registry.current.program.backends.count),
            ("MAIN.n_object", store.objects),
            ("MAIN.n_lru_nuked", store.evictions),
            ("MAIN.n_lru_limited", store.lruLimited),
            ("MAIN.n_expired", self.store.expiredObjects),
            // Each object is one objcore under one objhead here (no variants share a head).
            ("MAIN.n_objectcore", store.objects),
            ("MAIN.n_objecthead", store.objects),
            ("MAIN.pools", 1),
            ("MAIN.threads", threads),
            ("MAIN.threads_created", threads),
            ("MAIN.threads_limited", 0),
            ("MAIN.threads_destroyed", 0),
            ("MAIN.threads_failed", 0),
        ] + self.store.areaFigures.flatMap(\.counters) + self.store.banFigures.named.map { (name: $0.0, value: $0.1) }
            // A cold VCL's backends are not reported (as varnishd removes their counters).
            + registry.warmPrograms().flatMap { backendCounters.named(vcl: $0.name, backends: $0.program.health.ordered) }
    }

    // MARK: - log.read

    /// The most records one `log.read` returns.
    static let logReadLimit = 1_000

    /// `log.read [<cursor> [<limit>]]`: records from `cursor` on (0: the oldest kept; none:
    /// only where the log ends now). The first line is `next <cursor> missed <count>`, then one
    /// line per record as varnishlog prints it: transaction, tag, `c` or `b`, text (line breaks
    /// in the text written as `\n`).
    private func readLog(_ arguments: [String]) -> AdminResponse {
        var cursor = log.end
        var limit = Self.logReadLimit
        if let text = arguments.first {
            guard let value = UInt64(text) else { return AdminResponse(.parameter, "Cursor must be a number: \(text)") }
            cursor = value
        }
        if arguments.count > 1 {
            guard let value = Int(arguments[1]), value > 0 else {
                return AdminResponse(.parameter, "Limit must be a positive number: \(arguments[1])")
            }
            limit = min(value, Self.logReadLimit)
        }
        let batch = log.read(from: cursor, limit: limit)
        var lines = ["next \(batch.next) missed \(batch.missed)"]
        for record in batch.records {
            let text = record.text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
            let xid = String(record.vxid)
            let column = String(repeating: " ", count: max(0, 10 - xid.count)) + xid + " "  // right-aligned
            lines.append(column + Self.padded(record.tag.name, 15) + String(record.side.marker) + " " + text)
        }
        return AdminResponse(.ok, lines.joined(separator: "\n"))
    }

    private static func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
