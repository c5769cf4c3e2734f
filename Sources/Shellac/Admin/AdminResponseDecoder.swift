import NIOCore

/// Reads CLI responses (header line, body, newline) off a connection: the client side.
struct AdminResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = AdminResponse

    struct MalformedResponse: Error, CustomStringConvertible {
        let header: String
        var description: String { "not a CLI response header: \(header.debugDescription)" }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= AdminResponse.headerLength,
              let header = buffer.getString(at: buffer.readerIndex, length: AdminResponse.headerLength) else {
            return .needMoreData
        }
        guard header.hasSuffix("\n"), let (status, length) = AdminResponse.parseHeader(String(header.dropLast())) else {
            throw MalformedResponse(header: header)
        }
        let total = AdminResponse.headerLength + length + 1
        guard buffer.readableBytes >= total else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: AdminResponse.headerLength)
        let body = buffer.readString(length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(AdminResponse(status: status, body: body)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
