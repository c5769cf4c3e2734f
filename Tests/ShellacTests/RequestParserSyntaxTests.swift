import NIOCore
import Testing
@testable import Shellac

/// The syntax `RequestParser` accepts, byte by byte and without a socket: the request line,
/// field lines, line endings, Host, Expect, Connection and the size limit.
///
/// Policy, as the parser has it: one SP between the three parts of the request line and a
/// version of exactly `HTTP/d.d` (1.x above 1.1 read as 1.1, other majors 505); field names
/// are tokens right up to the colon; values lose surrounding SP/HTAB and may hold HTAB and
/// bytes 0x80-0xFF (decoded as UTF-8, invalid sequences become U+FFFD) but no other control
/// byte; obs-fold is refused; a bare LF ends a line (RFC 9112 §2.2 allows it) but a bare CR
/// does not; empty lines before the request line are skipped; at most one Host (a missing
/// one on HTTP/1.1 is answered 400 before VCL, on a connection kept open); a `Connection`
/// naming Age, Cache-Control, a conditional, Range, Content-Range or a Proxy-Auth* field is
/// 400; Expect is 100-continue or 417; the head, blank lines before it included, is at most
/// `maxHeadSize` bytes or 431.
@Suite("Request parser: request line, fields, line endings, limits")
struct RequestParserSyntaxTests {
    static let minimal = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"

    static func head(_ text: String) -> ParsedHead? { ParserProbe.parse(text).head }

    @Test("a minimal request: every part of the head, and the whole buffer consumed")
    func minimalRequest() throws {
        let parsed = ParserProbe.parse(Self.minimal)
        let head = try #require(parsed.head)
        #expect(head.method == "GET" && head.uri == "/" && head.minorVersion == 1)
        #expect(head.fields == [ParsedHead.Field(name: "Host", value: "example.com")])
        #expect(head.body == .none && head.keepAlive && !head.expectsContinue)
        #expect(parsed.consumed == Self.minimal.utf8.count)
    }

    @Test("an empty or blank-only buffer is incomplete", arguments: ["", "\r\n", "\n", "\r", "\r\n\r\n\r\n", "GET"])
    func nothingYet(_ text: String) {
        #expect(ParserProbe.parse(text) == .incomplete)
    }

    // MARK: request line

    @Test("a malformed request line: 400",
          arguments: [
            "GET  / HTTP/1.1", "GET /  HTTP/1.1", "GET\t/ HTTP/1.1", "GET /\tHTTP/1.1", "GET / HTTP/1.1 ",
            "GET / HTTP/1.1\t", " GET / HTTP/1.1", "\tGET / HTTP/1.1", "GET / http/1.1", "GET / HTTP/1.10",
            "GET / HTTP/1", "GET / HTTP/11", "GET / HTTP/1.a", "GET / HTTP/a.1", "GET / HTTPS/1.1", "GET / HTTP/1,1",
            "GET /", "GET / ", "GET", "GET HTTP/1.1", "/ HTTP/1.1", " / HTTP/1.1", "G(T / HTTP/1.1", "GET@ / HTTP/1.1",
            "G\u{0}T / HTTP/1.1", "GÉT / HTTP/1.1", "GET /a\u{0}b HTTP/1.1", "GET /a\u{7F}b HTTP/1.1",
            "GET /a\u{1}b HTTP/1.1", "GET /a\u{1B}b HTTP/1.1", "GET /a\rb HTTP/1.1", "GET /a b HTTP/1.1",
            "GET / HTTP/1.1\r", "GET / HTTP/1.1\rHost: example.com",
          ])
    func malformedRequestLine(_ line: String) {
        #expect(ParserProbe.parse("\(line)\r\nHost: example.com\r\n\r\n") == .failure(400))
    }

    @Test("an HTTP major version other than 1: 505 (Varnish: 400, varnishtest b00047)",
          arguments: ["HTTP/0.9", "HTTP/2.0", "HTTP/3.0", "HTTP/9.9", "HTTP/0.0", "HTTP/0.5"])
    func unsupportedVersion(_ version: String) {
        #expect(ParserProbe.parse("GET / \(version)\r\nHost: example.com\r\n\r\n") == .failure(505))
    }

    @Test("HTTP/1.2 and 1.9 are read as HTTP/1.1 (RFC 9110 §2.5; Varnish: 400)", arguments: ["HTTP/1.2", "HTTP/1.9"])
    func higherMinorVersion(_ version: String) {
        #expect(Self.head("GET / \(version)\r\nHost: a\r\n\r\n")?.minorVersion == 1)
    }

    @Test("request targets and methods are kept verbatim (methods are case-sensitive tokens)",
          arguments: [
            ("GET", "/"), ("OPTIONS", "*"), ("GET", "http://example.com/a?b=c#d"), ("CONNECT", "example.com:443"),
            ("get", "/lower"), ("M-SEARCH", "*"), ("PURGE", "/a/../b?x=%20&y=%2F"), ("X!#$%&'*+-.^_`|~9", "/t"),
            ("GET", "/~user/{a}|[b]\\\"c\"<d>^e`f"), ("GET", "/café"),
          ])
    func verbatimRequestLine(_ method: String, _ uri: String) throws {
        let head = try #require(Self.head("\(method) \(uri) HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(head.method == method)
        #expect(head.uri == uri)
    }

    @Test("a request target with bytes that are not UTF-8 is accepted, each bad sequence becoming U+FFFD")
    func nonUTF8Target() throws {
        let bytes = Array("GET /a".utf8) + [0xFF, 0xC3] + Array("b HTTP/1.1\r\nHost: example.com\r\n\r\n".utf8)
        #expect(ParserProbe.parse(bytes).head?.uri == "/a\u{FFFD}\u{FFFD}b")
    }

    // MARK: field lines

    @Test("a malformed field line: 400",
          arguments: [
            "X-A : b", "X-A\t: b", "X-A :b", ": b", ":", "X-A b", "X-A", "X A: b", "X\u{0}A: b", "\u{0}: b",
            "X-A: b\u{0}c", "X-A: \u{0}", "X-A: b\u{1}c", "X-A: b\u{7F}", "X-A: b\u{0B}c", "X-A: b\u{0C}c",
            "X-A: b\u{1B}[0m", "X-A: b\u{1F}", "X-A: b\rc", "X-A: b\r", "X-A: \rb", "X(A): b", "X)A: b", "X<A>: b",
            "X@A: b", "X,A: b", "X;A: b", "X\\A: b", "X\"A\": b", "X/A: b", "X[A]: b", "X?A: b", "X=A: b",
            "X{A}: b", "XÉ: b", "X-A: b\r\n c", "X-A: b\r\n\tc", "X-A: b\n c", " X-A: b", "\tX-A: b",
          ])
    func malformedField(_ line: String) {
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\nHost: example.com\r\n\(line)\r\n\r\n") == .failure(400))
    }

    @Test("whitespace right after the request line (obs-fold of nothing): 400")
    func whitespaceBeforeFirstField() {
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\n Host: example.com\r\n\r\n") == .failure(400))
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\n\tHost: example.com\r\n\r\n") == .failure(400))
    }

    @Test("field values: surrounding SP/HTAB trimmed, inner HTAB, colons and UTF-8 kept, names kept as sent",
          arguments: [
            ("X-A: b", "X-A", "b"), ("X-A:b", "X-A", "b"), ("X-A: \t b \t", "X-A", "b"), ("X-A:", "X-A", ""),
            ("X-A:   ", "X-A", ""), ("X-A: b\tc", "X-A", "b\tc"), ("X-A: b  c", "X-A", "b  c"), ("X-A: b: c", "X-A", "b: c"),
            ("x-lower: v", "x-lower", "v"), ("!#$%&'*+-.^_`|~09azAZ: v", "!#$%&'*+-.^_`|~09azAZ", "v"),
            ("X-A: café ☕", "X-A", "café ☕"), ("X-A: \"quoted, \\\"string\\\"\"", "X-A", "\"quoted, \\\"string\\\"\""),
          ])
    func fieldValues(_ line: String, _ name: String, _ value: String) throws {
        let head = try #require(Self.head("GET / HTTP/1.1\r\nHost: example.com\r\n\(line)\r\n\r\n"))
        #expect(head.fields.last == ParsedHead.Field(name: name, value: value))
    }

    @Test("a value with bytes that are not UTF-8 (obs-text) is accepted, each bad sequence becoming U+FFFD")
    func obsTextValue() {
        let bytes = Array("GET / HTTP/1.1\r\nHost: example.com\r\nX-A: caf".utf8) + [0xE9] + Array("\r\n\r\n".utf8)
        #expect(ParserProbe.parse(bytes).head?.fields.last == ParsedHead.Field(name: "X-A", value: "caf\u{FFFD}"))
    }

    @Test("fields keep their order and repeats")
    func fieldOrder() {
        let head = Self.head("GET / HTTP/1.1\r\nX-B: 1\r\nHost: example.com\r\nX-A: 2\r\nX-B: 3\r\nx-b: 4\r\n\r\n")
        #expect(head?.fields.map(\.description) == ["X-B: 1", "Host: example.com", "X-A: 2", "X-B: 3", "x-b: 4"])
    }

    // MARK: line endings

    @Test("bare LF line endings (and a mix with CRLF) give the same head as CRLF",
          arguments: [
            "GET / HTTP/1.1\nHost: example.com\n\n", "GET / HTTP/1.1\r\nHost: example.com\n\n",
            "GET / HTTP/1.1\nHost: example.com\r\n\r\n", "GET / HTTP/1.1\r\nHost: example.com\r\n\n",
            "GET / HTTP/1.1\nHost: example.com\n\r\n",
          ])
    func bareLF(_ text: String) {
        let parsed = ParserProbe.parse(text)
        #expect(parsed.head == Self.head(Self.minimal))
        #expect(parsed.consumed == text.utf8.count)
    }

    @Test("a bare CR does not end a line: the head never ends, or the line holding it is refused")
    func bareCR() {
        #expect(ParserProbe.parse("GET / HTTP/1.1\rHost: example.com\r\r") == .incomplete)
        #expect(ParserProbe.parse("GET / HTTP/1.1\rHost: example.com\r\r\n\r\n") == .failure(400))
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\nHost: example.com\r\r\n\r\n") == .failure(400))
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\nHost: example.com\r\nX-A: b\r\r\n\r\n") == .failure(400))
        // "\r\r\n" is a line holding one CR, not the empty line that ends the head.
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\nHost: example.com\r\n\r\r\n") == .incomplete)
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\nHost: example.com\r\n\r\r\n\r\n") == .failure(400))
    }

    @Test("empty lines before the request line are skipped and counted as consumed",
          arguments: ["\r\n", "\n", "\r\n\r\n", "\n\r\n\n", "\r\r\n"])
    func leadingEmptyLines(_ prefix: String) {
        let parsed = ParserProbe.parse(prefix + Self.minimal)
        #expect(parsed.head == Self.head(Self.minimal))
        #expect(parsed.consumed == prefix.utf8.count + Self.minimal.utf8.count)
    }

    // MARK: Host, Expect, Connection

    @Test("Host: at most one (it may be empty); a missing one on HTTP/1.1 is left to the request path (r02633)",
          arguments: [
            ("GET / HTTP/1.1\r\n\r\n", nil), ("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400), ("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", nil), ("GET / HTTP/1.1\r\nHost:\r\n\r\n", nil),
            ("GET / HTTP/1.1\r\nHOST: a\r\n\r\n", nil), ("GET / HTTP/1.0\r\n\r\n", nil), ("GET / HTTP/1.0\r\nHost: a\r\n\r\n", nil),
          ] as [(String, Int?)])
    func host(_ text: String, _ status: Int?) {
        let parsed = ParserProbe.parse(text)
        if let status { #expect(parsed == .failure(status)) } else { #expect(parsed.head != nil) }
    }

    @Test("Expect: 100-continue (any case) is noted on HTTP/1.1 and ignored on 1.0; any other expectation 417",
          arguments: [
            (1, "100-continue", true), (1, "100-Continue", true), (1, " 100-CONTINUE ", true), (0, "100-continue", false),
          ] as [(Int, String, Bool)])
    func expectContinue(_ minor: Int, _ value: String, _ noted: Bool) {
        let head = Self.head("POST / HTTP/1.\(minor)\r\nHost: a\r\nExpect:\(value)\r\nContent-Length: 1\r\n\r\n")
        #expect(head?.expectsContinue == noted)
    }

    @Test("an expectation other than 100-continue: 417",
          arguments: ["", "200-ok", "100-continue, foo", "100-continued", "100 continue", "100-continue;a=b"])
    func unmetExpectation(_ value: String) {
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\nHost: a\r\nExpect: \(value)\r\n\r\n") == .failure(417))
    }

    @Test("keep-alive: on by default for 1.1, off for 1.0; Connection close wins, keep-alive only matters on 1.0",
          arguments: [
            (1, nil, true), (1, "close", false), (1, "Close", false), (1, "keep-alive", true), (1, "keep-alive, close", false),
            (1, "foo,  close ", false), (1, "closed", true), (1, "upgrade", true), (0, nil, false), (0, "keep-alive", true),
            (0, "Keep-Alive", true), (0, "keep-alive, close", false), (0, "close", false), (0, "keep-alived", false),
          ] as [(Int, String?, Bool)])
    func keepAlive(_ minor: Int, _ connection: String?, _ keepAlive: Bool) {
        let field = connection.map { "Connection: \($0)\r\n" } ?? ""
        #expect(Self.head("GET / HTTP/1.\(minor)\r\nHost: a\r\n\(field)\r\n")?.keepAlive == keepAlive)
    }

    @Test("a Connection naming a field meant for every hop: 400, as Varnish (varnishtest c00016)",
          arguments: ["Age", "cache-control", "If-None-Match", "Range", "Proxy-Authorization", "foo, Age"])
    func connectionNamingEndToEndField(_ options: String) {
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: \(options)\r\n\r\n") == .failure(400))
    }

    @Test("the fields a Connection names are noted, those the head holds only")
    func connectionNamed() {
        let outcome = RequestParser(maxHeadSize: 8192).parse(
            ByteBuffer(string: "GET / HTTP/1.1\r\nHost: a\r\nFoo: 1\r\nConnection: FromVCL, foo, close\r\n\r\n"))
        guard case .head(let head, _) = outcome else {
            Issue.record("refused")
            return
        }
        #expect(head.connectionNamed == ["foo"])
    }

    @Test("before VCL: an absolute-form target gives Host and a path (r01255); Cache-Control lines combine (r00686)")
    func preparedForVCL() {
        let outcome = RequestParser(maxHeadSize: 8192).parse(ByteBuffer(string:
            "GET HTTP://www.example.com/bar?x HTTP/1.1\r\nHost: a\r\nCache-Control: froo\r\nCache-control: boz\r\n\r\n"))
        guard case .head(var head, _) = outcome else {
            Issue.record("refused")
            return
        }
        head.prepareForVCL()
        #expect(head.uri == "/bar?x")
        #expect(head.headers.values("Host") == ["www.example.com"])
        #expect(head.headers.values("Cache-Control") == ["froo, boz"])
        var bare = head
        bare.uri = "http://example.com"
        bare.prepareForVCL()
        #expect(bare.uri == "http://example.com")
    }

    @Test("two Connection fields combine")
    func twoConnectionFields() {
        #expect(Self.head("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")?.keepAlive == false)
        #expect(Self.head("GET / HTTP/1.0\r\nConnection: foo\r\nConnection: keep-alive\r\n\r\n")?.keepAlive == true)
    }

    // MARK: size limit

    /// A complete head of exactly `size` bytes (size >= 64).
    static func head(ofSize size: Int) -> String {
        let start = "GET / HTTP/1.1\r\nHost: example.com\r\nX-Pad: "
        let head = start + String(repeating: "p", count: size - start.utf8.count - 4) + "\r\n\r\n"
        precondition(head.utf8.count == size)
        return head
    }

    @Test("a head of exactly maxHeadSize bytes is parsed; one byte more is 431", arguments: [64, 100, 4096])
    func headSizeLimit(_ size: Int) {
        let text = Self.head(ofSize: size)
        #expect(ParserProbe.parse(text, maxHeadSize: size).consumed == size)
        #expect(ParserProbe.parse(text, maxHeadSize: size - 1) == .failure(431))
        // A body after the head does not count.
        #expect(ParserProbe.parse(text + String(repeating: "b", count: 2 * size), maxHeadSize: size).consumed == size)
    }

    @Test("an unfinished head is incomplete up to maxHeadSize bytes and 431 beyond")
    func unfinishedHeadLimit() {
        let text = Array(Self.head(ofSize: 200).utf8.dropLast(2))  // no empty line yet
        #expect(ParserProbe.parse(text, maxHeadSize: 198) == .incomplete)
        #expect(ParserProbe.parse(text, maxHeadSize: 197) == .failure(431))
    }

    @Test("a request line longer than maxHeadSize: 431, whether or not it has ended")
    func oversizedRequestLine() {
        let line = "GET /" + String(repeating: "a", count: 10_000)
        #expect(ParserProbe.parse(line) == .failure(431))
        #expect(ParserProbe.parse(line + " HTTP/1.1") == .failure(431))
        #expect(ParserProbe.parse(line + " HTTP/1.1\r\nHost: example.com\r\n\r\n") == .failure(431))
    }

    @Test("many fields over maxHeadSize: 431")
    func oversizedFieldSection() {
        let fields = (0..<200).map { "X-Field-\($0): \(String(repeating: "v", count: 40))\r\n" }.joined()
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\nHost: example.com\r\n\(fields)\r\n") == .failure(431))
        #expect(ParserProbe.parse("GET / HTTP/1.1\r\nHost: example.com\r\n\(fields)") == .failure(431))
    }

    @Test("empty lines before the request line count towards maxHeadSize: an endless stream of them is 431")
    func endlessEmptyLines() {
        #expect(ParserProbe.parse(String(repeating: "\r\n", count: 32), maxHeadSize: 64) == .incomplete)
        #expect(ParserProbe.parse(String(repeating: "\r\n", count: 33), maxHeadSize: 64) == .failure(431))
        #expect(ParserProbe.parse(String(repeating: "\n", count: 100_000)) == .failure(431))
        let padded = String(repeating: "\r\n", count: 8) + Self.head(ofSize: 64)
        #expect(ParserProbe.parse(padded, maxHeadSize: 80).consumed == 80)
        #expect(ParserProbe.parse(padded, maxHeadSize: 79) == .failure(431))
    }
}
