import NIOCore

/// The PROXY protocol header (HAProxy's, versions 1 and 2) a listener with `,PROXY` expects
/// before the first request: who the real client and server are, behind a TLS terminator or
/// load balancer. `LOCAL` / `UNKNOWN` headers keep the connection's own addresses.
enum ProxyHeader {
    enum Outcome: Equatable {
        case needMore
        /// The header is `length` bytes; the addresses it carries, if any.
        case complete(length: Int, client: SocketAddress?, server: SocketAddress?)
        case invalid
    }

    private static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    static func parse(_ buffer: ByteBuffer) -> Outcome {
        let bytes = buffer.readableBytesView
        guard let first = bytes.first else { return .needMore }
        if first == 0x0D { return parseV2(buffer) }
        guard first == UInt8(ascii: "P") else { return .invalid }
        // Version 1: one line of at most 107 bytes, `PROXY TCP4|TCP6|UNKNOWN ...\r\n`.
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            return bytes.count > 107 ? .invalid : .needMore
        }
        let length = newline - bytes.startIndex + 1
        guard length <= 107, length >= 2, bytes[newline - 1] == UInt8(ascii: "\r") else { return .invalid }
        let line = String(decoding: bytes[bytes.startIndex..<(newline - 1)], as: UTF8.self)
        let words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard words.first == "PROXY", words.count >= 2 else { return .invalid }
        if words[1] == "UNKNOWN" { return .complete(length: length, client: nil, server: nil) }
        guard words.count == 6, words[1] == "TCP4" || words[1] == "TCP6",
              let sourcePort = Int(words[4]), let destinationPort = Int(words[5]),
              (0...65535).contains(sourcePort), (0...65535).contains(destinationPort),
              let client = try? SocketAddress(ipAddress: words[2], port: sourcePort),
              let server = try? SocketAddress(ipAddress: words[3], port: destinationPort)
        else { return .invalid }
        return .complete(length: length, client: client, server: server)
    }

    /// Version 2: the signature, version and command, family, a 16-bit length, addresses.
    private static func parseV2(_ buffer: ByteBuffer) -> Outcome {
        guard buffer.readableBytes >= 16 else {
            let have = Array(buffer.readableBytesView)
            return Array(v2Signature.prefix(have.count)) == Array(have.prefix(12)) ? .needMore : .invalid
        }
        guard let head = buffer.getBytes(at: buffer.readerIndex, length: 16), Array(head.prefix(12)) == v2Signature,
              head[12] >> 4 == 2 else { return .invalid }
        let command = head[12] & 0x0F
        let family = head[13]
        let bodyLength = Int(head[14]) << 8 | Int(head[15])
        let length = 16 + bodyLength
        guard buffer.readableBytes >= length else { return .needMore }
        guard command == 1 else { return command == 0 ? .complete(length: length, client: nil, server: nil) : .invalid }
        guard let body = buffer.getBytes(at: buffer.readerIndex + 16, length: bodyLength) else { return .invalid }
        func port(_ at: Int) -> Int { Int(body[at]) << 8 | Int(body[at + 1]) }
        switch family {
        case 0x11 where bodyLength >= 12:  // TCP over IPv4
            let source = body[0..<4].map(String.init).joined(separator: ".")
            let destination = body[4..<8].map(String.init).joined(separator: ".")
            return .complete(length: length, client: try? SocketAddress(ipAddress: source, port: port(8)),
                             server: try? SocketAddress(ipAddress: destination, port: port(10)))
        case 0x21 where bodyLength >= 36:  // TCP over IPv6
            func text(_ range: Range<Int>) -> String {
                stride(from: range.lowerBound, to: range.upperBound, by: 2)
                    .map { String(Int(body[$0]) << 8 | Int(body[$0 + 1]), radix: 16) }.joined(separator: ":")
            }
            return .complete(length: length, client: try? SocketAddress(ipAddress: text(0..<16), port: port(32)),
                             server: try? SocketAddress(ipAddress: text(16..<32), port: port(34)))
        default:
            return .complete(length: length, client: nil, server: nil)  // UNSPEC or a family we keep as is
        }
    }
}
