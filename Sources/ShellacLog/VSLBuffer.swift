/// One transaction's records on their way to the ring (Varnish's per-request VSL buffer):
/// appended without locks or allocation, written to the ring as one chunk when full and when
/// the transaction ends. Owned by one thread at a time (the event loop of its request).
///
/// A record is built in place: `open(tag)` (false when the tag is masked: skip it), then
/// `put…` its payload, then `close()`. A payload longer than `vsl_reclen` is cut there, as
/// Varnish cuts it.
public final class VSLBuffer {
    public let ring: VSLRing
    public var mask: VSLMask
    /// `vsl_reclen`: the longest payload kept.
    public var recordLimit: Int
    /// The transaction the next records belong to, and its side.
    public var vxid: UInt64 = 0
    public var side: VSLSide = .none

    private let storage: UnsafeMutableRawPointer
    private let capacity: Int
    private var used = 0
    /// Where the open record's header is, and where its payload ends.
    private var recordStart = -1
    private var payloadEnd = 0
    private var payloadLimit = 0

    public init(ring: VSLRing, capacity: Int = 16_384, recordLimit: Int = 255, mask: VSLMask = .varnishDefault) {
        self.ring = ring
        self.mask = mask
        self.recordLimit = max(16, min(recordLimit, 65_535))
        self.capacity = max(capacity, 1_024, VSLRing.recordHeaderSize + self.recordLimit + 8)
        storage = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit {
        storage.deallocate()
    }

    /// Starts a record of `tag`; false (and nothing to do) when the tag is masked.
    @inline(__always)
    public func open(_ tag: VSLTag) -> Bool {
        if mask.isMasked(tag) { return false }
        if capacity - used < VSLRing.recordHeaderSize + recordLimit + 8 { flush() }
        recordStart = used
        storage.storeBytes(of: UInt32(tag.rawValue) << 24, toByteOffset: used, as: UInt32.self)
        storage.storeBytes(of: UInt32(side.rawValue), toByteOffset: used + 4, as: UInt32.self)
        storage.storeBytes(of: vxid, toByteOffset: used + 8, as: UInt64.self)
        payloadEnd = used + VSLRing.recordHeaderSize
        payloadLimit = payloadEnd + recordLimit
        return true
    }

    /// Ends the open record.
    @inline(__always)
    public func close() {
        guard recordStart >= 0 else { return }
        let length = payloadEnd - recordStart - VSLRing.recordHeaderSize
        let word = storage.load(fromByteOffset: recordStart, as: UInt32.self) | UInt32(length)
        storage.storeBytes(of: word, toByteOffset: recordStart, as: UInt32.self)
        used = (payloadEnd + 7) & ~7
        recordStart = -1
    }

    public func put(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        let count = min(bytes.count, payloadLimit - payloadEnd)
        guard count > 0 else { return }
        (storage + payloadEnd).copyMemory(from: source, byteCount: count)
        payloadEnd += count
    }

    public func put(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ put(UnsafeRawBufferPointer($0)) }) == nil {
            var copy = text
            copy.withUTF8 { put(UnsafeRawBufferPointer($0)) }
        }
    }

    public func put(_ text: Substring) {
        var text = text
        text.withUTF8 { put(UnsafeRawBufferPointer($0)) }
    }

    public func put(_ text: StaticString) {
        put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    public func put(byte: UInt8) {
        guard payloadEnd < payloadLimit else { return }
        storage.storeBytes(of: byte, toByteOffset: payloadEnd, as: UInt8.self)
        payloadEnd += 1
    }

    public func put(_ value: Int) {
        if value < 0 {
            put(byte: UInt8(ascii: "-"))
            put(UInt64(value.magnitude))
        } else {
            put(UInt64(value))
        }
    }

    /// "00" to "99": numbers are written two digits at a time.
    private static let digitPairs: [UInt8] = {
        var pairs: [UInt8] = []
        for value in 0..<100 {
            pairs.append(UInt8(48 + value / 10))
            pairs.append(UInt8(48 + value % 10))
        }
        return pairs
    }()

    /// 10^0 … 10^19.
    private static let powersOfTen: [UInt64] = {
        var powers: [UInt64] = [1]
        for _ in 1..<20 { powers.append(powers[powers.count - 1] * 10) }
        return powers
    }()

    public func put(_ value: UInt64) {
        guard payloadEnd + 20 <= payloadLimit else { return putSlowly(value) }
        // Digits written backwards into place, two at a time; divisions by constants compile
        // to multiplications.
        var length = 1
        while length < 20 && value >= Self.powersOfTen[length] { length += 1 }
        var rest = value
        var index = payloadEnd + length
        Self.digitPairs.withUnsafeBufferPointer { pairs in
            while rest >= 100 {
                let pair = Int(rest % 100) * 2
                rest /= 100
                index -= 2
                storage.storeBytes(of: pairs[pair], toByteOffset: index, as: UInt8.self)
                storage.storeBytes(of: pairs[pair + 1], toByteOffset: index + 1, as: UInt8.self)
            }
            if rest >= 10 {
                let pair = Int(rest) * 2
                index -= 2
                storage.storeBytes(of: pairs[pair], toByteOffset: index, as: UInt8.self)
                storage.storeBytes(of: pairs[pair + 1], toByteOffset: index + 1, as: UInt8.self)
            } else {
                index -= 1
                storage.storeBytes(of: UInt8(truncatingIfNeeded: rest) &+ 48, toByteOffset: index, as: UInt8.self)
            }
        }
        payloadEnd += length
    }

    /// A number near the record's limit: digit by digit, cut where the record ends.
    private func putSlowly(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            put(byte: UInt8(truncatingIfNeeded: (value / divisor) % 10) &+ 48)
            divisor /= 10
        }
    }

    /// A time or duration in seconds with six decimals, as Varnish prints them (`%.6f`).
    public func put(seconds: Double) {
        guard seconds.isFinite, abs(seconds) < 9.0e12 else { return put(byte: UInt8(ascii: "0")) }
        let micros = UInt64((abs(seconds) * 1_000_000).rounded())
        if seconds < 0, micros > 0 { put(byte: UInt8(ascii: "-")) }
        put(micros / 1_000_000)
        guard payloadEnd + 7 <= payloadLimit else { return }
        storage.storeBytes(of: UInt8(ascii: "."), toByteOffset: payloadEnd, as: UInt8.self)
        var fraction = Int(micros % 1_000_000)
        Self.digitPairs.withUnsafeBufferPointer { pairs in
            for offset in stride(from: 5, through: 1, by: -2) {
                let pair = (fraction % 100) * 2
                fraction /= 100
                storage.storeBytes(of: pairs[pair], toByteOffset: payloadEnd + offset, as: UInt8.self)
                storage.storeBytes(of: pairs[pair + 1], toByteOffset: payloadEnd + offset + 1, as: UInt8.self)
            }
        }
        payloadEnd += 7
    }

    /// `seconds` with 0 to 6 decimals.
    public func put(seconds: Double, decimals: Int) {
        if decimals == 6 { return put(seconds: seconds) }
        guard seconds.isFinite else { return put(byte: UInt8(ascii: "0")) }
        var scale: Double = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(seconds) * scale).rounded()
        guard scaled < 9.0e18 else { return put(byte: UInt8(ascii: "0")) }
        let whole = UInt64(scaled)
        let factor = UInt64(scale)
        if seconds < 0, whole > 0 { put(byte: UInt8(ascii: "-")) }
        put(whole / factor)
        guard decimals > 0 else { return }
        put(byte: UInt8(ascii: "."))
        var fraction = whole % factor
        var divisor = factor / 10
        while divisor > 0 {
            put(byte: UInt8(ascii: "0") + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
    }

    /// A whole record with a text payload.
    public func record(_ tag: VSLTag, _ text: String) {
        guard open(tag) else { return }
        put(text)
        close()
    }

    public func record(_ tag: VSLTag, _ text: StaticString) {
        guard open(tag) else { return }
        put(text)
        close()
    }

    /// `Name: value`, as the header tags carry them.
    public func header(_ tag: VSLTag, name: String, value: String) {
        guard open(tag) else { return }
        put(name)
        put(": ")
        put(value)
        close()
    }

    /// `Label: absolute since-start since-last`, varnishlog's Timestamp. Written as the three
    /// times in binary and the label (marked `VSLRing.binaryTimestamp`): readers format them
    /// (`VSLReader`), so the request path does no decimal conversions for them.
    public func timestamp(_ label: StaticString, now: Double, start: Double, last: Double) {
        guard open(.timestamp) else { return }
        storage.storeBytes(of: UInt32(side.rawValue) | VSLRing.binaryTimestamp, toByteOffset: recordStart + 4, as: UInt32.self)
        storage.storeBytes(of: now.bitPattern, toByteOffset: payloadEnd, as: UInt64.self)
        storage.storeBytes(of: (now - start).bitPattern, toByteOffset: payloadEnd + 8, as: UInt64.self)
        storage.storeBytes(of: (now - last).bitPattern, toByteOffset: payloadEnd + 16, as: UInt64.self)
        payloadEnd += 24
        put(label)
        close()
    }

    /// When the last `stamp` was taken (for a buffer of one transaction's own).
    public var lastStamp = 0.0

    /// A `Timestamp` of the transaction this buffer belongs to alone (a fetch's): since
    /// `start` and since the previous stamp.
    public func stamp(_ label: StaticString, now: Double, start: Double) {
        timestamp(label, now: now, start: start, last: lastStamp == 0 ? start : lastStamp)
        lastStamp = now
    }

    /// `ReqAcct`/`BereqAcct`: the bytes sent (head, body, total) and received (head, body,
    /// total), as Varnish counts them.
    public func accounting(_ tag: VSLTag, sentHead: Int, sentBody: Int, receivedHead: Int, receivedBody: Int) {
        guard open(tag) else { return }
        put(sentHead)
        put(byte: UInt8(ascii: " "))
        put(sentBody)
        put(byte: UInt8(ascii: " "))
        put(sentHead + sentBody)
        put(byte: UInt8(ascii: " "))
        put(receivedHead)
        put(byte: UInt8(ascii: " "))
        put(receivedBody)
        put(byte: UInt8(ascii: " "))
        put(receivedHead + receivedBody)
        close()
    }

    /// Writes the buffered records to the ring as one chunk.
    public func flush() {
        guard used > 0 else { return }
        ring.write(records: UnsafeRawBufferPointer(start: storage, count: used))
        used = 0
    }

    /// Whether records are waiting.
    public var isEmpty: Bool { used == 0 }
}
