/// One named store (varnishd's `-s NAME=malloc,SIZE`, a "stevedore"): a byte bound, an LRU
/// list of its own and varnishstat's `SMA.NAME.*` figures. The areas live in the store's
/// index, under its lock; each object is charged to one area, chosen when it is published.
/// Evicting to make room for an object only ever evicts objects of the same area.
struct StorageArea {
    let name: String
    let capacity: Int
    var usedBytes = 0
    var lruHead: CachedObject?  // most recently used
    var lruTail: CachedObject?  // least recently used
    /// Allocations asked for (`c_req`), refused (`c_fail`); bytes given (`c_bytes`) and given
    /// back (`c_freed`); objects held (`g_alloc`).
    var requests = 0
    var failures = 0
    var allocatedBytes = 0
    var freedBytes = 0
    var objects = 0

    init(name: String, capacity: Int) {
        self.name = name
        self.capacity = capacity
    }

    var figures: StorageFigures {
        StorageFigures(
            name: name, capacity: capacity, usedBytes: usedBytes, requests: requests, failures: failures,
            allocatedBytes: allocatedBytes, freedBytes: freedBytes, objects: objects)
    }
}

/// What one area reports: `SMA.NAME.g_bytes` is `usedBytes`, `g_space` what is left.
public struct StorageFigures: Sendable, Equatable {
    public var name: String
    public var capacity: Int
    public var usedBytes: Int
    public var requests: Int
    public var failures: Int
    public var allocatedBytes: Int
    public var freedBytes: Int
    public var objects: Int

    public var freeBytes: Int { max(0, capacity - usedBytes) }

    /// varnishstat's names and values for this area.
    public var counters: [(name: String, value: Int)] {
        let prefix = "SMA.\(name)."
        return [
            (prefix + "c_req", requests), (prefix + "c_fail", failures), (prefix + "c_bytes", allocatedBytes),
            (prefix + "c_freed", freedBytes), (prefix + "g_alloc", objects), (prefix + "g_bytes", usedBytes),
            (prefix + "g_space", freeBytes),
        ]
    }
}

/// The areas a store is made with: `-s` in the order given, then `Transient`.
public struct StorageLayout: Sendable {
    public var areas: [(name: String, capacity: Int)]

    /// The name of the store for short-lived and uncacheable objects.
    public static let transient = "Transient"

    /// `areas` as given (a `Transient` among them keeps its size; otherwise one of
    /// `transientCapacity` bytes is added last).
    public init(_ areas: [(name: String, capacity: Int)], transientCapacity: Int) {
        var areas = areas
        if !areas.contains(where: { $0.name == Self.transient }) {
            areas.append((Self.transient, transientCapacity))
        }
        self.areas = areas
    }

    /// One store `s0` of `capacity` bytes, and a Transient store of the same size.
    public init(capacity: Int) {
        self.init([("s0", capacity)], transientCapacity: capacity)
    }
}
