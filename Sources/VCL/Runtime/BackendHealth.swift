import Synchronization

/// What a backend's probe has seen: one bit per poke in each history (newest in bit 0), as
/// Varnish keeps them (`backend.list -p` prints them), and whether enough of the last
/// `window` pokes were good. A value: the prober changes it, the CLI reads a copy.
public struct ProbeHistory: Sendable, Equatable {
    public var goodIPv4: UInt64 = 0
    public var goodIPv6: UInt64 = 0
    public var goodUnix: UInt64 = 0
    public var errorXmit: UInt64 = 0
    public var goodXmit: UInt64 = 0
    public var errorRecv: UInt64 = 0
    public var goodRecv: UInt64 = 0
    public var happy: UInt64 = 0
    /// Good pokes among the last `window`.
    public private(set) var good = 0
    public let window: Int
    public let threshold: Int
    /// Seconds the last good poke took, and the running average of good pokes.
    public var last = 0.0
    public private(set) var average = 0.0
    private var rate = 0.0
    /// The first line of the last response, or what went wrong.
    public var response = ""

    /// A fresh history with `.initial` good pokes already counted (Varnish's default is one
    /// short of `.threshold`, so a probed backend starts sick until its first good poke).
    public init(probe: VCLProbe) {
        window = min(max(probe.window, 1), 64)
        threshold = max(probe.threshold, 1)
        let initial = min(max(probe.initial ?? threshold - 1, 0), threshold)
        for _ in 0..<initial {
            startPoke()
            happy |= 1
            finishPoke()
        }
    }

    public var isHealthy: Bool { good >= threshold }

    /// Shifts every history one poke on; the poke then sets the bits it earns.
    public mutating func startPoke() {
        goodIPv4 <<= 1
        goodIPv6 <<= 1
        goodUnix <<= 1
        errorXmit <<= 1
        goodXmit <<= 1
        errorRecv <<= 1
        goodRecv <<= 1
        happy <<= 1
        last = 0
        response = ""
    }

    /// Counts the good pokes in the window and updates the average response time.
    public mutating func finishPoke() {
        if happy & 1 != 0 {
            if rate < 4 { rate += 1 }
            average += (last - average) / rate
        }
        let mask: UInt64 = window >= 64 ? .max : (1 << UInt64(window)) - 1
        good = (happy & mask).nonzeroBitCount
    }

    /// The histories `backend.list -p` prints, with their letters and labels (Varnish's order);
    /// `Happy` always, the others when they have a bit set.
    public var bitmaps: [(letter: Character, label: String, bits: UInt64, always: Bool)] {
        [("4", "Good IPv4", goodIPv4, false), ("6", "Good IPv6", goodIPv6, false), ("U", "Good UNIX", goodUnix, false),
         ("x", "Error Xmit", errorXmit, false), ("X", "Good Xmit", goodXmit, false),
         ("r", "Error Recv", errorRecv, false), ("R", "Good Recv", goodRecv, false), ("H", "Happy", happy, true)]
    }
}

/// One backend's health in one loaded VCL: the operator's override (`backend.set_health`)
/// and, for a probed backend, what its probe says. Read on every fetch and director choice
/// (one atomic load); written by the prober and the CLI.
public final class BackendHealth: Sendable {
    /// `backend.set_health`'s states.
    public enum Admin: String, Sendable, CaseIterable {
        case auto, healthy, sick
    }

    public let name: String
    public let probe: VCLProbe?

    public struct State: Sendable {
        public var admin: Admin = .auto
        public var history: ProbeHistory?
        /// When the health (as the CLI shows it) last changed, seconds since 1970.
        public var changedAt: Double
    }

    private let state: Mutex<State>
    /// The effective health, kept in step with `state` for the request path.
    private let healthy: Atomic<Bool>

    public init(name: String, probe: VCLProbe?, now: Double) {
        self.name = name
        self.probe = probe
        let history = probe.map(ProbeHistory.init(probe:))
        state = Mutex(State(history: history, changedAt: now))
        healthy = Atomic(history?.isHealthy ?? true)
    }

    public var isHealthy: Bool { healthy.load(ordering: .relaxed) }

    public var snapshot: State { state.withLock { $0 } }

    private static func effective(_ state: State) -> Bool {
        switch state.admin {
        case .healthy: true
        case .sick: false
        case .auto: state.history?.isHealthy ?? true
        }
    }

    /// `backend.set_health NAME STATE`.
    public func setAdmin(_ admin: Admin, now: Double) {
        state.withLock { state in
            if state.admin != admin { state.changedAt = now }
            state.admin = admin
            healthy.store(Self.effective(state), ordering: .relaxed)
        }
    }

    /// Records one poke (`poke` sets the bits it earned and `last`/`response`). Returns the
    /// history after it and whether the probe's verdict changed.
    @discardableResult
    public func recordPoke(now: Double, _ poke: (inout ProbeHistory) -> Void) -> (history: ProbeHistory, changed: Bool)? {
        state.withLock { state in
            guard var history = state.history else { return nil }
            let wasHealthy = history.isHealthy
            history.startPoke()
            poke(&history)
            history.finishPoke()
            state.history = history
            let changed = history.isHealthy != wasHealthy
            if changed && state.admin == .auto { state.changedAt = now }
            healthy.store(Self.effective(state), ordering: .relaxed)
            return (history, changed)
        }
    }
}

/// The health of every backend a loaded VCL declares, by name.
public final class BackendHealthBoard: Sendable {
    public let backends: [String: BackendHealth]
    /// In declaration order, for listings.
    public let ordered: [BackendHealth]

    public init(backends declared: [VCLBackend], now: Double) {
        ordered = declared.map { BackendHealth(name: $0.name, probe: $0.probe, now: now) }
        backends = Dictionary(ordered.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(name: String) -> BackendHealth? { backends[name] }
}
