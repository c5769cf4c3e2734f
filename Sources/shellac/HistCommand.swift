import ArgumentParser
import Foundation
import Shellac
import ShellacLog

/// `shellac hist`: varnishhist. A histogram of response times (or sizes) on a log scale,
/// hits drawn `|` and misses `#`, live in the terminal, or once for what the log holds (`-d`).
struct HistCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hist",
        abstract: "Show a live histogram of a running shellac's response times (as varnishhist).")

    @OptionGroup var admin: AdminOptions
    @OptionGroup var selection: LogSelection

    @Option(name: .customShort("P"), help: ArgumentHelp(
        "Profile: responsetime (default), reqbodytime, size, Bereqtime, Beresptime, BerespBodytime, Besize, or [cb:]tag:[prefix]:field[:min:max] (min and max as powers of ten).",
        valueName: "profile"))
    var profileText = "responsetime"

    @Option(name: .customShort("p"), help: ArgumentHelp("Seconds between two redraws.", valueName: "period"))
    var period: Double = 1

    func validate() throws {
        try selection.check()
        _ = try HistProfile(profileText)
        if period <= 0 { throw ValidationError("-p \(period): expected a positive period") }
    }

    func run() async throws {
        let profile = try HistProfile(profileText)
        let histogram = LogHistogram(low: profile.low, high: profile.high)
        let once = selection.fromStart
        var lastDraw = Date()
        let period = self.period
        let title = "shellac hist -P \(profileText)"
        try await selection.follow(admin: admin, tool: "hist", stopWhenIdle: once) { group, _ in
            for transaction in group.transactions { profile.measure(transaction, into: histogram) }
            if !once, Date().timeIntervalSince(lastDraw) >= period {
                lastDraw = Date()
                FileHandle.standardOutput.write(Data(("\u{1B}[H\u{1B}[2J" + histogram.render(rows: TopCommand.terminalRows() - 3, title: title)).utf8))
            }
            return false
        }
        if once { FileHandle.standardOutput.write(Data(histogram.render(rows: 20, title: title).utf8)) }
    }
}

/// What a histogram measures: a field of one tag's records (with a prefix), on which side,
/// over which powers of ten (varnishhist's `-P`).
struct HistProfile {
    var side: VSLSide
    var tag: VSLTag
    var prefix: String
    var field: Int
    var low: Int
    var high: Int

    init(_ text: String) throws {
        switch text {
        case "responsetime": self.init(.client, .timestamp, "Process:", 3, -6, 3)
        case "reqbodytime": self.init(.client, .timestamp, "ReqBody:", 3, -6, 3)
        case "size": self.init(.client, .reqAcct, "", 5, 1, 8)
        case "Bereqtime": self.init(.backend, .timestamp, "Bereq:", 3, -6, 3)
        case "Beresptime": self.init(.backend, .timestamp, "Beresp:", 3, -6, 3)
        case "BerespBodytime": self.init(.backend, .timestamp, "BerespBody:", 3, -6, 3)
        case "Besize": self.init(.backend, .bereqAcct, "", 5, 1, 8)
        default:
            var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            var side = VSLSide.none
            if let first = parts.first, first == "c" || first == "b" {
                side = first == "c" ? .client : .backend
                parts.removeFirst()
            }
            guard parts.count == 3 || parts.count == 5, let tag = VSLTag(name: parts[0]), let field = Int(parts[2]), field > 0 else {
                throw ValidationError("-P \(text): expected a profile name or [cb:]tag:[prefix]:field[:min:max]")
            }
            var low = -6, high = 3
            if parts.count == 5 {
                guard let min = Int(parts[3]), let max = Int(parts[4]), min < max else {
                    throw ValidationError("-P \(text): min and max are powers of ten, min below max")
                }
                (low, high) = (min, max)
            }
            self.init(side, tag, parts[1].isEmpty ? "" : parts[1] + (parts[1].hasSuffix(":") ? "" : ":"), field, low, high)
        }
    }

    private init(_ side: VSLSide, _ tag: VSLTag, _ prefix: String, _ field: Int, _ low: Int, _ high: Int) {
        (self.side, self.tag, self.prefix, self.field, self.low, self.high) = (side, tag, prefix, field, low, high)
    }

    private static let hitCall = Array("HIT".utf8)

    /// Adds the transaction's value, as a hit or not (a client request that called vcl_hit).
    func measure(_ transaction: VSLTransaction, into histogram: LogHistogram) {
        var value: Double?
        var hit = false
        for record in transaction.records {
            if side != .none && record.side != side { continue }
            if record.tag == .vclCall && record.payload == Self.hitCall { hit = true }
            guard record.tag == tag else { continue }
            let fields = record.text.split(separator: " ")
            if !prefix.isEmpty && fields.first.map(String.init) != prefix { continue }
            if fields.count >= field, let number = Double(fields[field - 1]) { value = number }
        }
        if let value { histogram.add(value, hit: hit) }
    }
}

/// Counts on a log scale, hits and misses apart, and their drawing.
final class LogHistogram {
    let low: Int
    let high: Int
    /// Columns per power of ten.
    let perDecade = 8
    private(set) var hits: [Int]
    private(set) var misses: [Int]

    init(low: Int, high: Int) {
        self.low = low
        self.high = high
        hits = Array(repeating: 0, count: (high - low) * perDecade)
        misses = hits
    }

    func add(_ value: Double, hit: Bool) {
        guard value > 0 else { return }
        let position = (log10(value) - Double(low)) * Double(perDecade)
        let column = min(max(Int(position.rounded(.down)), 0), hits.count - 1)
        if hit { hits[column] += 1 } else { misses[column] += 1 }
    }

    var total: Int { hits.reduce(0, +) + misses.reduce(0, +) }

    /// varnishhist's picture: a scale line (`1:N, n = total`), bars (`|` hits over `#`
    /// misses), and the powers of ten along the bottom.
    func render(rows: Int, title: String) -> String {
        let rows = max(rows, 4)
        let tallest = zip(hits, misses).map { $0 + $1 }.max() ?? 0
        let scale = max(1, Int((Double(tallest) / Double(rows)).rounded(.up)))
        var out = "1:\(scale), n = \(total)" + String(repeating: " ", count: max(1, 40 - "1:\(scale), n = \(total)".count)) + title + "\n"
        for row in stride(from: rows, through: 1, by: -1) {
            var line = ""
            for column in hits.indices {
                let hitHeight = (hits[column] + scale - 1) / scale
                let allHeight = (hits[column] + misses[column] + scale - 1) / scale
                line += row <= hitHeight ? "|" : row <= allHeight ? "#" : " "
            }
            out += line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }
        var axis = ""
        for decade in low..<high {
            let label = "|1e\(decade)"
            axis += label.padding(toLength: perDecade, withPad: " ", startingAt: 0)
        }
        return out + axis + "\n"
    }
}
