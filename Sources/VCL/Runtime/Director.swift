import Synchronization

/// A director object created in vcl_init (`new rr = directors.round_robin();`), as
/// vmod_directors has them. Members are backends or other directors (`x.backend()`), so
/// directors nest; a sick member (a director is sick when all of its members are) is skipped.
public struct VCLDirector: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case roundRobin = "round_robin", random, hash, fallback, shard
    }

    public struct Member: Sendable, Equatable {
        /// A backend's or a director's name.
        public var name: String
        public var weight: Double
        /// The shard director's identity for the member (its name unless given).
        public var ident: String
    }

    /// What a shard `.backend()` hashes (`by=`).
    public enum ShardKey: Sendable {
        case hash, url
        case key(@Sendable (VCLContext) -> Int64)
    }

    /// Which health a shard choice honours (`healthy=`).
    public enum ShardHealth: String, Sendable {
        case chosen = "CHOSEN", ignore = "IGNORE", all = "ALL"
    }

    public let name: String
    public let kind: Kind
    public internal(set) var members: [Member] = []
    /// A fallback director that stays with the member it chose while it is healthy.
    public internal(set) var sticky = false
    /// Points per member on the shard director's ring (`.reconfigure(replicas)`).
    public internal(set) var replicas = 67
    /// The shard ring: (point, member index), sorted by point.
    private(set) var ring: [(point: UInt32, member: Int)] = []
    private let state = DirectorState()

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    mutating func add(_ member: Member) { members.append(member) }

    /// Rebuilds the shard ring from the members (each gets `replicas` points).
    mutating func reconfigure() {
        var points: [(point: UInt32, member: Int)] = []
        points.reserveCapacity(members.count * replicas)
        for (index, member) in members.enumerated() {
            for replica in 0..<replicas {
                points.append((Self.hash32(member.ident + String(replica)), index))
            }
        }
        ring = points.sorted { $0.point != $1.point ? $0.point < $1.point : $0.member < $1.member }
    }

    /// Picks a member: round-robin rotates, random draws by weight, hash uses `key`,
    /// fallback takes the first healthy one (or the one it stuck to), shard hashes the URL.
    /// Sick members are skipped; nil when none is healthy.
    func pick(key: String?, context: VCLContext) -> String? {
        switch kind {
        case .fallback:
            if sticky {
                let current = state.stuck.load(ordering: .relaxed)
                if current < members.count, context.isHealthy(members[current].name) { return members[current].name }
                guard let index = members.firstIndex(where: { context.isHealthy($0.name) }) else { return nil }
                state.stuck.store(index, ordering: .relaxed)
                return members[index].name
            }
            return members.first { context.isHealthy($0.name) }?.name
        case .roundRobin:
            let healthyCount = members.reduce(0) { $0 + (context.isHealthy($1.name) ? 1 : 0) }
            guard healthyCount > 0 else { return nil }
            var skip = state.next() % healthyCount
            for member in members where context.isHealthy(member.name) {
                if skip == 0 { return member.name }
                skip -= 1
            }
            return nil
        case .random, .hash:
            var totalWeight = 0.0
            for member in members where context.isHealthy(member.name) { totalWeight += member.weight }
            guard totalWeight > 0 else { return nil }
            let fraction: Double
            if kind == .hash {
                fraction = Double(Self.hash32(key ?? "")) / (Double(UInt32.max) + 1)
            } else {
                context.randomState = context.randomState &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                fraction = Double(context.randomState >> 11) / Double(UInt64(1) << 53)
            }
            var point = fraction * totalWeight
            var last: String?
            for member in members where context.isHealthy(member.name) {
                point -= member.weight
                last = member.name
                if point < 0 { return member.name }
            }
            return last
        case .shard:
            return shard(by: .url, alternative: 0, health: .chosen, context: context)
        }
    }

    /// The shard director's choice: the member owning the first ring point at or after the
    /// key, skipping sick members (with `.chosen`) and then `alternative` more distinct ones.
    /// One member turning sick moves only the keys it owned.
    func shard(by key: ShardKey, alternative: Int, health: ShardHealth, context: VCLContext) -> String? {
        guard !ring.isEmpty else { return nil }
        let value: UInt32
        switch key {
        case .hash:
            var text = ""
            for part in context.hashData { text += part }
            value = Self.hash32(text.isEmpty ? Self.url(context) : text)
        case .url: value = Self.hash32(Self.url(context))
        case .key(let f): value = UInt32(truncatingIfNeeded: f(context))
        }
        var low = 0
        var high = ring.count
        while low < high {
            let middle = (low + high) / 2
            if ring[middle].point < value { low = middle + 1 } else { high = middle }
        }
        var seen = [Bool](repeating: false, count: members.count)
        var skip = max(alternative, 0)
        for step in 0..<ring.count {
            let member = ring[(low + step) % ring.count].member
            if seen[member] { continue }
            seen[member] = true
            let healthy = health == .ignore || context.isHealthy(members[member].name)
            if health == .all || healthy {
                if skip > 0 {
                    skip -= 1
                    continue
                }
                if healthy { return members[member].name }
                if health == .all { continue }
            }
        }
        return nil
    }

    private static func url(_ context: VCLContext) -> String {
        context.req.url.isEmpty ? context.bereq.url : context.req.url
    }

    /// A well-mixed 32-bit hash (FNV-1a, then a 64-bit finaliser): the hash director's and the
    /// shard ring's positions, and `shard.key()`.
    public static func hash32(_ text: String) -> UInt32 {
        var h = text.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return UInt32(truncatingIfNeeded: h >> 32)
    }
}

/// The mutable part of a director, shared by every request using one loaded VCL: the
/// round-robin position and the member a sticky fallback stays with.
final class DirectorState: Sendable {
    private let counter = Atomic<Int>(0)
    let stuck = Atomic<Int>(0)

    func next() -> Int {
        counter.wrappingAdd(1, ordering: .relaxed).newValue & Int.max
    }
}
