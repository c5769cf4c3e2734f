import NIOCore
import Testing
@testable import Shellac

/// `ChunkedDecoder` byte by byte, no socket. Policy: sizes of 1-15 hex digits; after a size
/// only whitespace and well-formed extensions (`;name`, `;name=token`, `;name="quoted"`);
/// every line ends in CRLF, never a bare LF or CR; the data is followed by exactly CRLF;
/// trailer lines are field lines (dropped); a line holds at most 4096 bytes. Anything else
/// is a failure (the connection handler answers 400). Whatever the reads' sizes, the verdict
/// is the same.
@Suite("Chunked request body decoder")
struct ChunkedDecoderTests {
    /// Decodes `body` whole, then a byte at a time and in random pieces, and expects the same
    /// verdict and data each time (and, when done, the same length on the wire).
    static func decodeEveryWay(_ body: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Dechunked {
        let whole = Dechunked.decode(body)
        var random = SeededGenerator(seed: UInt64(body.count))
        var splits: [[ArraySlice<UInt8>]] = [body.indices.map { body[$0...$0] }]
        for _ in 0..<4 { splits.append(random.pieces(of: body, upTo: 7)) }
        for pieces in splits {
            let split = Dechunked.decode(pieces: pieces)
            #expect(split.verdict == whole.verdict, "split into \(pieces.count) pieces", sourceLocation: sourceLocation)
            #expect(split.data == whole.data, "split into \(pieces.count) pieces", sourceLocation: sourceLocation)
            if whole.verdict == .done {
                #expect(split.consumed == whole.consumed, sourceLocation: sourceLocation)
            }
        }
        return whole
    }

    static func decodeEveryWay(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Dechunked {
        decodeEveryWay(Array(text.utf8), sourceLocation: sourceLocation)
    }

    /// Decodes `body` every way and expects `verdict` with `data` decoded so far.
    static func expectDecoding(_ body: String, _ verdict: Dechunked.Verdict, data: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let decoded = decodeEveryWay(body, sourceLocation: sourceLocation)
        #expect(decoded.verdict == verdict, sourceLocation: sourceLocation)
        #expect(decoded.text == data, sourceLocation: sourceLocation)
        if verdict == .done {
            #expect(decoded.consumed == body.utf8.count, "the body ends after its last CRLF", sourceLocation: sourceLocation)
        }
    }

    // MARK: accepted

    @Test("well-formed bodies decode to their data and end exactly after the last CRLF",
          arguments: [
            ("0\r\n\r\n", ""), ("5\r\nhello\r\n0\r\n\r\n", "hello"), ("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"),
            ("A\r\n0123456789\r\n0\r\n\r\n", "0123456789"), ("a\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
            ("00005\r\nhello\r\n0000\r\n\r\n", "hello"), ("1\r\n\n\r\n1\r\n\r\r\n0\r\n\r\n", "\n\r"),
            ("7\r\n0\r\n\r\nab\r\n0\r\n\r\n", "0\r\n\r\nab"), ("5 \r\nhello\r\n0\t\r\n\r\n", "hello"),
            ("5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"), ("5 ;a\r\nhello\r\n0\r\n\r\n", "hello"),
            ("5\t;\ta\t=\tb\t\r\nhello\r\n0\r\n\r\n", "hello"), ("5;a;b=c;d=\"\";e=\"q;u\\\"o\\\\\"\r\nhello\r\n0\r\n\r\n", "hello"),
            ("5;a=\"caf\u{E9}\"\r\nhello\r\n0\r\n\r\n", "hello"),
            ("0\r\nX-Trailer: v\r\nOther:\r\nChecksum: a\tb\r\n\r\n", ""),
          ])
    func wellFormed(_ body: String, _ data: String) {
        Self.expectDecoding(body, .done, data: data)
    }

    @Test("bytes after the body stay in the input for the next request")
    func leftoverIsTheNextRequest() {
        let next = "GET /next HTTP/1.1\r\nHost: example.com\r\n\r\n"
        let decoded = Dechunked.decode("3\r\nabc\r\n0\r\nT: 1\r\n\r\n" + next)
        #expect(decoded.verdict == .done)
        #expect(decoded.text == "abc")
        #expect(decoded.leftover == Array(next.utf8))
    }

    @Test("every byte value passes through as data")
    func binaryData() {
        let data = (0...255).map { UInt8($0) } + (0...255).reversed().map { UInt8($0) }
        let body = Array("100\r\n".utf8) + data[..<256] + Array("\r\n100;x\r\n".utf8) + data[256...] + Array("\r\n0\r\n\r\n".utf8)
        let decoded = Self.decodeEveryWay(body)
        #expect(decoded.verdict == .done)
        #expect(decoded.data == data)
    }

    @Test("a size of 15 hex digits is taken (the data is then awaited)")
    func fifteenDigitSize() {
        var decoder = ChunkedDecoder()
        var input = ByteBuffer(string: "fffffffffffffff\r\nabc")
        var output = ByteBuffer()
        #expect(decoder.decode(&input, into: &output) == .needMore)
        #expect(String(buffer: output) == "abc")
        guard case .data(let remaining) = decoder.state else {
            Issue.record("state is \(decoder.state)")
            return
        }
        #expect(remaining == 0xFFF_FFFF_FFFF_FFFF - 3)
    }

    @Test("an unfinished body asks for more and gives the data so far",
          arguments: [
            ("", ""), ("5", ""), ("5;ext", ""), ("5\r", ""), ("5\r\n", ""), ("5\r\nhel", "hel"), ("5\r\nhello", "hello"),
            ("5\r\nhello\r", "hello"), ("5\r\nhello\r\n", "hello"), ("5\r\nhello\r\n0", "hello"),
            ("5\r\nhello\r\n0\r\n", "hello"), ("5\r\nhello\r\n0\r\nX: 1\r\n", "hello"), ("5\r\nhello\r\n0\r\n\r", "hello"),
          ])
    func unfinished(_ body: String, _ data: String) {
        Self.expectDecoding(body, .needMore, data: data)
    }

    // MARK: refused

    @Test("a bad chunk size: failure",
          arguments: [
            "", " 5", "\t5", "-1", "-0", "+5", "0x5", "0X5", "x5", "5g", "g", "G", "5 5", "5,5", "5.0", "5_0", "\u{0665}",
            "\u{FF15}", "5\u{0}", "\u{0}5", "5\r", "5\u{0B}", "5\u{0C}", "1000000000000000", "ffffffffffffffff",
            "0000000000000005", "99999999999999999999999999", "5 x", "5\tx", "5 =a", "5;", "5; ", "5;;a", "5;=", "5;=b",
            "5;a=", "5;a= ", "5;a=\"", "5;a=\"x", "5;a=\"x\"y", "5;a=\"x\\", "5;a b", "5;a=b c", "5;a=b=c", "5;a\u{0}",
            "5;a=\u{1}", "5;a=\"\u{7F}\"", "5;a=\"\u{0}\"", "5;a=\"x\\\u{0}\"", "5;a\rb", "5;(a)", "5;a=(b)", "5;a,b",
          ])
    func badChunkSize(_ line: String) {
        let decoded = Self.decodeEveryWay(line + "\r\nhello\r\n0\r\n\r\n")
        #expect(decoded.verdict == .failure)
        #expect(decoded.data.isEmpty)
    }

    @Test("a bare LF (or CR) instead of CRLF anywhere in the framing: failure",
          arguments: [
            "5\nhello\r\n0\r\n\r\n", "5;ext\nhello\r\n0\r\n\r\n", "5;a=\"\n\"\r\nhello\r\n0\r\n\r\n", "5\r\nhello\n0\r\n\r\n",
            "5\r\nhello\r\n0\n\r\n", "5\r\nhello\r\n0\r\n\n", "5\r\nhello\r\n0\r\nX: 1\n\r\n", "5\rhello\r\n0\r\n\r\n",
            "5\r\nhello\r0\r\n\r\n", "5\r\nhello\r\n0\r\r\n\r\n", "5\r\nhello\r\n0\r\n\r\r\n", "5\n\nhello\r\n0\r\n\r\n",
          ])
    func bareLineEndings(_ body: String) {
        #expect(Self.decodeEveryWay(body).verdict == .failure)
    }

    @Test("chunk data not followed by exactly CRLF (a size that lies, extra bytes): failure, after the data it announced",
          arguments: [
            ("5\r\nhelloX\r\n0\r\n\r\n", "hello"), ("5\r\nhello0\r\n\r\n", "hello"), ("5\r\nhello \r\n0\r\n\r\n", "hello"),
            ("3\r\nhello\r\n0\r\n\r\n", "hel"), ("5\r\nhell\r\n0\r\n\r\n", "hell\r"), ("5\r\nhello\r\r\n0\r\n\r\n", "hello"),
            ("5\r\nhello\u{0}\r\n0\r\n\r\n", "hello"), ("1\r\nab\r\n0\r\n\r\n", "a"),
          ])
    func badDataEnd(_ body: String, _ data: String) {
        Self.expectDecoding(body, .failure, data: data)
    }

    @Test("a trailer line that is not a field line: failure",
          arguments: [
            "bad trailer", ": v", "X : v", "X", " X: folded", "\tX: v", "X: a\u{0}b", "X: a\u{7F}", "X: a\rb", "X(Y): v",
            "X: 1\r\n continued",
          ])
    func badTrailer(_ line: String) {
        #expect(Self.decodeEveryWay("0\r\n\(line)\r\n\r\n").verdict == .failure)
    }

    // MARK: line length

    static let maxLine = 4096

    @Test("a size line of 4096 bytes is read; one byte more fails, with or without its CRLF yet")
    func sizeLineLength() {
        let fitting = "5;a=" + String(repeating: "b", count: Self.maxLine - 4)
        #expect(Self.decodeEveryWay(fitting + "\r\nhello\r\n0\r\n\r\n").text == "hello")
        let over = fitting + "b"
        #expect(Self.decodeEveryWay(over + "\r\nhello\r\n0\r\n\r\n").verdict == .failure)
        #expect(Self.decodeEveryWay(over + "\r").verdict == .failure)
        #expect(Dechunked.decode(fitting + "\r").verdict == .needMore)
        #expect(Dechunked.decode(String(repeating: "0", count: 100_000)).verdict == .failure)
    }

    @Test("a trailer line of 4096 bytes is read; one byte more fails; many short trailers are fine")
    func trailerLineLength() {
        let fitting = "X: " + String(repeating: "v", count: Self.maxLine - 3)
        #expect(Self.decodeEveryWay("0\r\n\(fitting)\r\n\r\n").verdict == .done)
        #expect(Self.decodeEveryWay("0\r\n\(fitting)v\r\n\r\n").verdict == .failure)
        let many = String(repeating: "X: v\r\n", count: 2000)
        #expect(Dechunked.decode("0\r\n\(many)\r\n").verdict == .done)
    }

    @Test("a huge chunk arriving in small reads is passed on as it comes, without waiting for the end")
    func streamedChunk() {
        var decoder = ChunkedDecoder()
        var input = ByteBuffer(string: "100000\r\n")
        var output = ByteBuffer()
        let piece = [UInt8](repeating: 0x61, count: 4096)
        for round in 1...256 {
            input.writeBytes(piece)
            #expect(decoder.decode(&input, into: &output) == .needMore)
            #expect(output.readableBytes == round * 4096 && input.readableBytes == 0)
        }
        input.writeString("\r\n0\r\n\r\n")
        #expect(decoder.decode(&input, into: &output) == .done)
        #expect(output.readableBytes == 0x100000)
    }
}
