import NIOCore

/// Splits the admin connection's bytes into request lines (without `\n` or a trailing `\r`).
/// A line longer than `maximumLength` is an error, which closes the connection.
struct AdminLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    struct LineTooLong: Error {}

    let maximumLength: Int

    init(maximumLength: Int = 64 * 1024) { self.maximumLength = maximumLength }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maximumLength { throw LineTooLong() }
            return .needMoreData
        }
        let length = newline - buffer.readableBytesView.startIndex
        guard length <= maximumLength, var line = buffer.readString(length: length) else { throw LineTooLong() }
        buffer.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
