import ShellacCache
import Synchronization

/// The dashboard's rates, measured by the server once a second (req/s, hit ratio and bytes
/// out/s over the last second), so that every viewer sees the same figures however often,
/// or however irregularly, its page asks.
final class DashboardRates: Sendable {
    struct Rates: Sendable {
        var requestsPerSecond = 0.0
        var bytesPerSecond = 0.0
        /// Percent of lookups that hit in the last second; nil when there were none.
        var hitRatio: Double?
    }

    private struct Sample {
        var time: Double
        var requests: Int
        var hits: Int
        var misses: Int
        var bytes: Int
    }

    private let state = Mutex<(last: Sample?, rates: Rates)>((nil, Rates()))

    /// Takes a sample of `counters` now and derives the rates since the previous one.
    func sample(_ counters: [(name: String, value: Int)]) {
        var values: [String: Int] = [:]
        for (name, value) in counters { values[name] = value }
        let now = Sample(
            time: HTTPDate.currentTime(), requests: values["MAIN.client_req"] ?? 0, hits: values["MAIN.cache_hit"] ?? 0,
            misses: values["MAIN.cache_miss"] ?? 0,
            bytes: (values["MAIN.s_resp_hdrbytes"] ?? 0) + (values["MAIN.s_resp_bodybytes"] ?? 0))
        state.withLock { state in
            if let last = state.last, now.time > last.time {
                let seconds = now.time - last.time
                let lookups = (now.hits - last.hits) + (now.misses - last.misses)
                state.rates = Rates(
                    requestsPerSecond: Double(now.requests - last.requests) / seconds,
                    bytesPerSecond: Double(now.bytes - last.bytes) / seconds,
                    hitRatio: lookups > 0 ? 100 * Double(now.hits - last.hits) / Double(lookups) : nil)
            }
            state.last = now
        }
    }

    var current: Rates { state.withLock { $0.rates } }
}
