#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How VCL values turn into strings, following Varnish.
enum ValueFormat {
    /// REAL and DURATION print with three decimals (`600.000`).
    static func real(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        // Beyond 2^53 there are no fractional digits left to print.
        guard abs(value) < 9_007_199_254_740_992 else { return String(value) }
        let scaled = (abs(value) * 1000).rounded()
        let whole = Int64(scaled / 1000)
        let fraction = Int64(scaled) - whole * 1000
        let digits = String(fraction)
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return "\(sign)\(whole).\(String(repeating: "0", count: 3 - digits.count))\(digits)"
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// TIME prints as an HTTP date (`Mon, 23 Nov 2026 18:00:00 GMT`).
    static func httpDate(_ time: Double) -> String {
        // Clamp to years 1..9999 so any TIME (even `now + 1000000y`) prints without trapping.
        let clamped = time.isFinite ? min(max(time.rounded(.down), -62_135_596_800), 253_402_300_799) : 0
        var seconds = time_t(clamped)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "Thu, 01 Jan 1970 00:00:00 GMT" }
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
