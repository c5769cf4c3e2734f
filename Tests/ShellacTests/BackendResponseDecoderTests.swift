import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Shellac

/// Backend responses read byte by byte, as RFC 9112 and Varnish read them (no sockets).
@Suite("Backend response decoder")
struct BackendResponseDecoderTests {
    /// What a decoder made of `bytes` (sent in pieces of `piece` bytes) after a request with
    /// `method`: the parts, and the error it reported, if any. `close` ends with a closed
    /// connection.
    struct Outcome {
        var heads: [HTTPResponseHead] = []
        var body = ""
        var ends: [Bool] = []
        var error: String?
    }

    static func decode(_ text: String, method: HTTPMethod = .GET, piece: Int = .max, close: Bool = false) throws -> Outcome {
        let channel = EmbeddedChannel(handler: BackendResponseDecoder())
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: "/")))
        var outcome = Outcome()
        let bytes = Array(text.utf8)
        var offset = 0
        do {
            while offset < bytes.count {
                let end = min(bytes.count, offset + piece)
                try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
                offset = end
            }
            if close { try channel.close().wait() }
        } catch {
            outcome.error = "\(error)"
        }
        while let part = try channel.readInbound(as: BackendResponsePart.self) {
            switch part {
            case .head(let head): outcome.heads.append(head)
            case .body(let buffer): outcome.body += String(buffer: buffer)
            case .end(let reusable): outcome.ends.append(reusable)
            }
        }
        _ = try? channel.finish()
        return outcome
    }

    @Test("HTTP/1.0 with bare LF line ends and a body ended by the close (varnishtest b00011)")
    func bareLFAndCloseDelimited() throws {
        let text = "HTTP/1.0 200 OK\nConnection: close\n\nBody line 1\nBody line 2\nBody line 3\n"
        for piece in [Int.max, 1, 7] {
            let outcome = try Self.decode(text, piece: piece, close: true)
            #expect(outcome.error == nil)
            #expect(outcome.heads.map(\.status.code) == [200])
            #expect(outcome.body.utf8.count == 36)
            #expect(outcome.ends == [false])
        }
    }

    @Test("Content-Length bodies, in one read or byte by byte; the connection stays reusable")
    func contentLength() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello"
        for piece in [Int.max, 1] {
            let outcome = try Self.decode(text, piece: piece)
            #expect(outcome.body == "hello" && outcome.ends == [true] && outcome.error == nil)
            #expect(outcome.heads.first?.headers["X-A"] == ["b"])
        }
    }

    @Test("chunked with bare LF, extensions and trailers")
    func chunked() throws {
        let text = "HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n\n5;ext=1\nhello\n6\r\n world\r\n0\nX-Trailer: t\n\n"
        for piece in [Int.max, 1, 3] {
            let outcome = try Self.decode(text, piece: piece)
            #expect(outcome.body == "hello world" && outcome.ends == [true] && outcome.error == nil, "piece \(piece)")
        }
    }

    @Test("Content-Length with Transfer-Encoding is refused: no head reaches the fetch")
    func contentLengthAndTransferEncoding() throws {
        let outcome = try Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        #expect(outcome.heads.isEmpty)
        #expect(outcome.error?.contains("Transfer-Encoding") == true)
    }

    @Test("1xx interim responses are skipped; the final one is read", arguments: [Int.max, 1])
    func interim(_ piece: Int) throws {
        let outcome = try Self.decode(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            piece: piece)
        #expect(outcome.heads.map(\.status.code) == [200] && outcome.body == "ok" && outcome.ends == [true])
    }

    @Test("no body on 204 and 304, nor after HEAD, whatever the fields say")
    func noBody() throws {
        for status in ["204 No Content", "304 Not Modified"] {
            let outcome = try Self.decode("HTTP/1.1 \(status)\r\nContent-Length: 10\r\n\r\n")
            #expect(outcome.heads.count == 1 && outcome.body.isEmpty && outcome.ends == [true], "\(status)")
        }
        let head = try Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", method: .HEAD)
        #expect(head.heads.count == 1 && head.body.isEmpty && head.ends == [true])
    }

    @Test("a bogus status line, or a status outside 100-999, is an error",
          arguments: ["HTTP/1.1 2000 OK", "HTTP/1.1 99 Low", "HTTP/2.0 200 OK", "HTTPS/1.1 200 OK", "garbage", "HTTP/1.1 20x OK"])
    func bogusStatusLine(_ line: String) throws {
        let outcome = try Self.decode("\(line)\r\nContent-Length: 0\r\n\r\n")
        #expect(outcome.heads.isEmpty && outcome.error != nil, "\(line)")
    }

    @Test("a status of 999 is accepted, and a reason may be empty")
    func edgeStatuses() throws {
        let outcome = try Self.decode("HTTP/1.1 999\r\nContent-Length: 0\r\n\r\n")
        #expect(outcome.heads.map(\.status.code) == [999] && outcome.ends == [true])
    }

    @Test("reuse: Connection: close and HTTP/1.0 without keep-alive end it; HTTP/1.0 keep-alive keeps it")
    func reuse() throws {
        #expect(try Self.decode("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx").ends == [false])
        #expect(try Self.decode("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx").ends == [false])
        #expect(try Self.decode("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx").ends == [true])
        // Bytes past the response that no request asked for spoil the connection.
        #expect(try Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA").ends == [false])
    }

    @Test("bad chunking is an error", arguments: ["zz\r\n", "5\r\nhelloXX", "-1\r\n", "5 junk\r\nhello\r\n0\r\n\r\n"])
    func badChunks(_ body: String) throws {
        let outcome = try Self.decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        #expect(outcome.error != nil && outcome.ends.isEmpty, "\(body)")
    }

    @Test("an empty or malformed Content-Length or Transfer-Encoding is an error (varnishtest r01014)",
          arguments: ["Content-Length:", "Content-Length: 5, 6", "Content-Length: abc", "Content-Length: -1", "Transfer-Encoding:"])
    func badFraming(_ field: String) throws {
        let outcome = try Self.decode("HTTP/1.1 200 OK\r\n\(field)\r\n\r\nhello", close: true)
        #expect(outcome.heads.isEmpty && outcome.error != nil, "\(field)")
    }

    @Test("obs-fold: each byte of the fold becomes a space (varnishtest r00494); a line without a colon is an error")
    func foldingAndBadLines() throws {
        let folded = try Self.decode("HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\nContent-Length: 0\r\n\r\n")
        #expect(folded.heads.first?.headers["X-Long"] == ["one    two"])
        let bare = try Self.decode("HTTP/1.1 200 OK\r\nFoo: bar,\n \t\n\tbarf: fail\r\nContent-Length: 0\r\n\r\n")
        #expect(bare.heads.first?.headers["Foo"] == ["bar,     barf: fail"])
        let first = try Self.decode("HTTP/1.1 200 OK\r\n X: y\r\nContent-Length: 0\r\n\r\n")
        #expect(first.heads.isEmpty && first.error != nil)
        let bad = try Self.decode("HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n")
        #expect(bad.heads.isEmpty && bad.error != nil)
    }

    @Test("a response cut short before its Content-Length ends the fetch without an end")
    func cutShort() throws {
        let outcome = try Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", close: true)
        #expect(outcome.body == "abc" && outcome.ends.isEmpty)
    }
}
