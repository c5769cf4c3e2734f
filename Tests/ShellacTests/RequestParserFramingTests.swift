import NIOCore
import Testing
@testable import Shellac

/// How `RequestParser` decides where a request's body ends, byte by byte and without a socket:
/// the request-smuggling vectors (Content-Length with Transfer-Encoding, duplicate and odd
/// Content-Lengths, obfuscated Transfer-Encodings), pipelining, and feeding a head a byte at
/// a time. Policy (RFC 9112 §6): a request whose framing is ambiguous gets 400.
@Suite("Request parser: body framing and smuggling")
struct RequestParserFramingTests {
    /// The body framing the parser found, or the status it refused the request with.
    typealias Framing = Result<BodyFraming, FailureStatus>
    struct FailureStatus: Error, Equatable { var code: Int }

    /// A POST head with `fields` (each line ending in CRLF) after its Host line.
    static func post(_ fields: String, minor: Int = 1) -> String {
        "POST /upload HTTP/1.\(minor)\r\nHost: example.com\r\n\(fields)\r\n"
    }

    static func framing(_ request: String) -> Framing {
        switch ParserProbe.parse(request) {
        case .head(let head, _): .success(head.body)
        case .failure(let status): .failure(FailureStatus(code: status))
        case .incomplete: .failure(FailureStatus(code: 0))
        }
    }

    // MARK: Content-Length

    @Test("a Content-Length value: 1*DIGIT with optional whitespace around it, nothing else",
          arguments: [
            ("5", .length(5)), ("0", .none), ("005", .length(5)), (" 5", .length(5)), ("5 ", .length(5)),
            ("\t5\t", .length(5)), ("9223372036854775807", .length(Int.max)),
          ] as [(String, BodyFraming)])
    func validContentLength(_ value: String, _ framing: BodyFraming) {
        #expect(Self.framing(Self.post("Content-Length: \(value)\r\n")) == .success(framing))
    }

    @Test("an odd Content-Length value: 400",
          arguments: [
            "+5", "-1", "-0", "5,5", "5, 5", "5 5", "0x5", "0X5", "5a", "a5", "five", "", "   ", "1e3", "5.0", "5_0",
            "\"5\"", "9223372036854775808", "18446744073709551616", "99999999999999999999999999",
            "\u{0665}", "\u{FF15}", "5\u{0}", "5\u{0B}",
          ])
    func oddContentLength(_ value: String) {
        #expect(Self.framing(Self.post("Content-Length: \(value)\r\n")) == refused)
    }

    @Test("duplicate Content-Length fields: the same number is one field, different numbers 400",
          arguments: [
            (["5", "5"], .success(.length(5))), (["5", "05"], .success(.length(5))), (["0", "0"], .success(.none)),
            (["5", "5", "5"], .success(.length(5))), (["5", "6"], refused), (["6", "5"], refused),
            (["5", "5", "6"], refused), (["0", "5"], refused), (["5", ""], refused), (["5", "5, 5"], refused),
          ] as [([String], Framing)])
    func duplicateContentLength(_ values: [String], _ expected: Framing) {
        let request = Self.post(values.map { "Content-Length: \($0)\r\n" }.joined())
        #expect(Self.framing(request) == expected)
        if case .success = expected {
            // Only the first spelling is kept, so nothing downstream sees two.
            let kept = ParserProbe.parse(request).head?.fields.filter { $0.name == "Content-Length" }
            #expect(kept?.map(\.value) == [values[0]])
        }
    }

    @Test("Content-Length together with Transfer-Encoding, in either order and any case: 400",
          arguments: [
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
            "content-LENGTH: 5\r\ntransfer-ENCODING: Chunked\r\n",
            "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n",
            "Transfer-Encoding: identity\r\nContent-Length: 5\r\n",
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n",
          ])
    func contentLengthAndTransferEncoding(_ fields: String) {
        #expect(Self.framing(Self.post(fields)) == refused)
        #expect(Self.framing(Self.post(fields, minor: 0)) == refused)
    }

    // MARK: Transfer-Encoding

    @Test("a Transfer-Encoding whose last coding is chunked (any case, OWS trimmed, over several lines): chunked",
          arguments: [
            "chunked", "Chunked", "CHUNKED", "cHuNkEd", "chunked\t", "\tchunked", " chunked ", "gzip, chunked",
            "gzip,chunked", "gzip ,\tchunked", "identity, chunked", "chunked , ", ", chunked", "gzip\r\nTransfer-Encoding: chunked",
            "gzip\r\ntransfer-encoding: chunked",
          ])
    func chunkedTransferEncoding(_ value: String) {
        #expect(Self.framing(Self.post("Transfer-Encoding: \(value)\r\n")) == .success(.chunked))
        #expect(Self.framing(Self.post("transfer-encoding:\(value)\r\n")) == .success(.chunked))
    }

    @Test("an obfuscated or non-final chunked Transfer-Encoding: 400 (RFC 9112 §6.3)",
          arguments: [
            "chunked, identity", "chunked,identity", "identity", "gzip", "deflate, gzip", "xchunked", "chunkedx",
            "chunked-false", "x-chunked", "ch unked", "chunk ed", "chunked;q=1", "chunked; foo=bar", "\"chunked\"",
            "'chunked'", "chunked, chunked", "chunked\r\nTransfer-Encoding: chunked", "chunked\r\nTransfer-Encoding: gzip",
            "chunked\r\nTransfer-Encoding: identity", "chunked\u{0B}", "chunked\u{0C}", "\u{0B}chunked", "chunked\u{0}",
            "chunked\rX", "chunked\u{85}", "chunked\u{A0}", "chunk\u{0}ed", "chun\u{212A}ed",
          ])
    func obfuscatedTransferEncoding(_ value: String) {
        #expect(Self.framing(Self.post("Transfer-Encoding: \(value)\r\n")) == refused)
    }

    @Test("a Transfer-Encoding field with no coding at all (empty, only commas): 400, alone or with Content-Length",
          arguments: ["", " ", "\t", ",", " , ,", "\t,\t"])
    func emptyTransferEncoding(_ value: String) {
        #expect(Self.framing(Self.post("Transfer-Encoding:\(value)\r\n")) == refused)
        #expect(Self.framing(Self.post("Transfer-Encoding:\(value)\r\nContent-Length: 5\r\n")) == refused)
        #expect(Self.framing(Self.post("Content-Length: 5\r\nTransfer-Encoding:\(value)\r\n")) == refused)
    }

    @Test("a malformed Transfer-Encoding field line (space or tab before the colon, folded, leading space): 400",
          arguments: [
            "Transfer-Encoding : chunked\r\n", "Transfer-Encoding\t: chunked\r\n", "Transfer-Encoding :chunked\r\n",
            " Transfer-Encoding: chunked\r\n", "\tTransfer-Encoding: chunked\r\n",
            "X-Padding: x\r\n Transfer-Encoding: chunked\r\n", "Transfer-Encoding:\r\n chunked\r\n",
            "Transfer-Encoding: gzip,\r\n\tchunked\r\n", "Transfer-Encoding\u{0}: chunked\r\n",
            "Transfer-Encoding\r\n: chunked\r\n",
          ])
    func malformedTransferEncodingLine(_ fields: String) {
        #expect(Self.framing(Self.post(fields)) == refused)
    }

    @Test("chunked on HTTP/1.0, which has no chunked coding: 400")
    func chunkedOnHTTP10() {
        #expect(Self.framing(Self.post("Transfer-Encoding: chunked\r\n", minor: 0)) == refused)
    }

    @Test("fields that only look like framing fields are ordinary fields: no body",
          arguments: [
            "Transfer_Encoding: chunked", "X-Transfer-Encoding: chunked", "Transfer-Encodings: chunked",
            "Content_Length: 5", "Content-Length-X: 5", "TE: chunked",
          ])
    func lookalikeFramingFields(_ field: String) {
        let request = Self.post("\(field)\r\n")
        #expect(Self.framing(request) == .success(.none))
        #expect(ParserProbe.parse(request).head?.fields.last?.description == field)
    }

    @Test("a body-less method with Content-Length still has that body (it is never read as a second request)")
    func getWithBody() throws {
        let inner = "GET /inner HTTP/1.1\r\nHost: example.com\r\n\r\n"
        let head = "GET /outer HTTP/1.1\r\nHost: example.com\r\nContent-Length: \(inner.utf8.count)\r\n\r\n"
        let parsed = ParserProbe.parse(head + inner)
        #expect(parsed.head?.body == .length(inner.utf8.count))
        #expect(parsed.consumed == head.utf8.count)
    }

    // MARK: pipelining

    @Test("pipelined requests: each parse consumes exactly one head, and the rest parses as the next")
    func pipelinedHeads() throws {
        let requests = [
            "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n",
            "HEAD /b?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
            "GET /c HTTP/1.0\r\n\r\n",
            "GET /d HTTP/1.1\nHost: example.com\n\n",
            "\r\nGET /e HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
        ]
        var rest = Array(requests.joined().utf8)
        for request in requests {
            let parsed = ParserProbe.parse(rest)
            #expect(parsed.consumed == request.utf8.count, "\(request)")
            #expect(parsed.head == ParserProbe.parse(request).head)
            rest.removeFirst(try #require(parsed.consumed))
        }
        #expect(rest.isEmpty)
    }

    @Test("pipelined after bodies: a Content-Length body and a chunked body are skipped exactly, whatever they contain")
    func pipelinedAfterBodies() throws {
        let smuggled = "GET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n"
        let lengthHead = Self.post("Content-Length: \(smuggled.utf8.count)\r\n")
        let chunkedHead = Self.post("Transfer-Encoding: chunked\r\n")
        let chunkedBody = "\(String(smuggled.utf8.count, radix: 16))\r\n\(smuggled)\r\n0\r\n\r\n"
        let last = "GET /last HTTP/1.1\r\nHost: example.com\r\n\r\n"
        var rest = Array((lengthHead + smuggled + chunkedHead + chunkedBody + last).utf8)

        let first = ParserProbe.parse(rest)
        #expect(first.head?.body == .length(smuggled.utf8.count))
        #expect(first.consumed == lengthHead.utf8.count)
        rest.removeFirst(lengthHead.utf8.count + smuggled.utf8.count)

        let second = ParserProbe.parse(rest)
        #expect(second.head?.body == .chunked)
        rest.removeFirst(try #require(second.consumed))
        let body = Dechunked.decode(rest)
        #expect(body.verdict == .done)
        #expect(body.text == smuggled)

        let third = ParserProbe.parse(body.leftover)
        #expect(third.head?.uri == "/last")
        #expect(third.consumed == last.utf8.count)
    }

    // MARK: incremental input

    static let incrementalSamples: [String] = [
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Empty:\r\n\r\n",
        "\r\n\r\nGET /after-blank-lines HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET /lf HTTP/1.1\nHost: example.com\n\n",
        "GET /mixed HTTP/1.1\r\nHost: example.com\n\r\n",
        "POST /cl HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello",
        "POST /te HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "GET /10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /next HTTP/1.0\r\n\r\n",
        "GET /nohost HTTP/1.1\r\n\r\n",
        // Refused ones: the verdict comes when the head is complete, and never changes after.
        "POST /both HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
        "GET /fold HTTP/1.1\r\nHost: example.com\r\nX: a\r\n b\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: example.com\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.com\r\nExpect: teapot\r\n\r\n",
        "GET /\u{0} HTTP/1.1\r\nHost: example.com\r\n\r\n",
    ]

    @Test("fed a byte at a time: incomplete until the head's last byte, then what the whole buffer gives",
          arguments: RequestParserFramingTests.incrementalSamples)
    func byteByByte(_ request: String) throws {
        let bytes = Array(request.utf8)
        let whole = ParserProbe.parse(bytes)
        #expect(whole != .incomplete)
        let outcomes = ParserProbe.prefixOutcomes(bytes)
        let decided = try #require(outcomes.firstIndex { $0 != .incomplete })
        #expect(outcomes[decided...].allSatisfy { $0 == whole }, "the verdict changed after more bytes came")
        if let consumed = whole.consumed {
            #expect(decided + 1 == consumed, "decided after \(decided + 1) bytes, the head is \(consumed)")
        }
    }

    @Test("fed a byte at a time over the size limit: incomplete up to the limit, then 431")
    func byteByByteOverLimit() {
        let request = Array("GET /\(String(repeating: "a", count: 100)) HTTP/1.1\r\nHost: example.com\r\n\r\n".utf8)
        let outcomes = ParserProbe.prefixOutcomes(request, maxHeadSize: 64)
        #expect(outcomes[..<64].allSatisfy { $0 == .incomplete })
        #expect(outcomes[64...].allSatisfy { $0 == .failure(431) })
    }
}

private let refused = RequestParserFramingTests.Framing.failure(.init(code: 400))
