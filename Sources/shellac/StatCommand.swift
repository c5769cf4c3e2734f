import ArgumentParser
import Foundation
import Shellac
import ShellacLog

/// `shellac stat`: varnishstat. `-1` prints every counter once, `-j` as varnishstat's JSON,
/// and without either a live view refreshed every second (value, change per second,
/// average per second of uptime, with req/s and the hit ratio on top). With `-n DIR` the
/// counters come from shared memory (`DIR/_.vsc`, published ten times a second: no CLI,
/// no cost to the server); with `-T`/`-S`, from the admin CLI's `stat`.
struct StatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Print a running shellac's counters (as varnishstat).")

    @OptionGroup var admin: AdminOptions

    @Flag(name: .customLong("once"), help: "-1: print every counter once and exit.")
    var once = false

    @Flag(name: .customShort("j"), help: "Print the counters as varnishstat -j's JSON and exit.")
    var json = false

    @Option(name: .customShort("f"), help: ArgumentHelp("Only counters matching this glob (repeatable; ^glob excludes).", valueName: "glob"))
    var fields: [String] = []

    /// A published snapshot older than this means no shellac is publishing any more.
    static let staleAfter = 5.0

    func run() async throws {
        if !once && !json {
            return try await live()
        }
        let counters = try await read().filter { selected($0.0) }
        FileHandle.standardOutput.write(Data((json ? Self.json(counters) : Self.lines(counters)).utf8))
    }

    /// The counters now: from the `-n` directory's shared memory when there is no `-T`, else
    /// through the CLI.
    func read() async throws -> [(String, Int)] {
        if admin.explicitAddress == nil, let workdir = admin.workdir,
           FileManager.default.fileExists(atPath: workdir + "/" + CounterFile.fileName) {
            do {
                let file = try CounterFile(readingAt: workdir + "/" + CounterFile.fileName)
                guard let (counters, time) = file.read() else { throw CounterFile.FileError(description: "no consistent copy") }
                guard Date().timeIntervalSince1970 - time < Self.staleAfter else {
                    throw CounterFile.FileError(description: "no shellac has published counters in \(workdir) for \(Int(Date().timeIntervalSince1970 - time)) s (is it running?)")
                }
                return counters.map { ($0.name, $0.value) }
            } catch {
                FileHandle.standardError.write(Data("shellac stat: -n \(workdir): \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let response = try await admin.withClient(tool: "stat") { client in try await client.send(["stat"]) }
        guard response.status == AdminStatus.ok.rawValue else {
            FileHandle.standardError.write(Data("shellac stat: \(response.status) \(response.body)\n".utf8))
            throw ExitCode(1)
        }
        return response.body.split(separator: "\n").compactMap { line -> (String, Int)? in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Int(parts[1]) else { return nil }
            return (String(parts[0]), value)
        }
    }

    /// varnishstat's curses view, as plain redraws: a summary line, then each counter with
    /// its value, its change per second since the last draw, and its average per second.
    func live() async throws {
        var previous: [String: Int] = [:]
        var last = Date()
        while true {
            let counters = try await read()
            let now = Date()
            let seconds = max(now.timeIntervalSince(last), 0.001)
            let values = Dictionary(counters, uniquingKeysWith: { first, _ in first })
            let uptime = max(values["MAIN.uptime"] ?? 1, 1)
            func rate(_ name: String) -> Double {
                guard let before = previous[name] else { return 0 }
                return Double((values[name] ?? 0) - before) / seconds
            }
            let hits = rate("MAIN.cache_hit"), misses = rate("MAIN.cache_miss")
            var screen = "\u{1B}[H\u{1B}[2J"
            screen += "Uptime \(uptime) s   req/s \(String(format: "%.1f", rate("MAIN.client_req")))   hit ratio \(hits + misses > 0 ? String(format: "%.1f%%", 100 * hits / (hits + misses)) : "-")\n\n"
            screen += "NAME".padding(toLength: 40, withPad: " ", startingAt: 0) + "      CURRENT       CHANGE      AVERAGE\n"
            for (name, value) in counters where selected(name) {
                let change = String(format: "%12.2f", rate(name))
                let average = String(format: "%12.2f", Double(value) / Double(uptime))
                let current = String(value)
                screen += name.padding(toLength: max(name.count, 40), withPad: " ", startingAt: 0) + " "
                    + String(repeating: " ", count: max(0, 12 - current.count)) + current + " " + change + " " + average + "\n"
            }
            FileHandle.standardOutput.write(Data(screen.utf8))
            previous = values
            last = now
            try await Task.sleep(for: .seconds(1))
        }
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
