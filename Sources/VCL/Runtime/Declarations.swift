import Foundation

/// A health probe, as declared (`probe name { ... }` or inline in a backend).
public struct VCLProbe: Sendable, Equatable {
    public var name: String
    public var url = "/"
    /// Raw request lines from `.request`; nil means a GET of `url`.
    public var request: [String]?
    public var expectedResponse = 200
    public var timeout: Double = 2
    public var interval: Double = 5
    public var window = 8
    public var threshold = 3
    public var initial: Int?

    public init(name: String) { self.name = name }
}

/// A backend, as declared.
public struct VCLBackend: Sendable, Equatable {
    public var name: String
    public var host: String
    public var port: String = "80"
    public var hostHeader: String?
    public var connectTimeout: Double?
    public var firstByteTimeout: Double?
    public var betweenBytesTimeout: Double?
    public var maxConnections: Int?
    public var probe: VCLProbe?

    public init(name: String, host: String) {
        self.name = name
        self.host = host
    }
}

/// An access control list; the most specific matching entry decides, as in Varnish.
public struct VCLACL: Sendable {
    public struct Entry: Sendable {
        public let negated: Bool
        public let network: VCLIP
        public let bits: Int
    }

    public let name: String
    public let entries: [Entry]

    /// True when `ip` matches the ACL.
    public func matches(_ ip: VCLIP) -> Bool {
        var best: Entry?
        for entry in entries where ip.matches(network: entry.network, bits: entry.bits) {
            if best.map({ entry.bits > $0.bits }) ?? true { best = entry }
        }
        return best.map { !$0.negated } ?? false
    }
}

/// A director object created in vcl_init (`new rr = directors.round_robin();`).
public struct VCLDirector: Sendable {
    public enum Kind: String, Sendable { case roundRobin = "round_robin", random, hash, fallback }

    public let name: String
    public let kind: Kind
    /// Member backends with their weights (weight 1 where none is given).
    public internal(set) var backends: [(name: String, weight: Double)]
    let counter = DirectorCounter()

    /// Picks a backend: round-robin rotates, random draws by weight, hash uses `key`,
    /// fallback takes the first healthy one. Unhealthy backends are skipped; nothing allocates.
    func pick(key: String?, context: VCLContext) -> String? {
        var healthyCount = 0
        var totalWeight = 0.0
        for backend in backends where context.isHealthy(backend.name) {
            healthyCount += 1
            totalWeight += backend.weight
        }
        guard healthyCount > 0 else { return nil }
        switch kind {
        case .fallback:
            return backends.first { context.isHealthy($0.name) }?.name
        case .roundRobin:
            var skip = counter.next() % healthyCount
            for backend in backends where context.isHealthy(backend.name) {
                if skip == 0 { return backend.name }
                skip -= 1
            }
            return nil
        case .random, .hash:
            let fraction: Double
            if kind == .hash, let key {
                fraction = Double(Self.fnv1a(key) % 1_000_000) / 1_000_000
            } else {
                context.randomState = context.randomState &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                fraction = Double(context.randomState >> 11) / Double(UInt64(1) << 53)
            }
            var point = fraction * totalWeight
            var last: String?
            for backend in backends where context.isHealthy(backend.name) {
                point -= backend.weight
                last = backend.name
                if point < 0 { return backend.name }
            }
            return last
        }
    }

    static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }
}

/// A round-robin position shared by every request using one loaded VCL.
final class DirectorCounter: @unchecked Sendable {
    // @unchecked: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value &+= 1
        return value & Int.max
    }
}
