/// A header name prepared at load for fast case-insensitive lookups on the request path.
struct HeaderKey: Sendable {
    let name: String
    /// The name's bytes, ASCII-lowercased.
    private let lowered: [UInt8]

    init(_ name: String) {
        self.name = name
        lowered = name.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
    }

    /// True when `candidate` equals the name, ignoring ASCII case.
    func matches(_ candidate: String) -> Bool {
        let utf8 = candidate.utf8
        guard utf8.count == lowered.count else { return false }
        let fast = utf8.withContiguousStorageIfAvailable { bytes in
            lowered.withUnsafeBufferPointer { key in
                for index in 0..<bytes.count {
                    let byte = bytes[index]
                    let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                    if lower != key[index] { return false }
                }
                return true
            }
        }
        return fast ?? candidate.equalsIgnoringASCIICase(name)
    }
}

extension HeaderList {
    /// The first value of the header `key` names, or nil. Scans in place, without copying fields.
    func first(_ key: HeaderKey) -> String? {
        fields.withUnsafeBufferPointer { buffer in
            for index in buffer.indices where key.matches(buffer[index].name) { return buffer[index].value }
            return nil
        }
    }

    /// Sets the header `key` names to one field with `value` (as `set(_:_:)` does), appending
    /// directly when the header is absent, the usual case.
    mutating func set(_ key: HeaderKey, _ value: String) {
        let present = fields.withUnsafeBufferPointer { buffer in
            buffer.indices.contains { key.matches(buffer[$0].name) }
        }
        if present { set(key.name, value) } else { add(key.name, value) }
    }

    /// Removes every field `key` names.
    mutating func remove(_ key: HeaderKey) {
        let present = fields.withUnsafeBufferPointer { buffer in
            buffer.indices.contains { key.matches(buffer[$0].name) }
        }
        // Rebuilding is cheaper than the generic in-place removeAll for these small lists.
        if present { self = HeaderList(fields.filter { !key.matches($0.name) }) }
    }
}
