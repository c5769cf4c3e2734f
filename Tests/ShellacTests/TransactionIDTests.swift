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
}
