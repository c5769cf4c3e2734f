import ArgumentParser
import Foundation
import Shellac

/// `shellac stat`: varnishstat's `-1` and `-j` views of a running shellac's counters, read
/// over its admin CLI (`-n DIR` finds it as varnishstat -n does; or `-T`/`-S`).
struct StatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Print a running shellac's counters (as varnishstat -1 or -j).")

    @OptionGroup var admin: AdminOptions

    @Flag(name: .customLong("once"), help: "-1: print every counter once (the only view so far).")
    var once = false

    @Flag(name: .customShort("j"), help: "Print the counters as varnishstat -j's JSON.")
    var json = false

    @Option(name: .customShort("f"), help: ArgumentHelp("Only counters matching this glob (repeatable; ^glob excludes).", valueName: "glob"))
    var fields: [String] = []

    func run() async throws {
        let response = try await admin.withClient(tool: "stat") { client in try await client.send(["stat"]) }
        guard response.status == AdminStatus.ok.rawValue else {
            FileHandle.standardError.write(Data("shellac stat: \(response.status) \(response.body)\n".utf8))
            throw ExitCode(1)
        }
        let counters = response.body.split(separator: "\n").compactMap { line -> (String, Int)? in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Int(parts[1]) else { return nil }
            return (String(parts[0]), value)
        }.filter { selected($0.0) }
        FileHandle.standardOutput.write(Data((json ? Self.json(counters) : Self.lines(counters)).utf8))
    }

    /// Whether `name` passes the `-f` globs (none: every counter).
    func selected(_ name: String) -> Bool {
        let include = fields.filter { !$0.hasPrefix("^") }
        let exclude = fields.filter { $0.hasPrefix("^") }.map { String($0.dropFirst()) }
        if exclude.contains(where: { fnmatch($0, name, 0) == 0 }) { return false }
        return include.isEmpty || include.contains(where: { fnmatch($0, name, 0) == 0 })
    }

    static func lines(_ counters: [(String, Int)]) -> String {
        counters.map { name, value in
            name.padding(toLength: max(name.count, 40), withPad: " ", startingAt: 0) + " " + String(value)
        }.joined(separator: "\n") + "\n"
    }

    /// varnishstat -j (version 1): `counters` maps each name to its value and kind.
    static func json(_ counters: [(String, Int)]) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let entries = counters.map { name, value in
            let flag = name.contains(".g_") || name == "MAIN.n_object" || name == "MAIN.bans" ? "g" : "c"
            return "    \"\(name)\": {\n      \"description\": \"\",\n      \"flag\": \"\(flag)\", \"format\": \"i\",\n      \"value\": \(value)\n    }"
        }
        return "{\n  \"version\": 1,\n  \"timestamp\": \"\(formatter.string(from: Date()))\",\n  \"counters\": {\n"
            + entries.joined(separator: ",\n") + "\n  }\n}\n"
    }
}
