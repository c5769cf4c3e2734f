import NIOCore

/// An ESI page stored gzipped (Varnish's `esi_gzip` fetch filter): the page's verbatim runs
/// are deflated one by one, each ending on a full flush, so that delivery sends them as they
/// are stored, between its includes, in one gzip stream. The stored body is itself a valid
/// gzip of the page without its includes.
public enum ESIGzip {
    /// `document`'s verbatim runs of `plain` deflated: the new stored body, the document
    /// pointing into it, and its bits.
    public static func compress(
        _ plain: [UInt8], document: ESIDocument, level: Int, bufferSize: Int, allocator: ByteBufferAllocator
    ) throws -> (body: [ByteBuffer], document: ESIDocument, bits: GzipBits) {
        let gzipper = try Gzipper(level: level, bufferSize: bufferSize, allocator: allocator)
        var body: [ByteBuffer] = []
        var segments: [ESIDocument.Segment] = []
        segments.reserveCapacity(document.segments.count)
        for segment in document.segments {
            switch segment {
            case .verbatim(let range) where !range.isEmpty:
                var input = allocator.buffer(capacity: range.count)
                input.writeBytes(plain[range])
                let crc = input.withUnsafeReadableBytes { GzipStream.crc($0) }
                // The header goes out with the first output: a run starts past it.
                let start = max(gzipper.compressedLength, GzipStream.header.count)
                gzipper.push(input) { body.append($0) }
                gzipper.endPiece { body.append($0) }
                segments.append(.compressed(start..<gzipper.compressedLength, crc: crc, plainLength: range.count))
            case .verbatim, .compressed:
                break
            case .include:
                segments.append(segment)
            }
        }
        let bits = try gzipper.finish { body.append($0) }
        return (body, ESIDocument(segments: segments), bits)
    }
}
