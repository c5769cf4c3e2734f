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

    /// Whether Varnish's VTIM_format can write `time`: it must fit a time_t and gmtime_r must
    /// break it down (`httpDate` would clamp it instead).
    static func isFormattable(_ time: Double) -> Bool {
        guard time.isFinite, time > -9.2e18, time < 9.2e18 else { return false }
        var seconds = time_t(time)
        var parts = tm()
        return gmtime_r(&seconds, &parts) != nil
    }

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

    /// A TIME from text, as `std.time()` reads it: seconds since the epoch, or an HTTP date
    /// (IMF-fixdate, RFC 850, asctime), or ISO 8601 (`2026-11-30T18:00:00`, with or without
    /// `Z`). Nil when none fits. (Hand-written: Glibc's strptime is not visible to Swift.)
    static func parseTime(_ text: String) -> Double? {
        let trimmed = text.trimmingASCIISpaces
        if let seconds = Double(trimmed), seconds.isFinite { return seconds }
        let bytes = Array(trimmed.utf8)
        var numbers: [Int] = []
        var month: Int?
        var word: [UInt8] = []
        var number: Int?
        func endToken() {
            if let value = number { numbers.append(value) }
            if word.count >= 3, let index = months.firstIndex(where: { Array($0.utf8) == Array(word.prefix(3)) }) {
                month = index + 1
            }
            number = nil
            word = []
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if !word.isEmpty { endToken() }
                number = (number ?? 0) * 10 + Int(byte - 48)
                if number ?? 0 > 100_000 { return nil }
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"):
                if number != nil { endToken() }
                word.append(word.isEmpty ? byte : byte | 0x20)
                if word.count == 1 { word[0] = byte & ~0x20 }
            default:
                endToken()
            }
        }
        endToken()
        var year: Int, monthNumber: Int, day: Int, hour: Int, minute: Int, second: Int
        if let month {
            // Day month year time (IMF, RFC 850) or month day time year (asctime).
            guard numbers.count == 5 else { return nil }
            monthNumber = month
            if numbers[4] > 59 {
                (day, hour, minute, second, year) = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4])
            } else {
                (day, year, hour, minute, second) = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4])
            }
            if year < 100 { year += year < 70 ? 2000 : 1900 }
        } else {
            guard numbers.count == 6, numbers[0] > 31 else { return nil }
            (year, monthNumber, day, hour, minute, second) = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5])
        }
        guard (1...12).contains(monthNumber), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
        let y = monthNumber <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (monthNumber + (monthNumber > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second)
    }
}

extension ValueFormat {
    /// `text` with its ASCII letters in upper or lower case (other bytes as they are).
    public static func asciiCase(_ text: String, upper: Bool) -> String {
        let needs = text.utf8.contains { upper ? ($0 >= 0x61 && $0 <= 0x7A) : ($0 >= 0x41 && $0 <= 0x5A) }
        guard needs else { return text }
        return String(decoding: text.utf8.map { byte in
            if upper, byte >= 0x61 && byte <= 0x7A { return byte - 0x20 }
            if !upper, byte >= 0x41 && byte <= 0x5A { return byte + 0x20 }
            return byte
        }, as: UTF8.self)
    }
}
