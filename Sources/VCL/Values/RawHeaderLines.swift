#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Header lines still in their wire form (`Name: value\r\n` each), read without decoding.
///
/// A cache hit's stored header section is handed to VCL this way: `obj.http.*` and
/// `resp.http.*` only turn a field into `String`s when VCL reads it, and a delivery whose VCL
/// only adds fields copies the stored lines out as bytes.
public struct RawHeaderLines: Sendable {
    /// Shared with the stored object (no copy); only `range` is read.
    public let bytes: [UInt8]
    /// The lines, each ending in CRLF, with no status line and no blank line.
    public let range: Range<Int>
    /// The names the lines hold, as a one-word summary (`nameBit` of each), when whoever
    /// made the lines knew it: a stored object computes it once, so no hit has to scan.
    public let nameSummary: UInt64?

    public init(bytes: [UInt8], range: Range<Int>, nameSummary: UInt64? = nil) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "lines outside their bytes")
        self.bytes = bytes
        self.range = range
        self.nameSummary = nameSummary
    }

    /// A name's bit in a one-word summary of names (from its length and first letter, case
    /// folded): a summary without the bit cannot hold the name.
    @inlinable
    public static func nameBit<Name: Collection<UInt8>>(_ name: Name) -> UInt64 {
        nameBit(length: name.count, first: name.first ?? 0)
    }

    @inlinable @usableFromInline
    static func nameBit(length: Int, first: UInt8) -> UInt64 {
        1 << UInt64((length &* 7 &+ Int(first | 0x20)) & 63)
    }

    /// Calls `body` with each line's name, value (spaces after the colon skipped) and the
    /// whole line including its CRLF, in order; stops when `body` returns false.
    @inline(__always)
    func forEachLine(
        _ body: (
            _ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>, _ line: Range<Int>
        ) -> Bool
    ) {
        bytes.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress else { return }
            var lineStart = range.lowerBound
            let end = range.upperBound
            // memchr finds each line's CR and colon: these lines are long and the scans frequent.
            while lineStart < end {
                guard let cr = memchr(base + lineStart, 13, end - lineStart) else { return }
                let lineEnd = base.distance(to: cr.assumingMemoryBound(to: UInt8.self))
                guard lineEnd + 1 < end, all[lineEnd + 1] == 10 else { return }
                if let colonPointer = memchr(base + lineStart, 58, lineEnd - lineStart) {
                    let colon = base.distance(to: colonPointer.assumingMemoryBound(to: UInt8.self))
                    var valueStart = colon + 1
                    while valueStart < lineEnd && all[valueStart] == 32 { valueStart += 1 }
                    let name = UnsafeBufferPointer(rebasing: all[lineStart..<colon])
                    let value = UnsafeBufferPointer(rebasing: all[valueStart..<lineEnd])
                    if !body(name, value, lineStart..<(lineEnd + 2)) { return }
                }
                lineStart = lineEnd + 2
            }
        }
    }

    /// Whether a line is named `name` (ASCII case-insensitively).
    func contains(_ name: String) -> Bool {
        var found = false
        forEachLine { lineName, _, _ in
            found = Self.matches(lineName, name)
            return !found
        }
        return found
    }

    /// ASCII case-insensitive comparison of a line's name with `name`, without allocating.
    @inline(__always)
    static func matches(_ lineName: UnsafeBufferPointer<UInt8>, _ name: String) -> Bool {
        guard lineName.count == name.utf8.count else { return false }
        var index = 0
        for byte in name.utf8 {
            let other = lineName[index]
            if byte != other {
                let lower = byte | 0x20
                if lower != other | 0x20 || lower < UInt8(ascii: "a") || lower > UInt8(ascii: "z") { return false }
            }
            index += 1
        }
        return true
    }

    static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
