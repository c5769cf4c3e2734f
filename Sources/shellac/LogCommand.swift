import ArgumentParser
import Foundation
import Shellac

/// `shellac log`: varnishlog, reduced to what the transaction log holds today (`VCL_Log` from
/// `std.log()`, `VCL_Error`). Polls the admin CLI's `log.read` and prints each record as
/// `varnishlog -g raw` does: transaction, tag, `c` or `b`, text. Exit 0 after `-k` records,
/// 2 when the CLI cannot be reached or goes away.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print a running shellac's transaction log (as varnishlog -g raw).")

    @OptionGroup var admin: AdminOptions

    @Flag(name: .customShort("d"), help: "Begin with the records already in the log, then follow new ones.")
    var fromStart = false

    @Option(name: .customShort("k"), help: ArgumentHelp("Stop after this many records.", valueName: "count"))
    var limit: Int?

    @Option(name: .customShort("i"), help: ArgumentHelp("Print only these tags (comma-separated, repeatable), e.g. VCL_Log.", valueName: "taglist"))
    var includeTags: [String] = []

    /// Pause between two reads that found nothing new.
    static let pollInterval = Duration.milliseconds(100)

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("-k \(limit): expected a positive count") }
        let known = Set(["vcl_log", "vcl_error"])
        for tag in tags where !known.contains(tag.lowercased()) {
            throw ValidationError("-i \(tag): unknown tag (known: VCL_Log, VCL_Error)")
        }
    }

    /// The `-i` tags, one per name, as given.
    private var tags: [String] {
        includeTags.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func run() async throws {
        let wanted = Set(tags.map { $0.lowercased() })
        let limit = self.limit
        let fromStart = self.fromStart
        try await admin.withClient(tool: "log") { client in
            var cursor: String? = fromStart ? "0" : nil
            var printed = 0
            while true {
                let response = try await client.send(["log.read"] + (cursor.map { [$0] } ?? []))
                guard response.status == AdminStatus.ok.rawValue, let batch = LogBatch(response.body) else {
                    throw LogError.unexpected(response)
                }
                cursor = batch.next
                if batch.missed > 0 {
                    FileHandle.standardError.write(Data("shellac log: \(batch.missed) records overwritten before they were read\n".utf8))
                }
                var out = ""
                for line in batch.lines where wanted.isEmpty || wanted.contains(LogBatch.tag(of: line)) {
                    out += line + "\n"
                    printed += 1
                    if let limit, printed >= limit { break }
                }
                if !out.isEmpty { FileHandle.standardOutput.write(Data(out.utf8)) }
                if let limit, printed >= limit { return }
                if batch.lines.isEmpty { try await Task.sleep(for: Self.pollInterval) }
            }
        }
    }

    enum LogError: Error, CustomStringConvertible {
        case unexpected(AdminResponse)
        var description: String {
            switch self {
            case .unexpected(let response): "unexpected answer to log.read: \(response.status) \(response.body)"
            }
        }
    }
}

/// One `log.read` answer: `next <cursor> missed <count>`, then one line per record.
struct LogBatch {
    let next: String
    let missed: UInt64
    let lines: [Substring]

    init?(_ body: String) {
        var lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard let head = lines.first else { return nil }
        let words = head.split(separator: " ")
        guard words.count == 4, words[0] == "next", words[2] == "missed", UInt64(words[1]) != nil,
            let missed = UInt64(words[3])
        else { return nil }
        next = String(words[1])
        self.missed = missed
        lines.removeFirst()
        self.lines = lines.filter { !$0.isEmpty }
    }

    /// A record line's tag, lowercased (the second column).
    static func tag(of line: Substring) -> String {
        let words = line.split(separator: " ", maxSplits: 2)
        return words.count > 1 ? words[1].lowercased() : ""
    }
}
