import Synchronization

/// Hands out transaction ids (vxids: `X-Varnish`, the log's transaction column). As in
/// Varnish, a session, a client request and a backend fetch each get one, so a hit shows the
/// id of the fetch that made its object. Each event loop takes a block of ids at a time from
/// the shared counter, so the request path touches no shared memory; ids stay unique, and
/// ascend within a loop. `debug.xid` restarts the numbering with blocks of one, so that ids
/// follow each other exactly, as varnishtest expects.
public final class TransactionIDs: Sendable {
    /// Ids per block unless `debug.xid` said otherwise. Varnish takes blocks too (per
    /// worker, of 32768); small here so ids seen side by side in a log stay close.
    static let defaultBlockSize: UInt64 = 64
    private let next = Atomic<UInt64>(1001)
    private let size = Atomic<UInt64>(defaultBlockSize)
    /// Bumped by `restart`: every loop drops the block it holds.
    let generation = Atomic<Int>(0)

    public init() {}

    /// The first id of a new block, and its size.
    func takeBlock() -> (first: UInt64, count: UInt64) {
        let count = size.load(ordering: .relaxed)
        return (next.add(count, ordering: .relaxed).oldValue, count)
    }

    /// `debug.xid N [CHUNK]`: the next id is N + 1, handed out in blocks of CHUNK (1 by default).
    public func restart(after last: UInt64, blockSize: UInt64 = 1) {
        size.store(max(1, blockSize), ordering: .relaxed)
        next.store(last + 1, ordering: .relaxed)
        generation.add(1, ordering: .relaxed)
    }

    /// The next id to be handed out (blocks already taken aside).
    public var upcoming: UInt64 { next.load(ordering: .relaxed) }
}

/// One event loop's current block of transaction ids. Used only on its loop.
final class TransactionIDBlock {
    private let source: TransactionIDs
    private var next: UInt64 = 0
    private var end: UInt64 = 0
    private var generation = 0

    init(source: TransactionIDs) {
        self.source = source
    }

    func make() -> UInt64 {
        let current = source.generation.load(ordering: .relaxed)
        if next == end || generation != current {
            generation = current
            let block = source.takeBlock()
            next = block.first
            end = block.first + block.count
        }
        defer { next += 1 }
        return next
    }
}
