import Testing
import VCL
@testable import ShellacCache

@Suite("Conditional requests on a hit (RFC 9110 §13)")
struct ConditionalRequestTests {
    static let lastModified = "Sun, 06 Nov 1994 08:49:37 GMT"
    static let later = "Sun, 06 Nov 1994 08:49:38 GMT"
    static let earlier = "Sun, 06 Nov 1994 08:49:36 GMT"
    static let stored = HeaderList([("ETag", "\"abc\""), ("Last-Modified", lastModified)])

    @Test(arguments: [
        // If-None-Match
        ([("If-None-Match", "\"abc\"")], true),
        ([("if-none-match", "\"abc\"")], true),
        ([("If-None-Match", "W/\"abc\"")], true),  // weak comparison
        ([("If-None-Match", "\"xyz\", \"abc\"")], true),
        ([("If-None-Match", "\"xyz\",\"abc\"")], true),
        ([("If-None-Match", " \"xyz\" , , W/\"abc\" ")], true),
        ([("If-None-Match", "\"xyz\""), ("If-None-Match", "\"abc\"")], true),
        ([("If-None-Match", "*")], true),
        ([("If-None-Match", " * ")], true),
        ([("If-None-Match", "\"xyz\"")], false),
        ([("If-None-Match", "\"ABC\"")], false),  // opaque tags are case-sensitive
        ([("If-None-Match", "abc")], false),  // unquoted: malformed
        ([("If-None-Match", "\"abc")], false),
        ([("If-None-Match", "\"abc\" junk")], false),
        ([("If-None-Match", "\"abc\", junk")], false),  // malformed list matches nothing
        ([("If-None-Match", "w/\"abc\"")], false),  // W is case-sensitive
        ([("If-None-Match", "W/ \"abc\"")], false),
        ([("If-None-Match", "*, \"abc\"")], false),
        ([("If-None-Match", "")], false),
        ([("If-None-Match", ",")], false),
        ([("If-None-Match", "\"a\"bc\"")], false),
        // If-None-Match present: If-Modified-Since is ignored (§13.1.3).
        ([("If-None-Match", "\"xyz\""), ("If-Modified-Since", later)], false),
        ([("If-None-Match", "garbage"), ("If-Modified-Since", later)], false),
        // If-Modified-Since
        ([("If-Modified-Since", lastModified)], true),
        ([("If-Modified-Since", later)], true),
        ([("If-Modified-Since", earlier)], false),
        ([("If-Modified-Since", "Sunday, 06-Nov-94 08:49:37 GMT")], true),
        ([("If-Modified-Since", "Sun Nov  6 08:49:37 1994")], true),
        ([("If-Modified-Since", "yesterday")], false),
        ([("If-Modified-Since", "0")], false),
        ([("If-Modified-Since", "")], false),
        ([("If-Modified-Since", later), ("If-Modified-Since", later)], false),  // more than one member
        ([("If-Modified-Since", "\(later), \(later)")], false),
        ([], false),
        ([("If-Match", "\"abc\"")], false),
    ] as [([(String, String)], Bool)])
    func getRequests(request: [(String, String)], notModified: Bool) {
        #expect(ConditionalRequest.isNotModified(method: "GET", request: HeaderList(request), response: Self.stored) == notModified)
        #expect(ConditionalRequest.isNotModified(method: "HEAD", request: HeaderList(request), response: Self.stored) == notModified)
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "OPTIONS", "get", "Head", "GETX", ""])
    func onlyGetAndHead(method: String) {
        let request = HeaderList([("If-None-Match", "*"), ("If-Modified-Since", Self.later)])
        #expect(!ConditionalRequest.isNotModified(method: method, request: request, response: Self.stored))
    }

    @Test(arguments: [(200, true), (203, true), (204, true), (299, true), (301, false), (404, false), (500, false)])
    func onlySuccessfulResponses(status: Int, expected: Bool) {
        let request = HeaderList([("If-None-Match", "\"abc\"")])
        #expect(ConditionalRequest.isNotModified(method: "GET", request: request, status: status, response: Self.stored) == expected)
    }

    @Test(arguments: [
        // stored ETag, If-None-Match, 304?
        ("W/\"abc\"", "\"abc\"", true),
        ("W/\"abc\"", "W/\"abc\"", true),
        ("\"a,b\"", "\"a,b\"", true),  // commas are legal inside an entity-tag
        ("\"a,b\"", "\"a\", \"b\"", false),
        ("\"\"", "\"\"", true),
        ("abc", "abc", false),  // an invalid stored ETag matches nothing
        ("abc", "\"abc\"", false),
        ("\"abc\"", "*", true),
    ] as [(String, String, Bool)])
    func storedETags(etag: String, ifNoneMatch: String, expected: Bool) {
        let response = HeaderList([("ETag", etag)])
        let request = HeaderList([("If-None-Match", ifNoneMatch)])
        #expect(ConditionalRequest.isNotModified(method: "GET", request: request, response: response) == expected)
    }

    @Test func ifNoneMatchWithoutStoredETag() {
        let response = HeaderList([("Last-Modified", Self.lastModified)])
        #expect(!ConditionalRequest.isNotModified(
            method: "GET", request: HeaderList([("If-None-Match", "\"abc\"")]), response: response))
        // `*` matches any current representation (§13.1.2), ETag or not.
        #expect(ConditionalRequest.isNotModified(
            method: "GET", request: HeaderList([("If-None-Match", "*")]), response: response))
    }

    /// RFC 9111 §4.3.2: without Last-Modified use Date, then the time the response was stored.
    @Test func ifModifiedSinceFallbacks() {
        let ims = HeaderList([("If-Modified-Since", Self.lastModified)])
        let withDate = HeaderList([("Date", Self.earlier)])
        #expect(ConditionalRequest.isNotModified(method: "GET", request: ims, response: withDate))
        let withLaterDate = HeaderList([("Date", Self.later)])
        #expect(!ConditionalRequest.isNotModified(method: "GET", request: ims, response: withLaterDate))
        let bare = HeaderList()
        #expect(!ConditionalRequest.isNotModified(method: "GET", request: ims, response: bare))
        #expect(ConditionalRequest.isNotModified(method: "GET", request: ims, response: bare, storedAt: 784_111_777.9))
        #expect(!ConditionalRequest.isNotModified(method: "GET", request: ims, response: bare, storedAt: 784_111_778))
        // An invalid Last-Modified is not replaced by Date.
        let badLastModified = HeaderList([("Last-Modified", "never"), ("Date", Self.earlier)])
        #expect(!ConditionalRequest.isNotModified(method: "GET", request: ims, response: badLastModified))
    }
}
