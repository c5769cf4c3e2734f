import Testing
import VCL
@testable import ShellacCache

@Suite("Vary (RFC 9110 §12.5.5, RFC 9111 §4.1)")
struct VaryFieldsTests {
    @Test(arguments: [
        ("", VaryFields.none),
        (" , ,", .none),
        ("Accept-Encoding", .fields(["accept-encoding"])),
        ("ACCEPT-ENCODING", .fields(["accept-encoding"])),
        ("Accept-Encoding, User-Agent", .fields(["accept-encoding", "user-agent"])),
        ("  accept-encoding ,, Cookie  ", .fields(["accept-encoding", "cookie"])),
        ("Accept-Encoding, accept-encoding", .fields(["accept-encoding"])),
        ("Accept Encoding", .fields(["accept", "encoding"])),  // Varnish splits on space too
        ("*", .any),
        (" * ", .any),
        ("Accept-Encoding, *", .any),
        ("*, Accept-Encoding", .any),
        ("Accept-Encoding;q=1", .any),  // not a field name: never share variants
        ("\"Accept-Encoding\"", .any),
        ("Accept:Encoding", .any),
        ("Accept-Éncoding", .any),
        ("a*b", .fields(["a*b"])),
    ] as [(String, VaryFields)])
    func parse(value: String, expected: VaryFields) {
        #expect(VaryFields(value) == expected)
    }

    @Test func multipleLinesCombine() {
        let headers = HeaderList([("Vary", "Accept-Encoding"), ("X", "y"), ("vary", "Accept-Language, accept-encoding")])
        #expect(VaryFields(headers) == .fields(["accept-encoding", "accept-language"]))
        #expect(VaryFields(HeaderList([("Vary", "a"), ("Vary", "*")])) == .any)
        #expect(VaryFields(HeaderList()) == .none)
    }

    static let varied = ["accept-encoding", "accept-language", "x-device"]

    @Test(arguments: [
        // stored request, new request, match?
        ([], [], true),
        ([("Accept-Language", "en")], [("accept-language", "en")], true),
        ([("Accept-Language", "en")], [("Accept-Language", "de")], false),
        ([("Accept-Language", "en")], [("Accept-Language", "EN")], false),
        ([("Accept-Language", "en")], [], false),
        ([], [("Accept-Language", "en")], false),
        ([("Accept-Language", "")], [], false),  // empty is not absent
        ([("Accept-Language", "")], [("Accept-Language", "")], true),
        ([("Accept-Language", "en")], [("Accept-Language", " en ")], true),
        ([("Accept-Language", "en"), ("Accept-Language", "de")], [("Accept-Language", "en, de")], true),
        ([("Accept-Language", "en, de")], [("Accept-Language", "en"), ("Accept-Language", "de")], true),
        ([("Accept-Language", "en"), ("Accept-Language", "de")], [("Accept-Language", "de"), ("Accept-Language", "en")], false),
        ([("Accept-Encoding", "gzip, deflate, br")], [("Accept-Encoding", "gzip")], true),
        ([("Accept-Encoding", "br")], [], true),  // both normalise to absent
        ([("Accept-Encoding", "gzip;q=0")], [("Accept-Encoding", "identity")], true),
        ([("Accept-Encoding", "gzip")], [("Accept-Encoding", "br")], false),
        ([("Accept-Encoding", "gzip")], [("Accept-Encoding", "br"), ("Accept-Encoding", "gzip")], true),
        ([("X-Device", "mobile"), ("Accept-Language", "en")], [("Accept-Language", "en"), ("x-device", "mobile")], true),
        ([("X-Device", "mobile")], [("X-Device", "mobile"), ("X-Device", "mobile")], false),
        ([("Accept-Language", "é")], [("Accept-Language", "e\u{301}")], false),  // bytes, not Unicode equivalence
    ] as [([(String, String)], [(String, String)], Bool)])
    func variantMatching(stored: [(String, String)], request: [(String, String)], matches: Bool) {
        let key = VariantKey(fields: Self.varied, request: HeaderList(stored))
        #expect(key.matches(HeaderList(request)) == matches)
        // Symmetric: a key built from the new request matches the stored one equally.
        let reverse = VariantKey(fields: Self.varied, request: HeaderList(request))
        #expect(reverse.matches(HeaderList(stored)) == matches)
        #expect((key == reverse) == matches)
    }

    @Test func keyContents() {
        let key = VariantKey(
            fields: ["accept-encoding", "cookie", "x-a"],
            request: HeaderList([("Accept-Encoding", "br, GZIP"), ("X-A", " 1 "), ("x-a", "2")]))
        #expect(key.entries == [
            .init(name: "accept-encoding", value: "gzip"),
            .init(name: "cookie", value: nil),
            .init(name: "x-a", value: "1, 2"),
        ])
        let mixedCase = VariantKey(fields: ["Accept-Encoding", "X-A"], request: HeaderList([("accept-encoding", "gzip")]))
        #expect(mixedCase.entries == [.init(name: "accept-encoding", value: "gzip"), .init(name: "x-a", value: nil)])
        #expect(mixedCase.matches(HeaderList([("ACCEPT-ENCODING", "x, GZip;q=0.1")])))
        let handMade = VariantKey(entries: [.init(name: "X-A", value: "1")])
        #expect(handMade.matches(HeaderList([("x-a", "1")])))
        #expect(VariantKey(fields: [], request: HeaderList()).isEmpty)
        #expect(VariantKey(fields: [], request: HeaderList()).matches(HeaderList([("A", "b")])))
    }
}
