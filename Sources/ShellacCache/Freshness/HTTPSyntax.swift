import VCL

// Small, allocation-free helpers for the RFC 9110 §5.6 grammar (tokens, OWS, lists,
// quoted strings, delta-seconds).
//
// Parsers run over the UTF-8 bytes of a field value, borrowed with `withBytes` (no copy
// for native strings). Every loop tests its index against `endIndex` before reading;
// `FreshnessFuzzTests` runs random input through every parser in debug builds, where
// buffer accesses are bounds-checked. A `Bytes` value never escapes its `withBytes` call.

typealias Bytes = Slice<UnsafeBufferPointer<UInt8>>

/// Calls `body` with the UTF-8 bytes of `text`, copying only when `text` is not stored
/// contiguously (e.g. a bridged NSString).
@inline(__always)
func withBytes<R>(_ text: some StringProtocol, _ body: (Bytes) -> R) -> R {
    if let result = text.utf8.withContiguousStorageIfAvailable({ body($0[...]) }) { return result }
    var copy = String(text)
    return copy.withUTF8 { body($0[...]) }
}

extension String {
    /// ASCII case-insensitive comparison of a field name with a lower-case literal.
    @inline(__always)
    func isFieldName(_ lowercase: StaticString) -> Bool {
        guard utf8.count == lowercase.utf8CodeUnitCount else { return false }
        return withBytes(self) { $0.equalsLowercased(lowercase) }
    }

    /// ASCII case-insensitive comparison of two field names.
    @inline(__always)
    func isFieldName(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        return withBytes(self) { name in
            withBytes(other) { other in name.elementsEqual(other) { ASCII.lower($0) == ASCII.lower($1) } }
        }
    }
}

enum ASCII {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let comma: UInt8 = 0x2C
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let equals: UInt8 = 0x3D
    static let semicolon: UInt8 = 0x3B
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39

    @inline(__always) static func isOWS(_ b: UInt8) -> Bool { b == space || b == tab }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= zero && b <= nine }

    /// `tchar` of RFC 9110 §5.6.2.
    @inline(__always) static func isTokenChar(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), zero...nine:
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
    }
}

extension HeaderList {
    /// The first value of a field, named in lower case.
    func firstValue(_ lowercaseName: StaticString) -> String? {
        for field in self where field.name.isFieldName(lowercaseName) { return field.value }
        return nil
    }
}

extension Slice where Base == UnsafeBufferPointer<UInt8> {
    /// The bytes without leading and trailing OWS (SP / HTAB), RFC 9110 §5.6.3.
    func trimmingOWS() -> Bytes {
        var lo = startIndex, hi = endIndex
        while lo < hi, ASCII.isOWS(self[lo]) { formIndex(after: &lo) }
        while lo < hi {
            let before = index(before: hi)
            guard ASCII.isOWS(self[before]) else { break }
            hi = before
        }
        return self[lo..<hi]
    }

    /// ASCII case-insensitive comparison against a lower-case ASCII literal.
    func equalsLowercased(_ lowercase: StaticString) -> Bool {
        guard count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { literal in elementsEqual(literal) { ASCII.lower($0) == $1 } }
    }

    /// Byte-exact comparison with a literal.
    func equals(_ literal: StaticString) -> Bool {
        count == literal.utf8CodeUnitCount && literal.withUTF8Buffer { elementsEqual($0) }
    }

    /// The bytes as a String, ASCII letters lower-cased.
    func lowercasedString() -> String {
        String(unsafeUninitializedCapacity: count) { out in
            var n = 0
            for b in self {
                out[n] = ASCII.lower(b)
                n += 1
            }
            return n
        }
    }

    var string: String { String(decoding: self, as: UTF8.self) }

    var isToken: Bool { !isEmpty && allSatisfy(ASCII.isTokenChar) }
}

enum HTTPList {
    /// Calls `body` with each non-empty, OWS-trimmed element of a comma-separated list
    /// (RFC 9110 §5.6.1: empty elements are ignored). Commas inside quoted strings
    /// (with `\` quoted-pairs, §5.6.4) do not split. Stops early when `body` returns false.
    static func forEachElement(_ value: Bytes, _ body: (Bytes) -> Bool) {
        var start = value.startIndex
        var i = start
        var inQuotes = false
        while i < value.endIndex {
            let b = value[i]
            if inQuotes {
                if b == ASCII.backslash {
                    value.formIndex(after: &i)
                    if i == value.endIndex { break }
                } else if b == ASCII.quote {
                    inQuotes = false
                }
            } else if b == ASCII.quote {
                inQuotes = true
            } else if b == ASCII.comma {
                let element = value[start..<i].trimmingOWS()
                if !element.isEmpty, !body(element) { return }
                start = value.index(after: i)
            }
            value.formIndex(after: &i)
        }
        let element = value[start..<value.endIndex].trimmingOWS()
        if !element.isEmpty { _ = body(element) }
    }
}

/// `delta-seconds` of RFC 9111 §1.2.2.
public enum DeltaSeconds {
    /// The value a cache must use when a delta-seconds overflows (RFC 9111 §1.2.2): 2^31.
    public static let maximum = 2_147_483_648

    /// Parses `1*DIGIT`; nil for an empty value or any other character (no sign, no
    /// space, no fraction). Values above 2^31 clamp to 2^31.
    public static func parse(_ text: some StringProtocol) -> Int? {
        withBytes(text) { parse($0) }
    }

    static func parse(_ bytes: Bytes) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for b in bytes {
            guard ASCII.isDigit(b) else { return nil }
            if value < maximum {
                value = value * 10 + Int(b &- ASCII.zero)
            }
        }
        return min(value, maximum)
    }
}
