import Synchronization

/// The transaction log, a much reduced Varnish shared-memory log (VSL): a bounded ring of
/// records that `shellac log` reads through the admin CLI (`log.read`). Writers append only
/// what was asked for — the lines of VCL's `std.log` and VCL run-time errors — so a request
/// that logs nothing never takes its lock.
public final class TransactionLog: Sendable {
    /// Which side of a transaction wrote a record, as varnishlog's `c` and `b` columns.
    public enum Side: Character, Sendable {
        case client = "c"
        case backend = "b"
    }

    /// The record kinds, named as Varnish's VSL tags.
    public enum Tag: String, Sendable {
        /// `std.log()`.
        case vclLog = "VCL_Log"
        /// A VCL run-time failure (the request got a 503).
        case vclError = "VCL_Error"
        /// Why a fetch failed after its response head (a corrupt gzip body).
        case fetchError = "FetchError"
    }

    public struct Record: Sendable, Equatable {
        /// Position in the log since the start: 1 for the first record ever written.
        public let sequence: UInt64
        /// The transaction (`X-Varnish`) the record belongs to.
        public let xid: UInt64
        public let side: Side
        public let tag: Tag
        public let text: String
    }

    /// What one read returns: the records from the cursor on, where to continue, and how many
    /// records between the cursor and the oldest one kept were overwritten unread.
    public struct Batch: Sendable, Equatable {
        public let records: [Record]
        public let next: UInt64
        public let missed: UInt64
    }

    private struct Ring {
        var slots: [Record?]
        /// The sequence number the next record gets.
        var next: UInt64 = 1
    }

    /// Records kept before the oldest is overwritten.
    public let capacity: Int
    private let ring: Mutex<Ring>

    public init(capacity: Int = 16_384) {
        self.capacity = max(1, capacity)
        ring = Mutex(Ring(slots: Array(repeating: nil, count: max(1, capacity))))
    }

    /// The sequence number the next record will get: a cursor that sees only what comes after.
    public var end: UInt64 { ring.withLock { $0.next } }

    /// Appends one record per text, in order, under one lock.
    public func append(xid: UInt64, side: Side, tag: Tag, texts: some Sequence<String>) {
        ring.withLock { ring in
            for text in texts {
                let sequence = ring.next
                ring.slots[Int(sequence % UInt64(capacity))] = Record(
                    sequence: sequence, xid: xid, side: side, tag: tag, text: text)
                ring.next = sequence + 1
            }
        }
    }

    /// Up to `limit` records from sequence `cursor` on, oldest first. Cursor 0 means the
    /// oldest record kept. A cursor older than that starts there and counts the records lost in
    /// `missed`; one past the end (a server that restarted) starts at the end.
    public func read(from cursor: UInt64, limit: Int) -> Batch {
        ring.withLock { ring in
            let oldest = ring.next > UInt64(capacity) ? ring.next - UInt64(capacity) : 1
            let start = min(max(cursor, oldest), ring.next)
            let missed = cursor == 0 || cursor >= start ? 0 : start - cursor
            let stop = min(ring.next, start + UInt64(max(0, limit)))
            var records: [Record] = []
            if stop > start { records.reserveCapacity(Int(stop - start)) }
            var sequence = start
            while sequence < stop {
                if let record = ring.slots[Int(sequence % UInt64(capacity))] { records.append(record) }
                sequence += 1
            }
            return Batch(records: records, next: max(stop, start), missed: missed)
        }
    }
}
