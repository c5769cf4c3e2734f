// Runs `RequestParser` and `ChunkedDecoder` on bytes, no socket, and gives back what they
// decided in a form `#expect` can compare.

import NIOCore
@testable import Shellac

/// What `RequestParser.parse` returned.
enum Parsed: Equatable, CustomStringConvertible {
    case incomplete
    case failure(Int)
    case head(ParsedHead, consumed: Int)

    var head: ParsedHead? {
        if case .head(let head, _) = self { return head }
        return nil
    }

    var consumed: Int? {
        if case .head(_, let consumed) = self { return consumed }
        return nil
    }

    var description: String {
        switch self {
        case .incomplete: "incomplete"
        case .failure(let status): "failure(\(status))"
        case .head(let head, let consumed): "head(\(head), consumed: \(consumed))"
        }
    }
}

/// Every part of a `RequestHead`; the fields as (name, value) pairs in order.
struct ParsedHead: Equatable, CustomStringConvertible {
    var method: String
    var uri: String
    var minorVersion: Int
    var fields: [Field]
    var body: BodyFraming
    var keepAlive: Bool
    var expectsContinue: Bool

    struct Field: Equatable, CustomStringConvertible {
        var name: String
        var value: String
        var description: String { "\(name): \(value)" }
    }

    init(_ head: RequestHead) {
        method = head.method
        uri = head.uri
        minorVersion = head.minorVersion
        fields = head.headers.fields.map { Field(name: $0.name, value: $0.value) }
        body = head.body
        keepAlive = head.keepAlive
        expectsContinue = head.expectsContinue
    }

    var description: String {
        "\(method) \(uri) HTTP/1.\(minorVersion) \(fields) body=\(body) keepAlive=\(keepAlive) expectsContinue=\(expectsContinue)"
    }
}

enum ParserProbe {
    static let defaultLimit = 8192

    static func parse(_ bytes: [UInt8], maxHeadSize: Int = defaultLimit) -> Parsed {
        switch RequestParser(maxHeadSize: maxHeadSize).parse(ByteBuffer(bytes: bytes)) {
        case .incomplete: .incomplete
        case .failure(let status, _): .failure(status)
        case .head(let head, let consumed): .head(ParsedHead(head), consumed: consumed)
        }
    }

    static func parse(_ text: String, maxHeadSize: Int = defaultLimit) -> Parsed {
        parse(Array(text.utf8), maxHeadSize: maxHeadSize)
    }

    /// The outcome of every prefix of `bytes`, shortest first (the last one is `bytes` whole).
    static func prefixOutcomes(_ bytes: [UInt8], maxHeadSize: Int = defaultLimit) -> [Parsed] {
        (1...bytes.count).map { parse(Array(bytes[..<$0]), maxHeadSize: maxHeadSize) }
    }
}

/// What `ChunkedDecoder` made of a body.
struct Dechunked: Equatable, CustomStringConvertible {
    enum Verdict: Equatable { case needMore, done, failure }
    var verdict: Verdict
    /// The decoded data so far.
    var data: [UInt8]
    /// How many input bytes the decoder took (when done: the body's length on the wire).
    var consumed: Int
    /// The bytes given to the decoder that it left in the input.
    var leftover: [UInt8]

    var text: String { String(decoding: data, as: UTF8.self) }
    var description: String {
        "\(verdict) data=\(String(reflecting: text)) consumed=\(consumed) leftover=\(leftover.count) bytes"
    }

    /// Feeds `pieces` one after another to one decoder, as a connection's reads would arrive;
    /// stops at the first verdict other than needMore.
    static func decode(pieces: [ArraySlice<UInt8>]) -> Dechunked {
        var decoder = ChunkedDecoder()
        var input = ByteBuffer()
        var output = ByteBuffer()
        var verdict = Verdict.needMore
        var fed = 0
        for piece in pieces where verdict == .needMore {
            input.writeBytes(piece)
            fed += piece.count
            switch decoder.decode(&input, into: &output) {
            case .needMore: break
            case .done: verdict = .done
            case .failure: verdict = .failure
            }
        }
        return Dechunked(
            verdict: verdict, data: Array(output.readableBytesView), consumed: fed - input.readableBytes,
            leftover: Array(input.readableBytesView))
    }

    static func decode(_ bytes: [UInt8]) -> Dechunked { decode(pieces: [bytes[...]]) }
    static func decode(_ text: String) -> Dechunked { decode(Array(text.utf8)) }
    static func decodeByteByByte(_ bytes: [UInt8]) -> Dechunked { decode(pieces: bytes.indices.map { bytes[$0...$0] }) }
}
