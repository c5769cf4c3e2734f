import Atomics
import Synchronization

/// Response times by how the request was handled (hit, miss, pass, synth, pipe), counted in
/// fixed buckets for Prometheus histograms. Like `CounterBlock`, each event loop writes a
/// block of its own with relaxed loads and stores; a scrape sums the blocks.
public final class ResponseTimes: Sendable {
    public enum Handling: Int, CaseIterable, Sendable {
        case hit, miss, pass, synth, pipe

        public var name: String {
            switch self {
            case .hit: "hit"
            case .miss: "miss"
            case .pass: "pass"
            case .synth: "synth"
            case .pipe: "pipe"
            }
        }
    }

    /// The buckets' upper bounds in seconds (Prometheus `le`; +Inf is the count).
    public static let bounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// One loop's cells: per handling, a count per bucket, then the count and the sum (µs).
    final class Block: Sendable {
        private let cells: [UnsafeAtomic<Int>]
        static let stride = ResponseTimes.bounds.count + 2

        init() {
            cells = (0..<(Handling.allCases.count * Self.stride)).map { _ in UnsafeAtomic<Int>.create(0) }
        }

        deinit {
            for cell in cells { cell.destroy() }
        }

        @inline(__always)
        private func bump(_ index: Int, by amount: Int) {
            let cell = cells[index]
            cell.store(cell.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
        }

        /// One response of `handling` that took `seconds` (its own loop only).
        func record(_ handling: Handling, seconds: Double) {
            let base = handling.rawValue * Self.stride
            var bucket = 0
            let bounds = ResponseTimes.bounds
            while bucket < bounds.count && seconds > bounds[bucket] { bucket += 1 }
            if bucket < bounds.count { bump(base + bucket, by: 1) }
            bump(base + bounds.count, by: 1)
            bump(base + bounds.count + 1, by: Int(max(0, seconds) * 1_000_000))
        }

        func value(_ index: Int) -> Int { cells[index].load(ordering: .relaxed) }
    }

    private let blocks: Mutex<[Block]> = Mutex([])

    public init() {}

    func makeBlock() -> Block {
        let block = Block()
        blocks.withLock { $0.append(block) }
        return block
    }

    /// The histogram of `handling`: cumulative counts per bound, the count, the sum in seconds.
    public func histogram(_ handling: Handling) -> (buckets: [Int], count: Int, sum: Double) {
        let blocks = self.blocks.withLock { $0 }
        let base = handling.rawValue * Block.stride
        var running = 0
        var buckets: [Int] = []
        for index in 0..<Self.bounds.count {
            running += blocks.reduce(0) { $0 + $1.value(base + index) }
            buckets.append(running)
        }
        let count = blocks.reduce(0) { $0 + $1.value(base + Self.bounds.count) }
        let micros = blocks.reduce(0) { $0 + $1.value(base + Self.bounds.count + 1) }
        return (buckets, count, Double(micros) / 1_000_000)
    }
}

