import Foundation
import Shellac
import ShellacLog

/// Where the log tools (`log`, `ncsa`, `top`) read records: the ring a shellac keeps in its
/// work directory (`-n`; no CLI, no cost to the server), its admin CLI's `log.read` (`-T`),
/// or a file `shellac log -w` wrote (`-r`).
final class LogSource {
    private enum Kind {
        case ring(VSLReader, path: String)
        case cli(AdminClient, cursor: String?)
        case file([VSLRecord], index: Int)
    }

    private var kind: Kind
    /// Records from the last CLI batch not yet handed out.
    private var queued: [VSLRecord] = []
    /// Overruns met so far (told once each on standard error by the caller).
    private(set) var lostBytes: UInt64 = 0

    private init(_ kind: Kind) {
        self.kind = kind
    }

    /// `stopsAtEnd`: the source ends where the log ended when it was opened (`-d`).
    static func ring(path: String, fromStart: Bool, stopsAtEnd: Bool = false) throws -> LogSource {
        let ring = try VSLRing(readingAt: path)
        let source = LogSource(.ring(VSLReader(ring: ring, fromStart: fromStart), path: path))
        if stopsAtEnd { source.end = ring.head }
        return source
    }

    /// Where a `-d` reading of the ring stops.
    private var end: UInt64?

    static func cli(_ client: AdminClient, fromStart: Bool) -> LogSource {
        LogSource(.cli(client, cursor: fromStart ? "0" : nil))
    }

    static func file(path: String) throws -> LogSource {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LogSourceError("-r \(path): cannot read the file")
        }
        do {
            return LogSource(.file(try VSLFile.decode(Array(data)), index: 0))
        } catch {
            throw LogSourceError("-r \(path): \(error)")
        }
    }

    /// What `next()` found.
    enum Next {
        case record(VSLRecord)
        /// Nothing now; ask again later.
        case idle
        /// The end of a file.
        case end
        case overrun(UInt64)
    }

    func next() async throws -> Next {
        switch kind {
        case .file(let records, let index):
            guard index < records.count else { return .end }
            kind = .file(records, index: index + 1)
            return .record(records[index])
        case .ring(var reader, let path):
            if let end, reader.position >= end, reader.isAtChunkBoundary { return .end }
            let found = reader.next()
            kind = .ring(reader, path: path)
            switch found {
            case .record(let record): return .record(record)
            case .overrun(let lost):
                lostBytes += lost
                return .overrun(lost)
            case .idle:
                // A restarted server made a new file: follow it.
                if let fresh = try? VSLRing(readingAt: path), fresh.generation != reader.ring.generation {
                    kind = .ring(VSLReader(ring: fresh, fromStart: true), path: path)
                }
                return .idle
            }
        case .cli(let client, let cursor):
            if !queued.isEmpty { return .record(queued.removeFirst()) }
            let response = try await client.send(["log.read"] + (cursor.map { [$0] } ?? []))
            guard response.status == AdminStatus.ok.rawValue, let batch = LogBatch(response.body) else {
                throw LogSourceError("unexpected answer to log.read: \(response.status) \(response.body)")
            }
            kind = .cli(client, cursor: batch.next)
            queued = batch.lines.compactMap(LogBatch.record(from:))
            if batch.missed > 0 {
                lostBytes += batch.missed
                return .overrun(batch.missed)
            }
            return queued.isEmpty ? .idle : .record(queued.removeFirst())
        }
    }
}

struct LogSourceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
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

    /// A record from its line (`VXID TAG SIDE PAYLOAD`, line breaks written as `\n`).
    static func record(from line: Substring) -> VSLRecord? {
        var rest = line.drop { $0 == " " }
        let vxidText = rest.prefix { $0 != " " }
        rest = rest.dropFirst(vxidText.count).drop { $0 == " " }
        let tagText = rest.prefix { $0 != " " }
        rest = rest.dropFirst(tagText.count).drop { $0 == " " }
        guard let vxid = UInt64(vxidText), let tag = VSLTag(name: String(tagText)), let marker = rest.first else { return nil }
        let side: VSLSide = marker == "c" ? .client : marker == "b" ? .backend : .none
        let payload = rest.dropFirst(2).replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\r", with: "\r")
        return VSLRecord(vxid: vxid, tag: tag, side: side, text: payload)
    }
}
