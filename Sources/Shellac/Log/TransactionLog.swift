import ShellacLog
import Synchronization

/// The admin CLI's view of the transaction log (`log.read`): records read from the ring in
/// batches, with a cursor the caller keeps. `shellac log -n` reads the ring's file directly;
/// this serves a reader that has only the CLI.
public final class TransactionLog: Sendable {
    public let ring: VSLRing

    public init(ring: VSLRing) {
        self.ring = ring
    }

    /// An anonymous ring of its own (tests, and servers built without one).
    public convenience init() {
        // Reason: 1 MiB of anonymous memory; without it no server could run.
        guard let ring = try? VSLRing(creatingAt: nil, size: 1 << 20) else { fatalError("cannot map the transaction log") }
        self.init(ring: ring)
    }

    /// What one read returns: the records from the cursor on, where to continue, and how many
    /// bytes of records between the cursor and the oldest one kept were overwritten unread.
    public struct Batch: Sendable, Equatable {
        public let records: [VSLRecord]
        public let next: UInt64
        public let missed: UInt64
    }

    /// Where the log ends now: a cursor that sees only what comes after.
    public var end: UInt64 { ring.head }

    /// The records of whole chunks from `cursor` on, oldest first, stopping after `limit`
    /// records are reached (a chunk is never split, so a batch may hold a few more). Cursor 0
    /// means the oldest chunk kept; a cursor the writers have lapped starts at the head and
    /// reports what was lost.
    public func read(from cursor: UInt64, limit: Int) -> Batch {
        var reader = VSLReader(ring: ring, at: cursor == 0 ? ring.oldestChunk : cursor)
        var records: [VSLRecord] = []
        var missed: UInt64 = 0
        loop: while records.count < limit || !reader.isAtChunkBoundary {
            switch reader.next() {
            case .record(let record): records.append(record)
            case .idle: break loop
            case .overrun(let lost): missed += lost
            }
        }
        return Batch(records: records, next: reader.position, missed: missed)
    }
}
