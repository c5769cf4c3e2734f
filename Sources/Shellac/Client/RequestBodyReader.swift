import NIOCore

/// Reads one request body from the connection's bytes as they arrive: `Content-Length`
/// bytes, or a chunked body (decoded), refused past `http_req_body_max`.
struct RequestBodyReader {
    enum Outcome {
        case needMore
        case complete(ByteBuffer)
        case failure(status: Int, reason: String)
    }

    private var body: ByteBuffer
    private var decoder: ChunkedDecoder?
    /// The declared length (nil for chunked).
    private let length: Int?
    private let limit: Int

    init(framing: BodyFraming, limit: Int, allocator: ByteBufferAllocator) {
        body = allocator.buffer(capacity: 0)
        decoder = framing == .chunked ? ChunkedDecoder() : nil
        if case .length(let length) = framing { self.length = length } else { self.length = nil }
        self.limit = limit
    }

    /// Takes what belongs to the body from `input` (leaving a pipelined next request there).
    mutating func read(from input: inout ByteBuffer) -> Outcome {
        let complete: Bool
        if var chunked = decoder {
            switch chunked.decode(&input, into: &body) {
            case .needMore: complete = false
            case .done: complete = true
            case .failure: return .failure(status: 400, reason: "Bad Request")
            }
            decoder = chunked
        } else {
            let length = self.length ?? 0
            let take = min(length - body.readableBytes, input.readableBytes)
            if var slice = input.readSlice(length: take) { body.writeBuffer(&slice) }
            complete = body.readableBytes == length
        }
        if body.readableBytes > limit { return .failure(status: 413, reason: "Content Too Large") }
        return complete ? .complete(body) : .needMore
    }
}
