import NIOCore
import NIOHTTP1

/// One piece of a backend response.
enum BackendResponsePart {
    case head(HTTPResponseHead)
    case body(ByteBuffer)
    /// The response is complete; `reusable` says whether the connection may serve another.
    case end(reusable: Bool)
}

/// A backend response that cannot be read: the fetch fails (503) and the connection closes.
struct BackendResponseError: Error, CustomStringConvertible {
    var description: String
}

/// Reads backend responses the way RFC 9112 and Varnish read them. Written here rather than
/// taken from NIOHTTP1 because its decoder refuses what Varnish accepts from a backend (a bare
/// LF as line end, RFC 9112 §2.2) and has no say over the rules below:
/// - 1xx interim responses (but 101) are skipped; a status outside 100–999 is an error;
/// - no body after a HEAD request, nor on 1xx, 204 or 304, whatever the fields say;
/// - Content-Length together with Transfer-Encoding is an error (RFC 9112 §6.1: smuggling);
/// - chunked when the last coding is chunked; otherwise Content-Length; otherwise (or for a
///   Transfer-Encoding that is not chunked) the body ends when the connection closes;
/// - obs-fold: each byte of the line break and of the whitespace after it becomes a space, as
///   Varnish reads it (RFC 9112 §5.2); a line without a colon is an error;
/// - several Cache-Control or Vary lines become one, joined with ", " (as Varnish collects them);
/// - `Connection: close`, HTTP/1.0 without keep-alive, a close-delimited body, or bytes past
///   the end of a response make the connection unfit for reuse.
///
/// It watches the requests going out to know which answer a HEAD.
final class BackendResponseDecoder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = BackendResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case head
        case length(remaining: Int)
        /// The request side's decoder, reading line ends as a backend may write them.
        case chunked(ChunkedDecoder)
        case untilClose
        /// An error was reported; everything else is dropped.
        case failed
    }

    /// The largest response head and the longest field line accepted (`http_resp_size` and
    /// `http_resp_hdr_len`, read per head: `param.set` applies to the next response).
    private let limits: @Sendable () -> (headSize: Int, lineLength: Int)

    init(limits: @escaping @Sendable () -> (headSize: Int, lineLength: Int) = { (32 * 1024, 8 * 1024) }) {
        self.limits = limits
    }

    private var state = State.head
    private var buffer: ByteBuffer?
    /// Methods of the requests sent and not yet answered, oldest first.
    private var pendingMethods: [HTTPMethod] = []
    private var keepAlive = true

    // MARK: - Outbound: note each request's method

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head(let head) = unwrapOutboundIn(data) { pendingMethods.append(head.method) }
        context.write(data, promise: promise)
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if case .failed = state { return }
        buffer.setOrWriteBuffer(&bytes)
        decode(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .untilClose = state {
            // The close ends a close-delimited body.
            if var rest = buffer, rest.readableBytes > 0, let slice = rest.readSlice(length: rest.readableBytes) {
                context.fireChannelRead(wrapInboundOut(.body(slice)))
            }
            buffer = nil
            state = .head
            context.fireChannelRead(wrapInboundOut(.end(reusable: false)))
        } else if case .head = state, let rest = buffer, rest.readableBytes > 0 {
            // The backend closed part way into a response head: it did answer, so the fetch
            // must not be retried (Varnish retries only when nothing at all was received).
            buffer = nil
            state = .failed
            context.fireErrorCaught(BackendResponseError(description: "backend closed in the middle of the response head"))
        }
        context.fireChannelInactive()
    }

    /// What one decoding step did.
    private enum Step {
        case needMore
        case progress
        /// The response is complete; `reusable` unless the response itself says otherwise.
        case complete(reusable: Bool)
        case failed
    }

    private func decode(context: ChannelHandlerContext) {
        while var input = buffer, input.readableBytes > 0 {
            buffer = nil
            let step = decodeStep(&input, context: context)
            buffer = input.readableBytes > 0 ? input : nil
            switch step {
            case .needMore:
                return
            case .progress:
                continue
            case .complete(let reusable):
                state = .head
                // Bytes no request asked for: the connection is not fit for another exchange.
                let leftover = buffer != nil
                buffer = nil
                context.fireChannelRead(wrapInboundOut(.end(reusable: reusable && !leftover)))
            case .failed:
                buffer = nil
                return
            }
        }
    }

    private func decodeStep(_ input: inout ByteBuffer, context: ChannelHandlerContext) -> Step {
        switch state {
        case .head:
            return decodeHead(&input, context: context)
        case .length(let remaining):
            let take = min(remaining, input.readableBytes)
            if let slice = input.readSlice(length: take) { context.fireChannelRead(wrapInboundOut(.body(slice))) }
            if take == remaining { return .complete(reusable: keepAlive) }
            state = .length(remaining: remaining - take)
            return .progress
        case .chunked(var decoder):
            var body = context.channel.allocator.buffer(capacity: input.readableBytes)
            let outcome = decoder.decode(&input, into: &body)
            state = .chunked(decoder)
            if body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
            switch outcome {
            case .needMore: return .needMore
            case .done: return .complete(reusable: keepAlive)
            case .failure: return fail("bad chunked body", context: context)
            }
        case .untilClose:
            if let slice = input.readSlice(length: input.readableBytes) {
                context.fireChannelRead(wrapInboundOut(.body(slice)))
            }
            return .progress
        case .failed:
            return .failed
        }
    }

    /// A whole head (or an interim one skipped), or `.needMore`.
    private func decodeHead(_ input: inout ByteBuffer, context: ChannelHandlerContext) -> Step {
        let (maxHeadSize, maxLineLength) = limits()
        guard let headLength = Self.headLength(input) else {
            return input.readableBytes > maxHeadSize ? fail("response head too large", context: context) : .needMore
        }
        guard headLength <= maxHeadSize, var head = input.readSlice(length: headLength) else {
            return fail("response head too large", context: context)
        }
        Self.unfold(&head)
        guard let statusLine = Self.readLine(&head, limit: headLength),
            let (version, status, reason) = Self.parseStatusLine(statusLine)
        else { return fail("bad status line", context: context) }
        var headers = HTTPHeaders()
        while let line = Self.readLine(&head, limit: headLength), line.readableBytes > 0 {
            // (A folded line counts whole, its fold bytes made spaces: as varnishd measures it.)
            guard line.readableBytes <= maxLineLength else { return fail("header line too long", context: context) }
            let text = String(buffer: line)
            // (After `unfold`, only a first field line can start with whitespace: an error below.)
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex,
                !text[..<colon].contains(where: { $0 == " " || $0 == "\t" })
            else { return fail("bad header line", context: context) }
            headers.add(name: String(text[..<colon]), value: String(text[text.index(after: colon)...].trimmingOWS()))
        }
        if (100..<200).contains(status) && status != 101 { return .progress }  // interim: the final one follows
        for name in ["Cache-Control", "Vary"] {
            let values = headers[name]
            if values.count > 1 { headers.replaceOrAdd(name: name, value: values.joined(separator: ", ")) }
        }
        let method = pendingMethods.isEmpty ? .GET : pendingMethods.removeFirst()
        keepAlive = Self.isKeepAlive(version: version, headers: headers)
        let framing = Self.framing(status: status, method: method, headers: headers)
        switch framing {
        case .failure(let reason): return fail(reason, context: context)
        case .none, .length(0): state = .head
        case .length(let length): state = .length(remaining: length)
        case .chunked: state = .chunked(ChunkedDecoder(acceptsBareLF: true))
        case .untilClose:
            keepAlive = false
            state = .untilClose
        }
        let response = HTTPResponseHead(
            version: version, status: HTTPResponseStatus(statusCode: status, reasonPhrase: reason), headers: headers)
        context.fireChannelRead(wrapInboundOut(.head(response)))
        if case .head = state { return .complete(reusable: keepAlive) }
        return .progress
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) -> Step {
        state = .failed
        buffer = nil
        context.fireErrorCaught(BackendResponseError(description: reason))
        return .failed
    }

    // MARK: - Syntax

    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        case untilClose
        case failure(String)
    }

    static func framing(status: Int, method: HTTPMethod, headers: HTTPHeaders) -> Framing {
        if method == .HEAD || !ResponseStatus.hasBody(status) { return .none }
        // Every comma-separated element of every field line, empty ones kept: an empty
        // Content-Length or Transfer-Encoding is an error, not an absent one.
        func elements(_ name: String) -> [Substring] {
            headers[name].flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { $0.trimmingOWS() }
        }
        let lengths = elements("content-length")
        let codings = elements("transfer-encoding")
        if headers.contains(name: "transfer-encoding") {
            if headers.contains(name: "content-length") { return .failure("both Content-Length and Transfer-Encoding") }
            if codings.contains(where: \.isEmpty) { return .failure("bad Transfer-Encoding") }
            return codings.last.map { $0.lowercased() == "chunked" } == true ? .chunked : .untilClose
        }
        guard let first = lengths.first else { return .untilClose }
        guard lengths.allSatisfy({ $0 == first }), first.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), first.utf8.count <= 18,
            let length = Int(first)
        else { return .failure("bad Content-Length") }
        return .length(length)
    }

    static func isKeepAlive(version: HTTPVersion, headers: HTTPHeaders) -> Bool {
        let tokens = headers[canonicalForm: "connection"].map { $0.lowercased() }
        if tokens.contains("close") { return false }
        return version.minor >= 1 || tokens.contains("keep-alive")
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason]`, status 100–999.
    static func parseStatusLine(_ line: ByteBuffer) -> (HTTPVersion, Int, String)? {
        let text = String(buffer: line)
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[0].count == 8,
            let minor = parts[0].last?.wholeNumberValue,
            parts[1].count == 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let status = Int(parts[1]),
            status >= 100
        else { return nil }
        return (HTTPVersion(major: 1, minor: minor), status, parts.count > 2 ? String(parts[2]) : "")
    }

    /// The length of the head (through its empty line), if it is all there. A line ends with
    /// LF, with or without CR before it.
    static func headLength(_ input: ByteBuffer) -> Int? {
        input.withUnsafeReadableBytes { bytes -> Int? in
            var index = 0
            var lineStart = 0
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\n") {
                    let length = index - lineStart
                    if length == 0 || (length == 1 && bytes[lineStart] == UInt8(ascii: "\r")) {
                        if lineStart > 0 { return index + 1 }
                    }
                    lineStart = index + 1
                }
                index += 1
            }
            return nil
        }
    }

    /// obs-fold as Varnish reads it: the CR and LF ending a field line that a line starting
    /// with SP or HTAB follows become spaces, and so does that whitespace, so the value runs
    /// on. The status line is left alone (a first field line starting with whitespace stays
    /// an error). Copies the head only when it folds.
    static func unfold(_ head: inout ByteBuffer) {
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let lf = UInt8(ascii: "\n")
        let folds = head.withUnsafeReadableBytes { bytes -> Bool in
            guard let statusEnd = bytes.firstIndex(of: lf) else { return false }
            var index = statusEnd + 1
            while index + 1 < bytes.count {
                if bytes[index] == lf, isBlank(bytes[index + 1]) { return true }
                index += 1
            }
            return false
        }
        guard folds else { return }
        head.withUnsafeMutableReadableBytes { bytes in
            guard let statusEnd = bytes.firstIndex(of: lf) else { return }
            var index = statusEnd + 1
            while index + 1 < bytes.count {
                guard bytes[index] == lf, isBlank(bytes[index + 1]) else {
                    index += 1
                    continue
                }
                if bytes[index - 1] == UInt8(ascii: "\r") { bytes[index - 1] = UInt8(ascii: " ") }
                bytes[index] = UInt8(ascii: " ")
                index += 1
                while index < bytes.count, isBlank(bytes[index]) {
                    bytes[index] = UInt8(ascii: " ")
                    index += 1
                }
            }
        }
    }

    /// The next line without its LF (and CR), or nil when no LF comes within `limit` bytes.
    static func readLine(_ input: inout ByteBuffer, limit: Int) -> ByteBuffer? {
        let view = input.readableBytesView
        guard let lf = view.prefix(limit + 1).firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let length = lf - view.startIndex
        guard var line = input.readSlice(length: length) else { return nil }
        input.moveReaderIndex(forwardBy: 1)
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        return line
    }
}
