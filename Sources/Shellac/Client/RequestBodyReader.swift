import NIOCore

/// Reads one request body from the connection's bytes as they arrive: `Content-Length`
/// bytes, or a chunked body (decoded), refused past `http_req_body_max`. Each read hands
/// over the body bytes it found, so a body can stream on while it arrives.
struct RequestBodyReader {
    enum Outcome {
        /// `part` (if any bytes came) and more to come.
        case needMore(ByteBuffer?)
        /// The last `part` (if any): the body is complete.
        case complete(ByteBuffer?)
        case failure(status: Int, reason: String)
    }

    private var decoder: ChunkedDecoder?
    /// The declared length (nil for chunked).
    private let length: Int?
    private let limit: Int
    private var received = 0

    init(framing: BodyFraming, limit: Int) {
        decoder = framing == .chunked ? ChunkedDecoder() : nil
        if case .length(let length) = framing { self.length = length } else { self.length = nil }
        self.limit = limit
    }

    /// Takes what belongs to the body from `input` (leaving a pipelined next request there).
    mutating func read(from input: inout ByteBuffer) -> Outcome {
        let complete: Bool
        var part: ByteBuffer?
        if var chunked = decoder {
            var decoded = ByteBuffer()
            switch chunked.decode(&input, into: &decoded) {
            case .needMore: complete = false
            case .done: complete = true
            case .failure: return .failure(status: 400, reason: "Bad Request")
            }
            decoder = chunked
            if decoded.readableBytes > 0 { part = decoded }
        } else {
            let length = self.length ?? 0
            let take = min(length - received, input.readableBytes)
            if take > 0 { part = input.readSlice(length: take) }
            complete = received + take == length
        }
        received += part?.readableBytes ?? 0
        if received > limit { return .failure(status: 413, reason: "Content Too Large") }
        return complete ? .complete(part) : .needMore(part)
    }
}
