#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import ShellacCache

@Suite("HTTPDate (RFC 9110 §5.6.7)")
struct HTTPDateTests {
    /// 2026-11-23T18:40:00Z, the reference "now" for two-digit years.
    static let now: Double = 1_795_459_200

    @Test(arguments: [
        ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 784_111_777),
        ("Sun Nov  6 08:49:37 1994", 784_111_777),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        ("Wed, 31 Dec 1969 23:59:59 GMT", -1),
        ("Thu, 29 Feb 2024 12:00:00 GMT", 1_709_208_000),
        ("Tue, 29 Feb 2000 00:00:00 GMT", 951_782_400),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 253_402_300_799),
        ("Tue, 19 Jan 2038 03:14:08 GMT", 2_147_483_648),
        ("Mon, 23 Nov 2026 18:40:00 GMT", 1_795_459_200),
        ("  Sun, 06 Nov 1994 08:49:37 GMT\t", 784_111_777),
        ("Sat, 31 Dec 2016 23:59:60 GMT", 1_483_228_800),  // leap second allowed by the grammar
        ("Thu Feb 29 00:00:00 2024", 1_709_164_800),
        ("Mon Nov 23 18:40:00 2026", 1_795_459_200),
        ("Sun Nov 16 08:49:37 1994", 784_975_777),
        ("Monday, 23-Nov-26 18:40:00 GMT", 1_795_459_200),
        ("Tuesday, 01-Jan-70 00:00:00 GMT", 3_155_760_000),  // 2070: only 44 years ahead of now
    ] as [(String, Int64)])
    func parsesValidDates(text: String, epoch: Int64) {
        #expect(HTTPDate.parse(text, now: Self.now) == epoch)
    }

    @Test(arguments: [
        "", "0", "-1", "1994", "now", "GMT", " ",
        "Sun, 06 Nov 1994 08:49:37",  // no zone
        "Sun, 06 Nov 1994 08:49:37 UTC",  // only GMT
        "Sun, 06 Nov 1994 08:49:37 gmt",  // case-sensitive
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",  // day is 2DIGIT
        "Sun, 06 Nov 94 08:49:37 GMT",  // year is 4DIGIT
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 2023 08:49:37 GMT",  // not a leap year
        "Sun, 29 Feb 1900 08:49:37 GMT",  // not a leap year either
        "Sun, 06 Nov 1994 08:49:37 GMTX",
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",  // a list
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT",  // long name with IMF layout
        "Sun, 06-Nov-94 08:49:37 GMT",  // short name with RFC 850 layout
        "Sundae, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37",
        "Sun Nov 6 08:49:37 1994",  // asctime day needs a padding space
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun Nov 06  08:49:37 1994",
        "Sun, 06 Nov 1994 08:49:37 GMT\0",
        "Sun, 0x Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 199A 08:49:37 GMT",
        "Sun, 06 Nov +994 08:49:37 GMT",
        "Sun, ０６ Nov 1994 08:49:37 GMT",  // full-width digits
        "Sun, 06 Nov 1994 08:49:37 GMT🙂",
        "1994-11-06T08:49:37Z",
    ])
    func rejectsMalformedDates(text: String) {
        #expect(HTTPDate.parse(text, now: Self.now) == nil)
    }

    /// RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.
    @Test(arguments: [
        ("Thursday, 01-Jan-76 00:00:00 GMT", 2076),
        ("Friday, 01-Jan-77 00:00:00 GMT", 1977),
        ("Thursday, 01-Jan-99 00:00:00 GMT", 1999),
        ("Saturday, 01-Jan-00 00:00:00 GMT", 2000),
        ("Wednesday, 01-Jan-25 00:00:00 GMT", 2025),
    ] as [(String, Int)])
    func rfc850TwoDigitYears(text: String, year: Int) throws {
        let epoch = try #require(HTTPDate.parse(text, now: Self.now))
        #expect(HTTPDate.civil(fromDays: HTTPDate.floorDiv(epoch, 86_400)).year == year)
    }

    @Test func rfc850UsesTheClockWhenNoNowIsGiven() {
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
    }

    @Test func weekdayIsNotCrossChecked() {
        // The day name is redundant (RFC 9110 §5.6.7); a wrong one is still a date.
        #expect(HTTPDate.parse("Mon, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
    }

    @Test(arguments: [
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
        (1_709_208_000, "Thu, 29 Feb 2024 12:00:00 GMT"),
        (1_795_459_200, "Mon, 23 Nov 2026 18:40:00 GMT"),
        (2_147_483_648, "Tue, 19 Jan 2038 03:14:08 GMT"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
        (Int64.max, "Fri, 31 Dec 9999 23:59:59 GMT"),
        (-62_167_219_200, "Sat, 01 Jan 0000 00:00:00 GMT"),
        (Int64.min, "Sat, 01 Jan 0000 00:00:00 GMT"),
    ] as [(Int64, String)])
    func formatsIMFFixdate(epoch: Int64, text: String) {
        #expect(HTTPDate.format(epoch) == text)
        #expect(HTTPDate.format(epoch).utf8.count == HTTPDate.imfFixdateLength)
    }

    @Test func formatMatchesGmtimeAndRoundTrips() {
        var rng = SystemRandomNumberGenerator()
        for i in 0..<20_000 {
            let epoch: Int64 = i < 1000 ? Int64(i) * 86_399 - 400 * 86_400 : Int64.random(in: -2_000_000_000...8_000_000_000, using: &rng)
            let text = HTTPDate.format(epoch)
            #expect(HTTPDate.parse(text, now: Self.now) == epoch, "\(epoch) \(text)")
            var t = time_t(epoch)
            var parts = tm()
            gmtime_r(&t, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            let n = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
            let expected = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            #expect(text == expected)
            if text != expected { break }
        }
    }

    @Test func calendarAgreesWithDayByDayCount() {
        var day: Int64 = HTTPDate.days(year: 1600, month: 1, day: 1)
        for year in 1600...2500 {
            for month in 1...12 {
                for d in 1...HTTPDate.daysIn(month: month, year: year) {
                    #expect(HTTPDate.days(year: year, month: month, day: d) == day)
                    let back = HTTPDate.civil(fromDays: day)
                    #expect(back.year == year && back.month == month && back.day == d)
                    day += 1
                }
            }
        }
    }

    @Test func writeRefusesASmallBuffer() {
        var bytes = [UInt8](repeating: 0, count: 28)
        let written = bytes.withUnsafeMutableBufferPointer { HTTPDate.write(0, into: $0) }
        #expect(written == 0)
    }

    @Test func cacheReusesTheStringWithinASecond() {
        var cache = IMFFixdateCache()
        #expect(cache.string(forEpochSecond: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(cache.string(forEpochSecond: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(cache.string(forEpochSecond: 784_111_778) == "Sun, 06 Nov 1994 08:49:38 GMT")
        #expect(cache.string(forEpochSecond: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }
}
