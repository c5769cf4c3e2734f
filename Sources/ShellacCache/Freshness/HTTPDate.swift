#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// HTTP-date (RFC 9110 §5.6.7): parsing of all three formats and fast IMF-fixdate output.
///
/// Times are whole seconds since the Unix epoch (UTC). No Foundation, no allocation when
/// parsing; formatting allocates only the 29-byte result string.
public enum HTTPDate {
    /// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), an obsolete RFC 850 date
    /// (`Sunday, 06-Nov-94 08:49:37 GMT`) or an asctime date (`Sun Nov  6 08:49:37 1994`).
    ///
    /// Strict per the grammar: names are case-sensitive, every field has its fixed width,
    /// the calendar date must exist, hour <= 23, minute <= 59, second <= 60 (leap). Leading
    /// and trailing OWS is ignored. Anything else, including `0`, gives nil.
    ///
    /// - Parameter now: the current time, used only to resolve RFC 850's two-digit year
    ///   (RFC 9110 §5.6.7: more than 50 years in the future means the previous century).
    ///   Defaults to the system clock.
    public static func parse(_ text: some StringProtocol, now: Double? = nil) -> Int64? {
        withBytes(text) { parse(bytes: $0, now: now) }
    }

    /// `feature=+http_date_postel`: an IMF-fixdate's day of the month may also be one digit
    /// (`Fri, 2 Mar 2018 14:26:02 GMT`), as Varnish then accepts. Process-wide, as in Varnish;
    /// the server sets it from its parameters.
    public static let acceptsOneDigitDay = Atomic<Bool>(false)

    static func parse(bytes: Bytes, now: Double?) -> Int64? {
        var r = DateReader(bytes.trimmingOWS())
        // day-name or day-name-l
        let nameStart = r.index
        var nameLength = 0
        while let b = r.peek(), isAlpha(b) { r.advance(); nameLength += 1 }
        let name = r.bytes[nameStart..<r.index]
        guard let separator = r.next() else { return nil }
        if separator == UInt8(ascii: ","), nameLength == 3 {
            guard isDayName(name) else { return nil }
            return parseIMF(&r)
        } else if separator == UInt8(ascii: ","), nameLength > 3 {
            guard isLongDayName(name) else { return nil }
            return parseRFC850(&r, now: now ?? currentTime())
        } else if separator == ASCII.space, nameLength == 3 {
            guard isDayName(name) else { return nil }
            return parseAsctime(&r)
        }
        return nil
    }

    // IMF-fixdate after "day-name,": SP 2DIGIT SP month SP 4DIGIT SP time SP "GMT"
    private static func parseIMF(_ r: inout DateReader) -> Int64? {
        guard r.expect(ASCII.space) else { return nil }
        let oneDigit = r.peekSecond() == ASCII.space && acceptsOneDigitDay.load(ordering: .relaxed)
        guard let day = r.digits(oneDigit ? 1 : 2), r.expect(ASCII.space),
            let month = r.month(), r.expect(ASCII.space), let year = r.digits(4), r.expect(ASCII.space),
            let time = r.timeOfDay(), r.expect(ASCII.space), r.expectGMT(), r.atEnd
        else { return nil }
        return epoch(year: year, month: month, day: day, time: time)
    }

    // rfc850-date after "day-name-l,": SP 2DIGIT "-" month "-" 2DIGIT SP time SP "GMT"
    private static func parseRFC850(_ r: inout DateReader, now: Double) -> Int64? {
        let dash = UInt8(ascii: "-")
        guard r.expect(ASCII.space), let day = r.digits(2), r.expect(dash), let month = r.month(),
            r.expect(dash), let yy = r.digits(2), r.expect(ASCII.space), let time = r.timeOfDay(),
            r.expect(ASCII.space), r.expectGMT(), r.atEnd
        else { return nil }
        let currentYear = civil(fromDays: Int64((now / 86_400).rounded(.down))).year
        var year = (currentYear / 100) * 100 + yy
        if year > currentYear + 50 {
            year -= 100
        } else if year + 100 <= currentYear + 50 {
            year += 100
        }
        return epoch(year: year, month: month, day: day, time: time)
    }

    // asctime-date after "day-name SP": month SP ( 2DIGIT / ( SP DIGIT ) ) SP time SP 4DIGIT
    private static func parseAsctime(_ r: inout DateReader) -> Int64? {
        guard let month = r.month(), r.expect(ASCII.space) else { return nil }
        let day: Int
        if r.expect(ASCII.space) {
            guard let d = r.digits(1) else { return nil }
            day = d
        } else {
            guard let d = r.digits(2) else { return nil }
            day = d
        }
        guard r.expect(ASCII.space), let time = r.timeOfDay(), r.expect(ASCII.space),
            let year = r.digits(4), r.atEnd
        else { return nil }
        return epoch(year: year, month: month, day: day, time: time)
    }

    private static func epoch(year: Int, month: Int, day: Int, time: Int) -> Int64? {
        guard day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        return days(year: year, month: month, day: day) * 86_400 + Int64(time)
    }

    // MARK: Formatting

    /// Formats `epochSecond` as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    /// Times before year 0 or after 9999 are clamped to that range.
    public static func format(_ epochSecond: Int64) -> String {
        String(unsafeUninitializedCapacity: imfFixdateLength) { buffer in
            write(epochSecond, into: buffer)
        }
    }

    /// Length in bytes of every IMF-fixdate.
    public static let imfFixdateLength = 29

    /// Writes the 29 bytes of an IMF-fixdate into `buffer` (which must hold at least 29
    /// bytes); returns the number of bytes written (29, or 0 if the buffer is too small).
    public static func write(_ epochSecond: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        guard buffer.count >= imfFixdateLength else { return 0 }
        let seconds = min(max(epochSecond, minimumFormattable), maximumFormattable)
        let dayNumber = floorDiv(seconds, 86_400)
        let secondOfDay = Int(seconds - dayNumber * 86_400)
        let date = civil(fromDays: dayNumber)
        let weekday = Int(floorMod(dayNumber, 7))  // index into dayNames, which starts on Thursday

        dayNames.withUTF8Buffer { names in
            buffer[0] = names[weekday * 3]
            buffer[1] = names[weekday * 3 + 1]
            buffer[2] = names[weekday * 3 + 2]
        }
        buffer[3] = UInt8(ascii: ",")
        buffer[4] = ASCII.space
        put2(date.day, buffer, 5)
        buffer[7] = ASCII.space
        monthNames.withUTF8Buffer { names in
            buffer[8] = names[(date.month - 1) * 3]
            buffer[9] = names[(date.month - 1) * 3 + 1]
            buffer[10] = names[(date.month - 1) * 3 + 2]
        }
        buffer[11] = ASCII.space
        put2(date.year / 100, buffer, 12)
        put2(date.year % 100, buffer, 14)
        buffer[16] = ASCII.space
        put2(secondOfDay / 3600, buffer, 17)
        buffer[19] = UInt8(ascii: ":")
        put2(secondOfDay / 60 % 60, buffer, 20)
        buffer[22] = UInt8(ascii: ":")
        put2(secondOfDay % 60, buffer, 23)
        buffer[25] = ASCII.space
        buffer[26] = UInt8(ascii: "G")
        buffer[27] = UInt8(ascii: "M")
        buffer[28] = UInt8(ascii: "T")
        return imfFixdateLength
    }

    @inline(__always)
    private static func put2(_ value: Int, _ buffer: UnsafeMutableBufferPointer<UInt8>, _ at: Int) {
        buffer[at] = ASCII.zero &+ UInt8(truncatingIfNeeded: value / 10)
        buffer[at + 1] = ASCII.zero &+ UInt8(truncatingIfNeeded: value % 10)
    }

    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    static let minimumFormattable: Int64 = -62_167_219_200
    static let maximumFormattable: Int64 = 253_402_300_799

    private static let dayNames: StaticString = "ThuFriSatSunMonTueWed"  // from 1970-01-01
    private static let monthNames: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"

    // MARK: Calendar (proleptic Gregorian)

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to the given date. Counts years from March so the leap day
    /// falls at the end of the counted year.
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400  // 0...399
        let monthFromMarch = Int64((month + 9) % 12)  // March = 0 ... February = 11
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468  // 719468 = days from 0000-03-01 to 1970-01-01
    }

    /// The inverse of `days(year:month:day:)`.
    static func civil(fromDays dayNumber: Int64) -> (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
        let month = Int(monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9)
        let year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    @inline(__always) static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    @inline(__always) static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    // MARK: Names

    @inline(__always) private static func isAlpha(_ b: UInt8) -> Bool {
        (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z")
    }

    private static func isDayName(_ name: Bytes) -> Bool {
        switch pack3(name) {
        case pack3("Mon"), pack3("Tue"), pack3("Wed"), pack3("Thu"), pack3("Fri"), pack3("Sat"), pack3("Sun"):
            return true
        default:
            return false
        }
    }

    private static func isLongDayName(_ name: Bytes) -> Bool {
        name.equals("Monday") || name.equals("Tuesday") || name.equals("Wednesday") || name.equals("Thursday")
            || name.equals("Friday") || name.equals("Saturday") || name.equals("Sunday")
    }

    static func month(_ name: Bytes) -> Int? {
        switch pack3(name) {
        case pack3("Jan"): return 1
        case pack3("Feb"): return 2
        case pack3("Mar"): return 3
        case pack3("Apr"): return 4
        case pack3("May"): return 5
        case pack3("Jun"): return 6
        case pack3("Jul"): return 7
        case pack3("Aug"): return 8
        case pack3("Sep"): return 9
        case pack3("Oct"): return 10
        case pack3("Nov"): return 11
        case pack3("Dec"): return 12
        default: return nil
        }
    }

    /// Three bytes packed big-endian into a UInt32; anything not exactly 3 bytes gives 0.
    @inline(__always) static func pack3(_ bytes: Bytes) -> UInt32 {
        guard bytes.count == 3 else { return 0 }
        var v: UInt32 = 0
        for b in bytes { v = v << 8 | UInt32(b) }
        return v
    }

    @inline(__always) static func pack3(_ s: StaticString) -> UInt32 {
        s.withUTF8Buffer { b in UInt32(b[0]) << 16 | UInt32(b[1]) << 8 | UInt32(b[2]) }
    }

    /// The system's wall-clock time in seconds since the epoch.
    public static func currentTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A forward-only reader over the bytes of a date.
private struct DateReader {
    let bytes: Bytes
    var index: Bytes.Index

    init(_ bytes: Bytes) {
        self.bytes = bytes
        index = bytes.startIndex
    }

    var atEnd: Bool { index == bytes.endIndex }

    func peek() -> UInt8? { atEnd ? nil : bytes[index] }

    /// The byte after the next one, if any.
    func peekSecond() -> UInt8? {
        guard !atEnd else { return nil }
        let second = bytes.index(after: index)
        return second == bytes.endIndex ? nil : bytes[second]
    }

    mutating func advance() { bytes.formIndex(after: &index) }

    mutating func next() -> UInt8? {
        guard !atEnd else { return nil }
        defer { advance() }
        return bytes[index]
    }

    mutating func expect(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        advance()
        return true
    }

    /// Exactly `count` ASCII digits.
    mutating func digits(_ count: Int) -> Int? {
        var value = 0
        for _ in 0..<count {
            guard let b = peek(), ASCII.isDigit(b) else { return nil }
            value = value * 10 + Int(b - ASCII.zero)
            advance()
        }
        return value
    }

    mutating func month() -> Int? {
        let start = index
        for _ in 0..<3 {
            guard next() != nil else { return nil }
        }
        return HTTPDate.month(bytes[start..<index])
    }

    /// `hour ":" minute ":" second` as seconds into the day.
    mutating func timeOfDay() -> Int? {
        let colon = UInt8(ascii: ":")
        guard let h = digits(2), h <= 23, expect(colon), let m = digits(2), m <= 59, expect(colon),
            let s = digits(2), s <= 60
        else { return nil }
        return h * 3600 + m * 60 + s
    }

    mutating func expectGMT() -> Bool {
        expect(UInt8(ascii: "G")) && expect(UInt8(ascii: "M")) && expect(UInt8(ascii: "T"))
    }
}
