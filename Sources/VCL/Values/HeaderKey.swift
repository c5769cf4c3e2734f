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

    /// True when a stored line's name bytes equal the name, ignoring ASCII case.
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == lowered.count else { return false }
        return lowered.withUnsafeBufferPointer { key in
            for index in 0..<bytes.count {
                let byte = bytes[index]
                let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                if lower != key[index] { return false }
            }
            return true
        }
    }
}
