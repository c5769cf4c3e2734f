/// The identity of a cached object: the `hash_data` parts (URL and Host by default), kept whole
/// so that a digest collision can never serve one URL's object for another.
///
/// The digest is two independent 64-bit FNV-1a variants over the parts, each part terminated by
/// a separator byte so that ("ab","c") and ("a","bc") differ.
public struct CacheKey: Hashable, Sendable {
    public private(set) var bytes: [UInt8]
    public private(set) var digestHigh: UInt64
    public private(set) var digestLow: UInt64

    public init() {
        bytes = []
        bytes.reserveCapacity(64)
        digestHigh = 0xcbf2_9ce4_8422_2325
        digestLow = 0x8422_2325_cbf2_9ce4
    }

    /// Adds one `hash_data` part.
    public mutating func append<Bytes: Sequence>(_ part: Bytes) where Bytes.Element == UInt8 {
        for byte in part { mix(byte) }
        mix(0)
    }

    public mutating func append(_ part: String) { append(part.utf8) }

    /// The 128-bit digest the index is keyed by.
    public var digest: CacheDigest { CacheDigest(high: digestHigh, low: digestLow) }

    /// A key rebuilt from stored bytes and their digest.
    init(bytes: [UInt8], digest: CacheDigest) {
        self.bytes = bytes
        self.digestHigh = digest.high
        self.digestLow = digest.low
    }

    /// Whether `stored` are this key's bytes.
    func matches(_ stored: ArraySlice<UInt8>) -> Bool {
        stored.count == bytes.count && stored.elementsEqual(bytes)
    }

    @inline(__always)
    private mutating func mix(_ byte: UInt8) {
        bytes.append(byte)
        digestHigh = (digestHigh ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        digestLow = (digestLow &+ UInt64(byte) &+ 0x9e37_79b9) &* 0xff51_afd7_ed55_8ccd
        digestLow ^= digestLow >> 29
    }

    public static func == (lhs: CacheKey, rhs: CacheKey) -> Bool {
        lhs.digestHigh == rhs.digestHigh && lhs.digestLow == rhs.digestLow && lhs.bytes == rhs.bytes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(digestHigh)
        hasher.combine(digestLow)
    }
}

/// The index's key: a 128-bit digest of a `CacheKey`. Objects keep their full key bytes, and a
/// lookup compares them, so a collision can only cost a miss, never serve another URL.
public struct CacheDigest: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64
}
