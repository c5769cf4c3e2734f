/// Number reading as Varnish's tools do it, quirks included, so that queries compare what
/// varnishlog compares.
enum VSLNumber {
    /// The largest magnitude of a Varnish decimal (VRT_DECIMAL_MAX).
    static let decimalLimit = 999_999_999_999.999

    /// Reads a number the way Varnish's `SF_Parse_Number` does when not strict: optional
    /// spaces/tabs, an optional `-`, at most 15 integer digits, then optionally `.` and a
    /// fraction of which only the first 3 digits count (the rest are skipped), then spaces and
    /// tabs. Anything after that is ignored. The bytes end at `bytes.count` or a NUL.
    /// - Returns: the value, the index after what was read, and whether it was a number.
    static func parse(_ bytes: [UInt8], from start: Int) -> (value: Double, next: Int, valid: Bool) {
        func at(_ i: Int) -> UInt8 { i < bytes.count ? bytes[i] : 0 }
        func isOWS(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
        var i = start
        while isOWS(at(i)) { i += 1 }
        var sign = 1.0
        if at(i) == UInt8(ascii: "-") {
            sign = -1
            i += 1
        }
        var integer: Int64 = 0
        var digits = 0
        while isDigit(at(i)) {
            digits += 1
            if digits > 15 { return (Double(integer) * sign, i, false) }
            integer = integer * 10 + Int64(at(i) - 0x30)
            i += 1
        }
        let noDigits = digits == 0
        if !noDigits {
            while isOWS(at(i)) { i += 1 }
        }
        var value = Double(integer)
        guard at(i) == UInt8(ascii: ".") else { return (value * sign, i, !noDigits) }
        if value > decimalLimit { return (value * sign, i, false) }
        if noDigits, !isDigit(at(i + 1)) { return (value * sign, i, false) }
        i += 1
        var scale = 1.0
        for _ in 0..<3 {
            scale *= 0.1
            guard isDigit(at(i)) else { break }
            value += scale * Double(at(i) - 0x30)
            i += 1
        }
        while isDigit(at(i)) { i += 1 }
        while isOWS(at(i)) { i += 1 }
        return (value * sign, i, true)
    }

    /// A whole text as a Varnish number (`VNUM`): nil unless all of it reads as one.
    static func whole(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        let (value, next, valid) = parse(bytes, from: 0)
        return valid && next == bytes.count ? value : nil
    }

    /// A Varnish decimal (`SF_Parse_Decimal`): a number within ±999999999999.999.
    static func decimal(_ bytes: [UInt8], from start: Int) -> Double? {
        let (value, _, valid) = parse(bytes, from: start)
        guard valid, value >= -decimalLimit, value <= decimalLimit else { return nil }
        return value
    }

    /// C's `strtoll(text, &end, 0)`: optional white space and sign, then hex after `0x`,
    /// octal after a leading `0`, else decimal; saturates on overflow.
    /// - Returns: the value and how many bytes were read (0 when no digits were).
    static func strtoll(_ text: String) -> (value: Int64, length: Int) {
        let bytes = Array(text.utf8)
        func at(_ i: Int) -> UInt8 { i < bytes.count ? bytes[i] : 0 }
        var i = 0
        while isCSpace(at(i)) { i += 1 }
        var negative = false
        if at(i) == UInt8(ascii: "+") || at(i) == UInt8(ascii: "-") {
            negative = at(i) == UInt8(ascii: "-")
            i += 1
        }
        var base: Int64 = 10
        if at(i) == UInt8(ascii: "0"), at(i + 1) | 0x20 == UInt8(ascii: "x"), digitValue(at(i + 2)) < 16 {
            base = 16
            i += 2
        } else if at(i) == UInt8(ascii: "0") {
            base = 8
        }
        var magnitude: UInt64 = 0
        var overflow = false
        let first = i
        while digitValue(at(i)) < base {
            let (times, o1) = magnitude.multipliedReportingOverflow(by: UInt64(base))
            let (sum, o2) = times.addingReportingOverflow(UInt64(digitValue(at(i))))
            overflow = overflow || o1 || o2
            magnitude = sum
            i += 1
        }
        guard i > first else { return (0, 0) }
        if negative {
            if overflow || magnitude > UInt64(Int64.max) + 1 { return (Int64.min, i) }
            return (magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude), i)
        }
        if overflow || magnitude > UInt64(Int64.max) { return (Int64.max, i) }
        return (Int64(magnitude), i)
    }

    /// A double cut to a whole number as C's cast does, without trapping on NaN or range.
    static func truncated(_ value: Double) -> Int64 {
        guard value.isFinite else { return value.isNaN ? 0 : (value < 0 ? Int64.min : Int64.max) }
        if value >= 9.2233720368547758e18 { return Int64.max }
        if value <= -9.2233720368547758e18 { return Int64.min }
        return Int64(value.rounded(.towardZero))
    }
}

@inline(__always)
func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

/// The value of a digit in any base up to 36; 99 for a byte that is none.
@inline(__always)
func digitValue(_ byte: UInt8) -> Int64 {
    switch byte {
    case 0x30...0x39: Int64(byte - 0x30)
    case 0x41...0x5A: Int64(byte - 0x41 + 10)
    case 0x61...0x7A: Int64(byte - 0x61 + 10)
    default: 99
    }
}
