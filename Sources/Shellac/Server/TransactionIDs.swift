import Synchronization

/// Hands out transaction ids (`X-Varnish`). Each event loop takes a block of ids at a time
/// from the shared counter and numbers its requests from it, so the request path touches no
/// shared memory; ids stay unique, and ascend within a loop.
final class TransactionIDs: Sendable {
    /// Ids per block. Varnish takes blocks too (per worker, of 32768); small here so ids seen
    /// side by side in a log stay close.
    static let blockSize: UInt64 = 64
    private let next = Atomic<UInt64>(1001)

    /// The first id of a new block of `blockSize`.
    func takeBlock() -> UInt64 {
        next.add(Self.blockSize, ordering: .relaxed).oldValue
    }
}

/// One event loop's current block of transaction ids. Used only on its loop.
final class TransactionIDBlock {
    private let source: TransactionIDs
    private var next: UInt64 = 0
    private var end: UInt64 = 0

    init(source: TransactionIDs) {
        self.source = source
    }

    func make() -> UInt64 {
        if next == end {
            next = source.takeBlock()
            end = next + TransactionIDs.blockSize
        }
        defer { next += 1 }
        return next
    }
}
