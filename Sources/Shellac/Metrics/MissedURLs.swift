import ShellacLog
import Synchronization

/// The URLs that missed most lately, read from the transaction log (a `ReqURL` followed by
/// `VCL_call MISS` in the same client transaction): the dashboard's "top missed URLs". Reads
/// the ring like any log reader, once a second, so the request path pays nothing for it.
/// Counts halve every minute (as varnishtop's decay), and the table is bounded.
public final class MissedURLs: Sendable {
    private struct State {
        var reader: VSLReader
        /// The URL of each open client transaction, until its End.
        var urls: [UInt64: String] = [:]
        var counts: [String: Double] = [:]
        var updates = 0
    }

    private let state: Mutex<State>
    /// Transactions followed at once, and URLs counted, at most.
    static let openLimit = 10_000
    private static let miss = Array("MISS".utf8)
    static let tableLimit = 1_000

    public init(ring: VSLRing) {
        state = Mutex(State(reader: VSLReader(ring: ring)))
    }

    /// Reads what the log gained since the last call.
    func update() {
        state.withLock { state in
            var seen = 0
            loop: while seen < 1_000_000 {
                seen += 1
                switch state.reader.next() {
                case .idle: break loop
                case .overrun: state.urls.removeAll()
                case .record(let record):
                    guard record.side == .client else { continue }
                    switch record.tag {
                    case .reqURL:
                        if state.urls.count >= Self.openLimit { state.urls.removeAll() }
                        state.urls[record.vxid] = record.text
                    case .vclCall where record.payload == Self.miss:
                        if let url = state.urls[record.vxid] { state.counts[url, default: 0] += 1 }
                    case .end:
                        state.urls[record.vxid] = nil
                    default: break
                    }
                }
            }
            state.updates += 1
            if state.updates % 60 == 0 {
                state.counts = state.counts.mapValues { $0 / 2 }.filter { $0.value >= 0.5 }
            }
            if state.counts.count > Self.tableLimit {
                let kept = state.counts.sorted { $0.value > $1.value }.prefix(Self.tableLimit / 2)
                state.counts = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
            }
        }
    }

    /// The `count` URLs with the most misses, most first.
    public func top(_ count: Int) -> [(url: String, misses: Double)] {
        state.withLock { state in
            state.counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(count)
                .map { ($0.key, $0.value) }
        }
    }
}
