import ArgumentParser
import Foundation
import Shellac
import ShellacLog

/// `shellac top`: varnishtop. Counts the log's records by tag and payload and shows the most
/// frequent, live (refreshed every second, counts decaying over `-p` seconds) or once (`-1`,
/// everything in the log so far, as `varnishtop -1` prints it).
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Show the most frequent log records of a running shellac (as varnishtop).")

    @OptionGroup var admin: AdminOptions
    @OptionGroup var selection: LogSelection

    @Flag(name: .customLong("once"), help: "-1: print the counts of what the log holds once and exit.")
    var once = false

    @Flag(name: .customShort("f"), help: "Count only the first field of each payload.")
    var firstField = false

    @Option(name: .customShort("p"), help: ArgumentHelp("Seconds over which counts decay (live view).", valueName: "period"))
    var period: Double = 60

    func validate() throws {
        try selection.check()
        if period <= 0 { throw ValidationError("-p \(period): expected a positive period") }
    }

    func run() async throws {
        let counter = TopCounter(firstField: firstField)
        var selection = self.selection
        if once { selection.fromStart = true }
        let render = !once
        var lastDraw = Date()
        let period = self.period
        try await selection.follow(admin: admin, tool: "top", stopWhenIdle: once) { group, printer in
            for transaction in group.transactions where printer.filter.shows(transaction) {
                for record in transaction.records where printer.filter.matches(record) { counter.add(record) }
            }
            if render, Date().timeIntervalSince(lastDraw) >= 1 {
                let elapsed = Date().timeIntervalSince(lastDraw)
                lastDraw = Date()
                FileHandle.standardOutput.write(Data(("\u{1B}[H\u{1B}[2J" + counter.lines(limit: Self.terminalRows() - 1)).utf8))
                counter.decay(by: elapsed / period)
            }
            return false  // never counts toward -k: top runs until stopped
        }
        if once { FileHandle.standardOutput.write(Data(counter.lines(limit: .max).utf8)) }
    }

    static func terminalRows() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 2 { return Int(size.ws_row) }
        return 24
    }
}

/// The counts behind `shellac top`: by tag and payload (or its first field).
final class TopCounter {
    private struct Key: Hashable {
        let tag: VSLTag
        let payload: [UInt8]
    }

    private var counts: [Key: Double] = [:]
    private let firstField: Bool

    init(firstField: Bool) {
        self.firstField = firstField
    }

    func add(_ record: VSLRecord) {
        var payload = record.payload
        if firstField, let space = payload.firstIndex(of: UInt8(ascii: " ")) { payload = Array(payload[..<space]) }
        counts[Key(tag: record.tag, payload: payload), default: 0] += 1
        if counts.count > 100_000 { counts = counts.filter { $0.value >= 1 } }
    }

    /// Every count shrinks by `fraction` of itself; those below 0.01 go.
    func decay(by fraction: Double) {
        let keep = max(0, 1 - fraction)
        counts = counts.compactMapValues { $0 * keep >= 0.01 ? $0 * keep : nil }
    }

    /// varnishtop -1's lines: the count (`%9.2f`), the tag, the payload; most first.
    func lines(limit: Int) -> String {
        let sorted = counts.sorted { left, right in
            if left.value != right.value { return left.value > right.value }
            if left.key.tag != right.key.tag { return left.key.tag.name < right.key.tag.name }
            return left.key.payload.lexicographicallyPrecedes(right.key.payload)
        }
        var out = ""
        for (key, count) in sorted.prefix(limit) {
            let number = String(format: "%.2f", count)
            out += String(repeating: " ", count: max(0, 9 - number.count)) + number + " " + key.tag.name + " "
                + String(decoding: key.payload, as: UTF8.self) + "\n"
        }
        return out
    }
}
