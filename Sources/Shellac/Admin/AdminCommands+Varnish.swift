import Foundation
import ShellacCache
import VCL

/// The rest of varnishd's CLI commands, answered as varnishd answers them where Shellac has
/// the state they report, and refused (300) where it has not (a child process to stop, a
/// panic to show).
extension AdminCommands {
    /// The loader with the `vcc_*` parameters as they are now: `param.set vcc_err_unref off`
    /// applies to the next `vcl.load` or `vcl.inline`, as in varnishd.
    var currentLoader: VCLLoader {
        var current = loader
        current.options = parameters.current.vclCompileOptions
        return current
    }

    /// The commands of this file, or nil for a name they do not cover.
    func more(_ name: String, _ arguments: [String]) -> AdminResponse? {
        switch name {
        case "ban.list": return arguments.first == "-j" ? banListJSON() : banList()
        case "backend.list": return backendList(arguments)
        case "backend.set_health": return setBackendHealth(pattern: arguments[0], state: arguments[1])
        case "vcl.inline":
            let source = arguments[1]
            return load(name: arguments[0], source: source, state: arguments.dropFirst(2).first) { () throws(VCLCompileError) in
                try currentLoader.compile(source: source, name: "<vcl.inline>")
            }
        case "param.reset": return readOnly.contains(arguments[0]) ? protected(arguments[0]) : resetParameter(arguments[0])
        case "debug.fragfetch":
            guard (Int(arguments[0]) ?? 0) > 0 else { return AdminResponse(.parameter, "debug.fragfetch: expected a size") }
            return AdminResponse(.ok, "")
        case "vcl.label":
            do {
                try registry.label(arguments[0], to: arguments[1])
                return AdminResponse(.ok, "")
            } catch {
                return AdminResponse(.parameter, error.description)
            }
        case "vcl.state":
            guard registry.resolve(arguments[0]) != nil else { return AdminResponse(.parameter, "No VCL named \(arguments[0]) known.") }
            guard let setting = Self.temperatureSetting(arguments[1]) else { return Self.badState }
            do {
                try registry.setState(arguments[0], to: setting)
                return AdminResponse(.ok, "")
            } catch {
                return Self.refusal(error)
            }
        case "xkey.purge":
            // Shellac's: purge (or with -s, soft-purge) the objects tagged with these keys.
            let soft = arguments.first == "-s"
            let keys = Array(arguments.dropFirst(soft ? 1 : 0))
            guard !keys.isEmpty else { return AdminResponse(.tooFew, "Too few parameters") }
            let count = store.purge(surrogateKeys: keys, soft: soft, now: Date().timeIntervalSince1970)
            return AdminResponse(.ok, "Purged \(count) objects")
        case "vcl.show": return showVCL(arguments)
        case "storage.list":
            return AdminResponse(.ok, "Storage devices:\n" + store.storageSymbols.map { "\t\($0) = malloc" }.joined(separator: "\n"))
        case "panic.show": return AdminResponse(.cannot, "Child has not panicked or panic has been cleared")
        case "panic.clear": return AdminResponse(.ok, "")
        case "start": return AdminResponse(.cannot, "Child in state running")
        case "stop": return AdminResponse(.cannot, "Shellac has no child process to stop; stop it with SIGTERM")
        default: return nil
        }
    }

    /// `vcl.show [-v] NAME`: the text the program was compiled from (`-v` adds the built-in
    /// VCL that runs after it, as varnishd's does).
    func showVCL(_ arguments: [String]) -> AdminResponse {
        let verbose = arguments.first == "-v"
        guard let name = arguments.last, name != "-v" else { return AdminResponse(.tooFew, "Too few parameters") }
        guard let loaded = registry.loaded(named: name) else {
            return AdminResponse(.parameter, "No VCL named \(name) known.")
        }
        let source = loaded.source ?? "// \(name): the built-in VCL only (started with -b)\n"
        if !verbose { return AdminResponse(.ok, source) }
        return AdminResponse(.ok, "// VCL.SHOW 0 \(source.utf8.count) input\n\(source)\n// VCL.SHOW 1 \(BuiltinVCL.source.utf8.count) <builtin>\n\(BuiltinVCL.source)")
    }

    /// `status [-j]`.
    func status(_ arguments: [String]) -> AdminResponse {
        guard arguments.first == "-j" else { return AdminResponse(.ok, "Child in state running") }
        return AdminResponse(.ok, "[ 2, [\"status\", \"-j\"], \(Date().timeIntervalSince1970),\n  \"running\"\n]")
    }

    /// varnishd's listing, newest first: the time, the objects checked up to the ban, `C`
    /// for a ban no object needs testing against any more, the expression (none once
    /// completed: varnishd drops it then). The last is the oldest still needed; a store
    /// starts with one with no expression, complete.
    func banList() -> AdminResponse {
        var lines = ["Present bans:"]
        for entry in store.banList {
            lines.append(Self.banLine(entry))
        }
        return AdminResponse(.ok, lines.joined(separator: "\n"))
    }

    /// `ban.list -j`, varnishd's JSON: one object per ban, newest first.
    func banListJSON() -> AdminResponse {
        func item(_ entry: BanList.Entry) -> String {
            return String(format: "  {\n    \"time\": %.6f,\n    \"refs\": %ld,\n", entry.created, entry.refs)
                + "    \"completed\": \(entry.completed),\n    \"spec\": \(JSONString.quoted(Self.banText(entry)))\n  }"
        }
        let items = store.banList.map(item)
        let time = String(format: "%.3f", Date().timeIntervalSince1970)
        return AdminResponse(.ok, "[ 2, [\"ban.list\", \"-j\"], \(time),\n" + items.joined(separator: ",\n") + "\n]")
    }

    private static func banLine(_ entry: BanList.Entry) -> String {
        String(format: "%.6f %5ld ", entry.created, entry.refs) + (entry.completed ? "C" : "-") + "  " + banText(entry)
    }

    /// The expression as ban.list shows it: none for a completed ban.
    private static func banText(_ entry: BanList.Entry) -> String {
        entry.completed ? "" : entry.spec
    }

    static func httpDate(_ time: Double) -> String {
        HTTPDate.format(Int64(time))
    }

    /// `param.show -j`, varnishd's JSON: one object per parameter with its value, default,
    /// description, whether it acts here (`implemented`) and whether `-r` protects it.
    func parametersJSON(
        _ entries: [(name: String, value: String, help: String)], arguments: [String], defaults: Parameters
    ) -> AdminResponse {
        let items = entries.map { entry in
            "  {\n    \"name\": \(JSONString.quoted(entry.name)),\n    \"implemented\": \(!entry.help.contains("no effect in Shellac")),\n"
                + "    \"value\": \(JSONString.quoted(entry.value)),\n    \"default\": \(JSONString.quoted(defaults.value(of: entry.name) ?? "")),\n"
                + "    \"read_only\": \(readOnly.contains(entry.name)),\n    \"description\": \(JSONString.quoted(entry.help))\n  }"
        }
        let command = (["param.show"] + arguments).map(JSONString.quoted).joined(separator: ", ")
        let time = String(format: "%.3f", Date().timeIntervalSince1970)
        return AdminResponse(.ok, "[ 2, [\(command)], \(time),\n" + items.joined(separator: ",\n") + "\n]")
    }

    /// `param.reset NAME`: back to its default.
    func resetParameter(_ name: String) -> AdminResponse {
        guard let value = Parameters().value(of: name) else {
            return AdminResponse(.parameter, "Unknown parameter \"\(name)\".")
        }
        do {
            _ = try parameters.set(name, value)
        } catch {
            return AdminResponse(.parameter, "\(error)")
        }
        return AdminResponse(.ok, "")
    }
}
