// A byte-level HTTP/1.1 client for tests that need to control the exact bytes on the wire:
// request smuggling, pipelining, slowloris, `Expect: 100-continue`, HEAD.
//
// It connects with NIO, collects every byte the server sends into a buffer, and parses
// responses out of that buffer on demand. Every wait is bounded by a timeout.

import Foundation
import NIOCore
import NIOPosix
import Synchronization

public final class RawHTTPClient: Sendable {
    public struct Header: Sendable, Equatable, CustomStringConvertible {
        public let name: String
        public let value: String
        public var description: String { "\(name): \(value)" }
    }

    /// One parsed response.
    public struct Response: Sendable, CustomStringConvertible {
        /// "HTTP/1.1"
        public let version: String
        public let status: Int
        public let reason: String
        public let headers: [Header]
        /// The decoded body (chunk framing removed).
        public let body: [UInt8]
        /// Chunk trailers, when the body was chunked.
        public let trailers: [Header]
        /// How the body was framed.
        public let framing: Framing
        /// The body pieces as the server framed them (one per chunk when chunked).
        public let chunkSizes: [Int]
        /// The exact bytes of this response on the wire.
        public let raw: [UInt8]

        public enum Framing: Sendable, Equatable { case none, contentLength, chunked, closeDelimited }

        public var bodyString: String { String(decoding: body, as: UTF8.self) }
        public var isInformational: Bool { status >= 100 && status < 200 }
        /// First value of a header (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
        /// Every value of a header (case-insensitive), in order.
        public func headers(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }
        /// Whether the comma-separated `Connection` header lists `close`.
        public var saysClose: Bool {
            headers("connection").flatMap { $0.split(separator: ",") }
                .contains { $0.trimmedOWS().lowercased() == "close" }
        }
        public var description: String {
            "\(version) \(status) \(reason) \(headers) body=\(body.count) bytes"
        }
    }

    public enum ClientError: Error, CustomStringConvertible {
        case timeout(waitingFor: String, received: String)
        case closedBeforeResponse(received: String)
        case malformed(String)
        case notConnected

        public var description: String {
            switch self {
            case .timeout(let what, let received): "timed out waiting for \(what); unread bytes: \(received.debugDescription)"
            case .closedBeforeResponse(let received): "connection closed before a full response; unread bytes: \(received.debugDescription)"
            case .malformed(let why): "malformed response: \(why)"
            case .notConnected: "not connected"
            }
        }
    }

    struct State {
        var received: [UInt8] = []
        var consumed = 0
        var peerClosed = false
        var closedAt: ContinuousClock.Instant?
        var error: String?
    }

    final class Box: Sendable {
        let state = Mutex(State())
    }

    private let channel: any Channel
    private let box: Box
    public let port: Int

    private init(channel: any Channel, box: Box, port: Int) {
        self.channel = channel
        self.box = box
        self.port = port
    }

    /// Opens a TCP connection to `host:port` (loopback only).
    public static func connect(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(2)) async throws -> RawHTTPClient {
        precondition(host == "127.0.0.1" || host == "::1" || host == "localhost", "loopback only")
        let box = Box()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout.timeAmount)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(box: box))
                }
            }
            .connect(host: host, port: port).get()
        return RawHTTPClient(channel: channel, box: box, port: port)
    }

    // MARK: sending

    public func send(_ text: String) async throws {
        try await send(bytes: Array(text.utf8))
    }

    public func send(bytes: [UInt8]) async throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try await channel.writeAndFlush(buffer)
    }

    /// Half-closes: the server sees end of input, the client can still read.
    public func shutdownOutput() async throws {
        try await channel.close(mode: .output)
    }

    /// Closes the connection. Safe to call twice.
    public func close() async {
        try? await channel.close()
    }

    // MARK: reading

    /// Whether the server closed (or reset) the connection.
    public var isClosedByPeer: Bool { box.state.withLock { $0.peerClosed } }
    /// When the connection was seen closed, if it was.
    public var closedAt: ContinuousClock.Instant? { box.state.withLock { $0.closedAt } }
    /// Every byte received so far, parsed or not.
    public var receivedBytes: [UInt8] { box.state.withLock { $0.received } }
    /// Bytes received but not yet returned as part of a response.
    public var unreadBytes: [UInt8] { box.state.withLock { Array($0.received[$0.consumed...]) } }
    public var unreadString: String { String(decoding: unreadBytes, as: UTF8.self) }

    /// Reads the next response (interim 1xx responses included, one at a time).
    /// Pass `forHEAD: true` when the request was HEAD (the response then has no body).
    public func readResponse(forHEAD: Bool = false, timeout: Duration = .seconds(5)) async throws -> Response {
        let deadline = ContinuousClock.now + timeout
        // Bounded by the deadline: one parse attempt every 2 ms.
        while true {
            // Parse and look at the closed flag under one lock, so bytes that arrive just
            // before the close are never mistaken for "closed without a response".
            let (outcome, closed): (ParseOutcome, Bool) = box.state.withLock { state in
                let result = RawHTTPClient.parse(state.received, from: state.consumed, forHEAD: forHEAD, peerClosed: state.peerClosed)
                if case .complete(_, let end) = result { state.consumed = end }
                return (result, state.peerClosed)
            }
            switch outcome {
            case .complete(let response, _):
                return response
            case .malformed(let why):
                throw ClientError.malformed(why)
            case .needMore:
                if closed {
                    throw ClientError.closedBeforeResponse(received: unreadString)
                }
            }
            if ContinuousClock.now >= deadline {
                throw ClientError.timeout(waitingFor: "a response", received: unreadString)
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Reads `count` responses in order; `forHEAD[i]` says whether request i was HEAD.
    public func readResponses(_ count: Int, forHEAD: [Bool] = [], timeout: Duration = .seconds(5)) async throws -> [Response] {
        let deadline = ContinuousClock.now + timeout
        var out: [Response] = []
        for i in 0..<count {
            let left = deadline - ContinuousClock.now
            out.append(try await readResponse(forHEAD: i < forHEAD.count ? forHEAD[i] : false, timeout: max(left, .zero)))
        }
        return out
    }

    /// Waits up to `timeout` for the server to close the connection; returns whether it did.
    public func waitForClose(timeout: Duration = .seconds(5)) async -> Bool {
        await pollUntil(timeout: timeout) { self.isClosedByPeer }
    }

    /// Waits until at least `count` unread bytes are present (or the peer closed / timeout);
    /// returns the unread bytes without consuming them.
    public func waitForBytes(_ count: Int = 1, timeout: Duration = .seconds(5)) async -> [UInt8] {
        _ = await pollUntil(timeout: timeout) {
            self.box.state.withLock { $0.received.count - $0.consumed >= count || $0.peerClosed }
        }
        return unreadBytes
    }

    /// One request, one response, connection closed: the usual shape of a smuggling test.
    public static func exchange(port: Int, _ request: String, forHEAD: Bool = false, timeout: Duration = .seconds(5)) async throws -> Response {
        let client = try await connect(port: port)
        do {
            try await client.send(request)
            let response = try await client.readResponse(forHEAD: forHEAD, timeout: timeout)
            await client.close()
            return response
        } catch {
            await client.close()
            throw error
        }
    }

    // MARK: parsing

    enum ParseOutcome {
        case needMore
        case complete(Response, end: Int)
        case malformed(String)
    }

    /// Parses one response from `bytes[start...]`.
    static func parse(_ bytes: [UInt8], from start: Int, forHEAD: Bool, peerClosed: Bool) -> ParseOutcome {
        guard let headEnd = find([13, 10, 13, 10], in: bytes, from: start) else {
            if bytes.count - start > 1 << 20 { return .malformed("no end of headers in 1 MiB") }
            return .needMore
        }
        let headText = String(decoding: bytes[start..<headEnd], as: UTF8.self)
        let lines = headText.components(separatedBy: "\r\n")
        guard let statusLine = lines.first else { return .malformed("empty head") }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]), parts[1].count == 3 else {
            return .malformed("bad status line \(statusLine.debugDescription)")
        }
        let reason = parts.count > 2 ? String(parts[2]) : ""
        var headers: [Header] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return .malformed("bad header line \(line.debugDescription)") }
            headers.append(Header(name: String(line[..<colon]),
                                  value: line[line.index(after: colon)...].trimmedOWS()))
        }
        let bodyStart = headEnd + 4
        func header(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name }.map(\.value)
        }
        func make(_ body: [UInt8], _ trailers: [Header], _ framing: Response.Framing, _ sizes: [Int], end: Int) -> ParseOutcome {
            .complete(Response(version: String(parts[0]), status: status, reason: reason, headers: headers,
                               body: body, trailers: trailers, framing: framing, chunkSizes: sizes,
                               raw: Array(bytes[start..<end])), end: end)
        }

        if forHEAD || (status >= 100 && status < 200) || status == 204 || status == 304 {
            return make([], [], .none, [], end: bodyStart)
        }
        let te = header("transfer-encoding").joined(separator: ",").lowercased()
        if te.split(separator: ",").last.map({ $0.trimmedOWS() }) == "chunked" {
            var body: [UInt8] = []
            var sizes: [Int] = []
            var pos = bodyStart
            // Bounded by the number of bytes received: every iteration consumes at least 3 bytes.
            while true {
                guard let lineEnd = find([13, 10], in: bytes, from: pos) else { return .needMore }
                let sizeLine = String(decoding: bytes[pos..<lineEnd], as: UTF8.self)
                let sizeText = sizeLine.split(separator: ";", maxSplits: 1).first.map { $0.trimmedOWS() } ?? ""
                guard let size = Int(sizeText, radix: 16), size >= 0 else {
                    return .malformed("bad chunk size \(sizeLine.debugDescription)")
                }
                pos = lineEnd + 2
                if size == 0 {
                    var trailers: [Header] = []
                    while true {
                        guard let tEnd = find([13, 10], in: bytes, from: pos) else { return .needMore }
                        if tEnd == pos { return make(body, trailers, .chunked, sizes, end: pos + 2) }
                        let line = String(decoding: bytes[pos..<tEnd], as: UTF8.self)
                        if let colon = line.firstIndex(of: ":") {
                            trailers.append(Header(name: String(line[..<colon]),
                                                   value: line[line.index(after: colon)...].trimmedOWS()))
                        }
                        pos = tEnd + 2
                    }
                }
                guard bytes.count >= pos + size + 2 else { return .needMore }
                body.append(contentsOf: bytes[pos..<(pos + size)])
                sizes.append(size)
                guard bytes[pos + size] == 13, bytes[pos + size + 1] == 10 else {
                    return .malformed("chunk data not followed by CRLF")
                }
                pos += size + 2
            }
        }
        let lengths = Set(header("content-length").flatMap { $0.split(separator: ",") }.map { $0.trimmedOWS() })
        if !lengths.isEmpty {
            guard lengths.count == 1, let text = lengths.first, let length = Int(text), length >= 0 else {
                return .malformed("bad Content-Length \(lengths)")
            }
            guard bytes.count >= bodyStart + length else { return .needMore }
            return make(Array(bytes[bodyStart..<(bodyStart + length)]), [], .contentLength, [length], end: bodyStart + length)
        }
        guard peerClosed else { return .needMore }
        return make(Array(bytes[bodyStart...]), [], .closeDelimited, [bytes.count - bodyStart], end: bytes.count)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count > 0, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == needle[0] {
                var match = true
                for j in 1..<needle.count where haystack[i + j] != needle[j] {
                    match = false
                    break
                }
                if match { return i }
            }
            i += 1
        }
        return nil
    }

    // MARK: channel handler

    final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let box: Box

        init(box: Box) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                box.state.withLock { $0.received.append(contentsOf: bytes) }
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, event == .inputClosed {
                markClosed(error: nil)
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            markClosed(error: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            markClosed(error: "\(error)")
            context.close(promise: nil)
        }

        private func markClosed(error: String?) {
            box.state.withLock {
                if !$0.peerClosed {
                    $0.peerClosed = true
                    $0.closedAt = .now
                }
                if let error, $0.error == nil { $0.error = error }
            }
        }
    }
}

private extension StringProtocol {
    /// Drops leading and trailing spaces and tabs (HTTP optional whitespace).
    func trimmedOWS() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
