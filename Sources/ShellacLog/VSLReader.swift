/// Reads a ring's records in order, from where it was opened on (or from the oldest chunk
/// still whole, with `fromStart`). Never waits: `next()` returns what is there now.
public struct VSLReader {
    public let ring: VSLRing
    /// The position of the next chunk to read.
    public private(set) var position: UInt64
    /// Records of the last chunk not yet handed out.
    private var pending: [VSLRecord] = []
    private var pendingIndex = 0
    /// Bytes the writers overwrote before this reader got to them, since it opened.
    public private(set) var overrunBytes: UInt64 = 0
    /// The head as last loaded, and chunks read since (see `VSLRing.readChunk`).
    private var knownHead: UInt64 = 0
    private var chunksSinceHead = 0

    /// What `next()` found.
    public enum Next {
        case record(VSLRecord)
        /// Nothing more for now.
        case idle
        /// The writers lapped the reader: records were lost; reading goes on at the head.
        case overrun(lostBytes: UInt64)
    }

    public init(ring: VSLRing, fromStart: Bool = false) {
        self.ring = ring
        position = fromStart ? ring.oldestChunk : ring.head
    }

    /// A reader at `position`, which must be a chunk boundary this ring handed out (a cursor
    /// kept from an earlier read). One beyond the head (another server's cursor) starts at
    /// the head.
    public init(ring: VSLRing, at position: UInt64) {
        self.ring = ring
        self.position = position > ring.head ? ring.head : position
    }

    /// Whether every record of the chunks read so far has been handed out.
    public var isAtChunkBoundary: Bool { pendingIndex >= pending.count }

    public mutating func next() -> Next {
        while true {
            if pendingIndex < pending.count {
                defer { pendingIndex += 1 }
                return .record(pending[pendingIndex])
            }
            if position >= knownHead || chunksSinceHead >= 64 {
                knownHead = ring.head
                chunksSinceHead = 0
            }
            chunksSinceHead += 1
            switch ring.readChunk(at: position, knownHead: knownHead, checkHead: chunksSinceHead == 1) {
            case .pending:
                return .idle
            case .overrun:
                let head = ring.head
                let lost = head &- position
                overrunBytes &+= lost
                position = head
                pending.removeAll(keepingCapacity: true)
                pendingIndex = 0
                return .overrun(lostBytes: lost)
            case .chunk(let bytes, let next):
                position = next
                pending.removeAll(keepingCapacity: true)
                pendingIndex = 0
                Self.decode(bytes, into: &pending)
            }
        }
    }

    /// The records of one chunk, as `VSLBuffer` laid them out.
    static func decode(_ bytes: [UInt8], into records: inout [VSLRecord]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + VSLRing.recordHeaderSize <= raw.count {
                let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
                let side = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let vxid = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
                let length = Int(word & 0xFF_FFFF)
                let start = offset + VSLRing.recordHeaderSize
                guard let tag = VSLTag(rawValue: UInt8(word >> 24)), start + length <= raw.count else { return }
                var payload = Array(raw[start..<(start + length)])
                if side & VSLRing.binaryTimestamp != 0, length >= 24 {
                    payload = Self.timestampText(payload)
                }
                records.append(VSLRecord(
                    vxid: vxid, tag: tag, side: VSLSide(rawValue: UInt8(truncatingIfNeeded: side)) ?? .none,
                    payload: payload))
                offset = (start + length + 7) & ~7
            }
        }
    }

    /// A binary timestamp's text: `Label: absolute since-start since-last`, each `%.6f`.
    static func timestampText(_ binary: [UInt8]) -> [UInt8] {
        var times: [Double] = []
        binary.withUnsafeBytes { raw in
            for index in 0..<3 { times.append(Double(bitPattern: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))) }
        }
        var text = Array(binary[24...])
        text.append(contentsOf: ": ".utf8)
        for (index, time) in times.enumerated() {
            if index > 0 { text.append(UInt8(ascii: " ")) }
            text.append(contentsOf: sixDecimals(time))
        }
        return text
    }

    /// `%.6f`.
    static func sixDecimals(_ value: Double) -> [UInt8] {
        guard value.isFinite, abs(value) < 9.0e12 else { return Array("0.000000".utf8) }
        let micros = UInt64((abs(value) * 1_000_000).rounded())
        var text = value < 0 && micros > 0 ? "-" : ""
        text += String(micros / 1_000_000)
        let fraction = String(micros % 1_000_000)
        text += "." + String(repeating: "0", count: 6 - fraction.count) + fraction
        return Array(text.utf8)
    }
}
