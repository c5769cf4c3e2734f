import Testing
import VCL
@testable import ShellacCache

/// Random and adversarial input through every Freshness parser. In debug builds buffer
/// reads are bounds-checked, so an out-of-range read traps here instead of passing.
@Suite("Freshness parsers under random input")
struct FreshnessFuzzTests {
    static let alphabet: [String] = [
        "\"", "\\", ",", ";", "=", " ", "\t", "W", "/", "*", "0", "1", "5", "9", ".", "-", "+", ":",
        "a", "q", "x", "gzip", "max-age", "no-cache", "private", "GMT", "Sun", "Nov", "é", "\u{0}", "\u{7F}", "🙂",
    ]

    static func randomValue(_ rng: inout some RandomNumberGenerator) -> String {
        var s = ""
        for _ in 0..<Int.random(in: 0...24, using: &rng) {
            s += alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
        }
        return s
    }

    @Test func randomFieldValuesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let value = Self.randomValue(&rng)
            let other = Self.randomValue(&rng)
            let cc = CacheControl(value)
            if let maxAge = cc.maxAge { #expect((0...DeltaSeconds.maximum).contains(maxAge)) }
            if let age = AgeHeader.parse(value) {
                #expect(age >= 0 && age <= DeltaSeconds.maximum)
                #expect(value.utf8.contains { $0 >= 0x30 && $0 <= 0x39 })
            }
            _ = DeltaSeconds.parse(value)
            if let date = HTTPDate.parse(value, now: 1_795_459_200) {
                #expect(HTTPDate.parse(HTTPDate.format(date)) == date)
            }
            _ = VaryFields(value)
            let ae = normalizedAcceptEncoding(value)
            #expect(ae == nil || ae == "gzip")
            _ = AcceptEncoding.qvalue(value)
            let headers = HeaderList([
                ("Cache-Control", value), ("Age", other), ("Expires", value), ("Date", other), ("Vary", value),
                ("Surrogate-Control", other), ("ETag", other),
            ])
            let lifetime = FreshnessLifetime.compute(status: 200, headers: headers, now: 1_795_459_200)
            #expect(!lifetime.ttl.isNaN && lifetime.ttl <= Double(DeltaSeconds.maximum))
            _ = Cacheability.uncacheableReason(headers: headers, ttl: lifetime.ttl)
            let request = HeaderList([
                ("If-None-Match", value), ("If-Modified-Since", other), ("Accept-Encoding", value), ("Vary", other),
            ])
            _ = ConditionalRequest.isNotModified(method: "GET", request: request, response: headers, storedAt: 0)
            let key = VariantKey(fields: ["accept-encoding", "vary", "if-none-match"], request: request)
            #expect(key.matches(request))
        }
    }

    @Test(arguments: [
        "\"", "\\", "\"\\", "\\\"", "=\"", "a=\"\\", "W/", "W/\"", "\"\"\"", ",\"", "\",", ";", ";=", ";q=", "q=",
        String(repeating: "\\", count: 4097), String(repeating: "a=\"b\",", count: 2000),
        String(repeating: " ", count: 5000), String(repeating: "9", count: 5000),
    ])
    func pathologicalValues(value: String) {
        let isDigits = !value.isEmpty && value.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        let isSpaces = value.utf8.allSatisfy { $0 == 0x20 }
        // None of them names a directive, a date or a coding.
        #expect(CacheControl(value).isEmpty)
        #expect(HTTPDate.parse(value) == nil)
        #expect(normalizedAcceptEncoding(value) == nil)
        // Only digits are delta-seconds, and 5000 nines clamp to 2^31.
        #expect(AgeHeader.parse(value) == (isDigits ? DeltaSeconds.maximum : nil))
        // Spaces are an empty list; a run of digits is a token, so one field name; every
        // other value has an element that is not a token, which makes the Vary `*`.
        #expect(VaryFields(value) == (isSpaces ? .none : isDigits ? .fields([value]) : .any))
        // None is a well-formed entity-tag list (nor a valid stored ETag): as a request's
        // If-None-Match it is malformed; as the stored ETag it matches no valid tag.
        #expect(ConditionalRequest.ifNoneMatch(value, matches: value) == .malformed)
        #expect(ConditionalRequest.ifNoneMatch("\"a\"", matches: value) == .noMatch)
        #expect(ConditionalRequest.ifNoneMatch("*", matches: value) == .match)
    }

    /// Non-contiguous strings take the copying path of `withBytes`.
    @Test func substringsAndSlices() {
        let text = "xx max-age=60, private xx"
        let slice = text.dropFirst(3).dropLast(3)
        let cc = CacheControl(slice)
        #expect(cc.maxAge == 60 && cc.isPrivate)
        #expect(AgeHeader.parse("a 42 b".dropFirst(1).dropLast(1)) == 42)
        #expect(HTTPDate.parse("[Sun, 06 Nov 1994 08:49:37 GMT]".dropFirst().dropLast()) == 784_111_777)
    }
}
