import Testing

@testable import Shellac

/// Transaction ids handed out in blocks per event loop.
@Suite("Transaction ids")
struct TransactionIDTests {
    @Test("blocks of one source never overlap; each ascends from 1001 on")
    func blocks() {
        let source = TransactionIDs()
        let first = TransactionIDBlock(source: source)
        let second = TransactionIDBlock(source: source)
        var seen = Set<UInt64>()
        var previous: (UInt64, UInt64) = (0, 0)
        for _ in 0..<500 {
            let a = first.make()
            let b = second.make()
            #expect(a > previous.0 && b > previous.1)
            previous = (a, b)
            #expect(seen.insert(a).inserted && seen.insert(b).inserted)
        }
        #expect(seen.min() == 1001)
    }

    @Test("debug.xid restarts the numbering after N with blocks of one: ids follow each other across loops")
    func restart() {
        let source = TransactionIDs()
        let first = TransactionIDBlock(source: source)
        let second = TransactionIDBlock(source: source)
        _ = (first.make(), second.make())  // each holds a block of 64
        source.restart(after: 999)
        #expect([first.make(), second.make(), first.make(), second.make()] == [1000, 1001, 1002, 1003])
        #expect(source.upcoming == 1004)
    }
}
