import Synchronization

/// A count shared between a test and the handlers it gives an origin (which run on the
/// origin's loops).
final class TestCounter: Sendable {
    private let count = Atomic<Int>(0)

    /// 1 for the first call, 2 for the second, …
    func next() -> Int { count.add(1, ordering: .relaxed).newValue }
    func bump() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
