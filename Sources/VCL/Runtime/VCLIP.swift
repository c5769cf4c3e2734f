#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address (and port) as VCL's IP type; stored inline, no allocation.
public struct VCLIP: Sendable, Hashable, CustomStringConvertible {
    /// The address as 128 bits, big-endian order: `high` holds bytes 0-7, `low` bytes 8-15.
    /// IPv4 uses only the low 32 bits of `low`.
    public let high: UInt64
    public let low: UInt64
    public let isIPv6: Bool
    public var port: Int

    public init(ipv4: UInt32, port: Int = 0) {
        high = 0
        low = UInt64(ipv4)
        isIPv6 = false
        self.port = port
    }

    public init(ipv6High: UInt64, low: UInt64, port: Int = 0) {
        high = ipv6High
        self.low = low
        isIPv6 = true
        self.port = port
    }

    /// Parses a numeric IPv4 or IPv6 address (no name resolution).
    public init?(_ text: String, port: Int = 0) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(ipv4: UInt32(bigEndian: v4.s_addr), port: port)
            return
        }
        var v6 = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let hi = v6[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let lo = v6[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        self.init(ipv6High: hi, low: lo, port: port)
    }

    /// Parses an address with an optional port, as vcc reads IP constants and `std.ip` its
    /// string: `1.2.3.4`, `1.2.3.4:8000`, `1.2.3.4 8000`, `::1`, `[::1]`, `[::1]:8000`.
    /// Without a port the address gets `defaultPort` (vcc and `std.ip` use 80).
    public init?(addressAndPort text: String, defaultPort: Int = 0) {
        let trimmed = text.trimmingASCIISpaces
        var address = Substring(trimmed)
        var portText: Substring = ""
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            portText = address[address.index(after: close)...].drop { $0 == ":" || $0 == " " }
            address = address[address.index(after: address.startIndex)..<close]
        } else if let space = address.lastIndex(of: " ") {
            portText = address[address.index(after: space)...]
            address = address[..<space]
        } else if address.filter({ $0 == ":" }).count == 1, let colon = address.firstIndex(of: ":") {
            portText = address[address.index(after: colon)...]
            address = address[..<colon]
        }
        var port = defaultPort
        if !portText.isEmpty {
            guard let number = Int(portText), (0...65535).contains(number) else { return nil }
            port = number
        }
        self.init(String(address), port: port)
    }

    /// The address in 16 bytes (IPv4 as its 4 bytes first when `isIPv6` is false).
    var bytes: [UInt8] {
        if !isIPv6 { return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * UInt64($0))) } }
        return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var raw = bytes
        let family = isIPv6 ? AF_INET6 : AF_INET
        guard inet_ntop(family, &raw, &buffer, socklen_t(buffer.count)) != nil else { return "0.0.0.0" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when the first `bits` bits equal those of `network` (same family).
    func matches(network: VCLIP, bits: Int) -> Bool {
        guard isIPv6 == network.isIPv6 else { return false }
        if !isIPv6 {
            let b = max(0, min(32, bits))
            let mask: UInt64 = b == 0 ? 0 : (0xFFFF_FFFF << UInt64(32 - b)) & 0xFFFF_FFFF
            return low & mask == network.low & mask
        }
        let b = max(0, min(128, bits))
        let highMask: UInt64 = b >= 64 ? ~0 : (b == 0 ? 0 : ~0 << UInt64(64 - b))
        let lowMask: UInt64 = b <= 64 ? 0 : (b == 128 ? ~0 : ~0 << UInt64(128 - b))
        return high & highMask == network.high & highMask && low & lowMask == network.low & lowMask
    }

    /// The address with every bit past the first `bits` cleared: the network an ACL entry names.
    func masked(to bits: Int) -> VCLIP {
        if !isIPv6 {
            let b = max(0, min(32, bits))
            let mask: UInt64 = b == 0 ? 0 : (0xFFFF_FFFF << UInt64(32 - b)) & 0xFFFF_FFFF
            return VCLIP(ipv4: UInt32(truncatingIfNeeded: low & mask), port: port)
        }
        let b = max(0, min(128, bits))
        let highMask: UInt64 = b >= 64 ? ~0 : (b == 0 ? 0 : ~0 << UInt64(64 - b))
        let lowMask: UInt64 = b <= 64 ? 0 : (b == 128 ? ~0 : ~0 << UInt64(128 - b))
        return VCLIP(ipv6High: high & highMask, low: low & lowMask, port: port)
    }

    public static let unspecified = VCLIP(ipv4: 0)

    /// The same address with port 0 (IP comparisons in VCL ignore ports).
    var withoutPort: VCLIP {
        var copy = self
        copy.port = 0
        return copy
    }
}
