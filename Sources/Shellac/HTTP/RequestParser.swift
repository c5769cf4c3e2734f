#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import VCL

/// Parses HTTP/1.x request heads straight from the connection's bytes (RFC 9112).
///
/// Strict where laxness lets requests be smuggled past the proxy: both Content-Length and
/// Transfer-Encoding, differing duplicate Content-Lengths, a Transfer-Encoding that does not end
/// in chunked (an empty one included), obsolete line folding, whitespace before a colon, control
/// characters, and a `Connection` naming a field meant for every hop are all refused with 400
/// (an HTTP major version other than 1 with 505; a missing Host on HTTP/1.1 gets its 400
/// before VCL runs, on a connection that stays open). A bare LF ends a line (RFC 9112 §2.2); a bare CR does not.
/// Tests/ShellacTests/RequestParser*Tests.swift list the whole policy byte by byte.
public struct RequestParser: Sendable {
    public enum Outcome: Sendable {
        case incomplete
        case head(RequestHead, consumed: Int)
        case failure(status: Int, reason: String)
    }

    public var maxHeadSize: Int
    /// `http_req_hdr_len`: the longest field line, without its line end (400 beyond).
    public var maxFieldLineLength = Int.max

    public init(maxHeadSize: Int) {
        self.maxHeadSize = maxHeadSize
    }

    public func parse(_ buffer: ByteBuffer) -> Outcome {
        buffer.withUnsafeReadableBytes { bytes in parse(bytes) }
    }

    func parse(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        // RFC 9112 §2.2: ignore at least one empty line before the request line. They count
        // towards the size limit, or an endless stream of them would be buffered for ever.
        var start = 0
        while start < bytes.count, bytes[start] == .cr || bytes[start] == .lf { start += 1 }
        guard let end = findHeadEnd(bytes, from: start) else {
            if bytes.count > maxHeadSize { return .failure(status: 431, reason: "Request Header Fields Too Large") }
            return .incomplete
        }
        if end.headLength > maxHeadSize { return .failure(status: 431, reason: "Request Header Fields Too Large") }

        var lines = LineReader(bytes: bytes, position: start, limit: end.headLength)
        guard let requestLine = lines.next() else { return .failure(status: 400, reason: "Bad Request") }
        guard let (method, uri, minor) = parseRequestLine(bytes, requestLine) else {
            return .failure(status: 400, reason: "Bad Request")
        }
        // (Varnish answers 400 to every version but 1.0 and 1.1: docs/rfc-vs-varnish.md.)
        if minor < 0 { return .failure(status: 505, reason: "HTTP Version Not Supported") }

        var headers = HeaderList()
        var contentLength: Int?
        var transferEncoding: [Substring] = []
        var hasTransferEncoding = false
        var hostCount = 0
        var connectionClose = false
        var connectionKeepAlive = false
        var expectsContinue = false
        var connectionOptions: [Substring] = []
        while let line = lines.next() {
            if line.isEmpty { break }
            if line.count > maxFieldLineLength { return .failure(status: 400, reason: "Bad Request") }
            guard let (name, value) = parseField(bytes, line) else { return .failure(status: 400, reason: "Bad Request") }
            if name.equalsIgnoringASCIICase("content-length") {
                guard let length = Self.parseContentLength(value) else { return .failure(status: 400, reason: "Bad Request") }
                if let earlier = contentLength, earlier != length { return .failure(status: 400, reason: "Bad Request") }
                if contentLength != nil { continue }  // identical duplicate: keep one
                contentLength = length
            } else if name.equalsIgnoringASCIICase("transfer-encoding") {
                hasTransferEncoding = true
                for coding in value.split(separator: ",") {
                    let trimmed = coding.trimmingOWS()
                    if !trimmed.isEmpty { transferEncoding.append(trimmed) }
                }
            } else if name.equalsIgnoringASCIICase("host") {
                hostCount += 1
            } else if name.equalsIgnoringASCIICase("connection") {
                for option in value.split(separator: ",") {
                    let token = option.trimmingOWS()
                    if token.equalsIgnoringASCIICase("close") { connectionClose = true }
                    if token.equalsIgnoringASCIICase("keep-alive") { connectionKeepAlive = true }
                    // RFC 9110 §7.6.1: a field meant for every recipient is no connection
                    // option; Varnish refuses the request rather than drop such a field.
                    if HopByHop.endToEndOnly.contains(where: { token.equalsIgnoringASCIICase($0) }) {
                        return .failure(status: 400, reason: "Bad Request")
                    }
                    if !token.isEmpty { connectionOptions.append(token) }
                }
            } else if name.equalsIgnoringASCIICase("expect") {
                guard value.trimmingOWS().equalsIgnoringASCIICase("100-continue") else {
                    return .failure(status: 417, reason: "Expectation Failed")
                }
                // Answered here (Varnish unsets it before vcl_recv): not for VCL or a backend.
                expectsContinue = true
                continue
            }
            headers.add(name, value)
        }

        if hostCount > 1 { return .failure(status: 400, reason: "Bad Request") }
        var body = BodyFraming.none
        if hasTransferEncoding {
            // RFC 9112 §6.1: both headers is a smuggling attempt; a final coding other than
            // chunked (or none at all: an empty field) cannot be delimited; and HTTP/1.0 has
            // no chunked.
            guard contentLength == nil, minor == 1,
                let last = transferEncoding.last, last.equalsIgnoringASCIICase("chunked"),
                transferEncoding.dropLast().allSatisfy({ !$0.equalsIgnoringASCIICase("chunked") })
            else { return .failure(status: 400, reason: "Bad Request") }
            body = .chunked
        } else if let contentLength, contentLength > 0 {
            body = .length(contentLength)
        }
        let keepAlive = minor == 1 ? !connectionClose : (connectionKeepAlive && !connectionClose)
        var head = RequestHead(
            method: method, uri: uri, minorVersion: minor, headers: headers, body: body,
            expectsContinue: expectsContinue && minor == 1, keepAlive: keepAlive)
        head.headLength = end.headLength
        if !connectionOptions.isEmpty {
            head.connectionNamed = connectionOptions.map(String.init).filter { headers.contains($0) }
        }
        return .head(head, consumed: end.headLength)
    }

    /// Finds the blank line ending the head; returns the offset just past it.
    private func findHeadEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (headLength: Int, Void)? {
        var index = start
        let count = bytes.count
        while index < count {
            guard let lf = memchrIndex(bytes, UInt8.lf, from: index) else { return nil }
            // A line ends at lf; the head ends when the next line is empty ("\r\n" or "\n").
            let next = lf + 1
            if next < count, bytes[next] == .lf { return (next + 1, ()) }
            if next + 1 < count, bytes[next] == .cr, bytes[next + 1] == .lf { return (next + 2, ()) }
            if next >= count || (next + 1 >= count && bytes[next] == .cr) { return nil }
            index = next
        }
        return nil
    }

    private func parseRequestLine(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>) -> (String, String, Int)? {
        // method SP request-target SP HTTP-version
        var cursor = line.lowerBound
        while cursor < line.upperBound, bytes[cursor].isTokenCharacter { cursor += 1 }
        guard cursor > line.lowerBound, cursor < line.upperBound, bytes[cursor] == .space else { return nil }
        let methodRange = line.lowerBound..<cursor
        cursor += 1
        let uriStart = cursor
        while cursor < line.upperBound, bytes[cursor] > 0x20, bytes[cursor] != 0x7f { cursor += 1 }
        guard cursor > uriStart, cursor < line.upperBound, bytes[cursor] == .space else { return nil }
        let uriRange = uriStart..<cursor
        cursor += 1
        guard line.upperBound - cursor == 8,
            bytes[cursor] == UInt8(ascii: "H"), bytes[cursor + 1] == UInt8(ascii: "T"),
            bytes[cursor + 2] == UInt8(ascii: "T"), bytes[cursor + 3] == UInt8(ascii: "P"),
            bytes[cursor + 4] == UInt8(ascii: "/"), bytes[cursor + 6] == UInt8(ascii: "."),
            bytes[cursor + 5].isDigit, bytes[cursor + 7].isDigit
        else { return nil }
        let major = Int(bytes[cursor + 5] - UInt8(ascii: "0"))
        let minor = Int(bytes[cursor + 7] - UInt8(ascii: "0"))
        // RFC 9110 §2.5: a higher minor version of a major one we implement is read as the
        // highest we know (HTTP/1.2 as 1.1); another major version is refused (505).
        let version = major == 1 ? min(minor, 1) : -1
        return (string(bytes, methodRange), string(bytes, uriRange), version)
    }

    private func parseField(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>) -> (String, String)? {
        var cursor = line.lowerBound
        // Obsolete line folding and a field name starting with whitespace are refused.
        while cursor < line.upperBound, bytes[cursor].isTokenCharacter { cursor += 1 }
        guard cursor > line.lowerBound, cursor < line.upperBound, bytes[cursor] == .colon else { return nil }
        let name = string(bytes, line.lowerBound..<cursor)
        cursor += 1
        var valueStart = cursor
        var valueEnd = line.upperBound
        while valueStart < valueEnd, bytes[valueStart] == .space || bytes[valueStart] == .tab { valueStart += 1 }
        while valueEnd > valueStart, bytes[valueEnd - 1] == .space || bytes[valueEnd - 1] == .tab { valueEnd -= 1 }
        for index in valueStart..<valueEnd where !bytes[index].isFieldContent { return nil }
        return (name, string(bytes, valueStart..<valueEnd))
    }

    private func string(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// 1*DIGIT, no sign, no spaces inside, no overflow.
    static func parseContentLength(_ value: String) -> Int? {
        var result = 0
        var digits = 0
        for byte in value.utf8 {
            guard byte.isDigit else { return nil }
            let (times, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            result = sum
            digits += 1
        }
        return digits > 0 ? result : nil
    }
}

/// Walks the lines of a head; each line's range excludes its CRLF (or bare LF).
struct LineReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let limit: Int

    mutating func next() -> Range<Int>? {
        guard position < limit, let lf = memchrIndex(bytes, .lf, from: position), lf < limit else { return nil }
        var end = lf
        if end > position, bytes[end - 1] == .cr { end -= 1 }
        defer { position = lf + 1 }
        return position..<end
    }
}

@inline(__always)
func memchrIndex(_ bytes: UnsafeRawBufferPointer, _ byte: UInt8, from start: Int) -> Int? {
    guard start < bytes.count, let base = bytes.baseAddress else { return nil }
    guard let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
    return base.distance(to: UnsafeRawPointer(found))
}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")

    var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }

    /// SP, HTAB, VCHAR or obs-text: any byte but the other control bytes (RFC 9110 §5.5).
    var isFieldContent: Bool { self == .tab || (self >= 0x20 && self != 0x7f) }

    /// RFC 9110 §5.6.2 tchar.
    var isTokenCharacter: Bool { tokenTable[Int(self)] }
}

private let tokenTable: [Bool] = (0..<256).map { value in
    let byte = UInt8(value)
    if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { return true }
    if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { return true }
    if byte.isDigit { return true }
    return "!#$%&'*+-.^_`|~".utf8.contains(byte)
}

extension Substring {
    func trimmingOWS() -> Substring {
        var slice = self
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return slice
    }
}

extension String {
    func trimmingOWS() -> Substring { Substring(self).trimmingOWS() }
}
