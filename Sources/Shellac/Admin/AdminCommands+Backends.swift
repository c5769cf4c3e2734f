import Foundation
import VCL

/// `backend.list` and `backend.set_health`, answered as varnishd answers them.
extension AdminCommands {
    /// The backends a pattern names, as varnishd's `VCL_IterDirector` reads it: nothing or `*`
    /// is every backend of the active VCL, a pattern without a dot is a glob over the active
    /// VCL's backends, and `VCLGLOB.BACKENDGLOB` is matched against every loaded VCL.
    func backends(matching pattern: String?) -> [(vcl: String, health: BackendHealth)] {
        let active = registry.current
        let full: String
        var programs: [VCLRegistry.Loaded]
        if let pattern, !pattern.isEmpty, pattern != "*" {
            if pattern.contains(".") {
                full = pattern
                programs = registry.list().compactMap { registry.loaded(named: $0.name) }
            } else {
                full = "\(active.name).\(pattern)"
                programs = [active]
            }
        } else {
            full = "\(active.name).*"
            programs = [active]
        }
        var found: [(vcl: String, health: BackendHealth)] = []
        for loaded in programs {
            for health in loaded.program.health.ordered where fnmatch(full, "\(loaded.name).\(health.name)", 0) == 0 {
                found.append((loaded.name, health))
            }
        }
        return found
    }

    /// The directors a pattern names (read as in `backends(matching:)`).
    func directors(matching pattern: String?) -> [(VCLRegistry.Loaded, VCLDirector)] {
        let active = registry.current
        var programs = [active]
        var full = "\(active.name).\(pattern.flatMap { $0.isEmpty ? nil : $0 } ?? "*")"
        if let pattern, pattern.contains(".") {
            full = pattern
            programs = registry.list().compactMap { registry.loaded(named: $0.name) }
        }
        return programs.flatMap { loaded in
            loaded.program.directors.values.sorted { $0.name < $1.name }
                .filter { fnmatch(full, "\(loaded.name).\($0.name)", 0) == 0 }
                .map { (loaded, $0) }
        }
    }

    /// `backend.list [-j] [-p] [PATTERN]`.
    func backendList(_ arguments: [String]) -> AdminResponse {
        var json = false
        var details = false
        var rest = arguments[...]
        while let flag = rest.first, flag.hasPrefix("-") {
            for letter in flag.dropFirst() {
                switch letter {
                case "j": json = true
                case "p": details.toggle()
                default: return AdminResponse(.parameter, "Invalid flag \(letter)")
                }
            }
            rest = rest.dropFirst()
        }
        guard rest.count <= 1 else { return AdminResponse(.parameter, "Too many arguments") }
        let found = backends(matching: rest.first)
        if json { return AdminResponse(.ok, backendListJSON(found, arguments: arguments, details: details)) }
        var rows = [["Backend name", "Admin", "Probe", "Health", "Last change"]]
        var extra = [String](repeating: "", count: 1)
        for (vcl, health) in found {
            let state = health.snapshot
            let probe = state.history.map { "\($0.good)/\($0.window)" } ?? "0/0"
            let verdict = state.history.map { $0.isHealthy ? "healthy" : "sick" } ?? "healthy"
            rows.append(["\(vcl).\(health.name)", Self.adminText(state), probe, verdict, Self.httpDate(state.changedAt)])
            extra.append(details ? Self.probeDetails(state.history) : "")
        }
        // Directors follow, with how many of their members are healthy.
        for (loaded, director) in directors(matching: rest.first) {
            let program = loaded.program
            let healthy = director.members.filter { program.isHealthy($0.name) }.count
            rows.append(["\(loaded.name).\(director.name)", "probe", "\(healthy)/\(director.members.count)",
                         program.isHealthy(director.name) ? "healthy" : "sick", Self.httpDate(loaded.loadedAt)])
            extra.append("")
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        let lines = rows.enumerated().map { index, row in
            row.enumerated().map { column, field in
                column == 4 ? field : field.padding(toLength: widths[column] + 1, withPad: " ", startingAt: 0)
            }.joined() + extra[index]
        }
        return AdminResponse(.ok, lines.joined(separator: "\n"))
    }

    /// `probe` for a backend its probe (or nothing) decides, else the forced state.
    private static func adminText(_ state: BackendHealth.State) -> String {
        state.admin == .auto ? "probe" : state.admin.rawValue
    }

    /// `-p`'s lines under a probed backend: the counts, the average, and each history oldest
    /// first (64 pokes).
    private static func probeDetails(_ history: ProbeHistory?) -> String {
        guard let history else { return "" }
        var text = "\n Current states  good: \(pad(history.good)) threshold: \(pad(history.threshold)) window: \(pad(history.window))\n"
        text += String(format: "  Average response time of good probes: %.6f\n", history.average)
        text += "  Oldest ================================================== Newest\n"
        for map in history.bitmaps where map.bits != 0 || map.always {
            let bits = (0..<64).reversed().map { map.bits & (1 << UInt64($0)) != 0 ? map.letter : "-" }
            text += "  " + String(bits) + " \(map.label)\n"
        }
        return text
    }

    private static func pad(_ value: Int) -> String {
        value < 10 ? " \(value)" : "\(value)"
    }

    private func backendListJSON(
        _ found: [(vcl: String, health: BackendHealth)], arguments: [String], details: Bool
    ) -> String {
        let argv = (["backend.list"] + arguments).map { "\"\($0)\"" }.joined(separator: ", ")
        var entries: [String] = []
        for (vcl, health) in found {
            let state = health.snapshot
            var entry = "  \"\(vcl).\(health.name)\": {\n    \"type\": \"backend\",\n"
            entry += "    \"admin_health\": \"\(Self.adminText(state))\",\n"
            if let history = state.history {
                entry += "    \"probe_message\": [\(history.good), \(history.window), \"\(history.isHealthy ? "healthy" : "sick")\"],\n"
            } else {
                entry += "    \"probe_message\": [0, 0, \"healthy\"],\n"
            }
            if details {
                if let history = state.history {
                    let bits = history.bitmaps.map { "      \"bits_\($0.letter)\": \($0.bits)," }.joined(separator: "\n")
                    entry += "    \"probe_details\": {\n\(bits)\n      \"good\": \(history.good),\n"
                    entry += "      \"threshold\": \(history.threshold),\n      \"window\": \(history.window)\n    },\n"
                } else {
                    entry += "    \"probe_details\": {},\n"
                }
            }
            entry += String(format: "    \"last_change\": %.3f\n  }", state.changedAt)
            entries.append(entry)
        }
        let time = String(format: "%.3f", Date().timeIntervalSince1970)
        return "[ 3, [\(argv)], \(time),\n{\n\(entries.joined(separator: ",\n"))\n}\n]"
    }

    /// `backend.set_health PATTERN auto|healthy|sick`.
    func setBackendHealth(pattern: String, state: String) -> AdminResponse {
        guard let admin = BackendHealth.Admin(rawValue: state.lowercased()) else {
            return AdminResponse(.parameter, "Invalid state \(state)")
        }
        let found = backends(matching: pattern)
        guard !found.isEmpty else { return AdminResponse(.parameter, "No Backends matches") }
        let now = Date().timeIntervalSince1970
        for (_, health) in found { health.setAdmin(admin, now: now) }
        return AdminResponse(.ok, "")
    }
}
