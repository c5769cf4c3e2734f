import NIOCore

/// An ESI page stored gzipped (Varnish's `esi_gzip` fetch filter): the page's verbatim runs
/// are deflated one by one, each ending on a full flush, so that delivery sends them as they
/// are stored, between its includes, in one gzip stream. The bytes between them (the ESI
/// markup) are deflated as runs of their own that delivery skips, so the stored body is a
/// valid gzip of the whole page as the backend sent it (what `resp.do_esi = false` sends).
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
        /// Deflates `range` of the page as a run of its own; returns where it is stored.
        func run(_ range: Range<Int>) -> Range<Int> {
            var input = allocator.buffer(capacity: range.count)
            input.writeBytes(plain[range])
            // The header goes out with the first output: a run starts past it.
            let start = max(gzipper.compressedLength, GzipStream.header.count)
            gzipper.push(input) { body.append($0) }
            gzipper.endPiece { body.append($0) }
            return start..<gzipper.compressedLength
        }
        // An empty flushed block first, as Varnish's ESI parser starts its stream: the
        // stored bytes (and so Content-Length when the page holds no ESI) are Varnish's.
        gzipper.endPiece { body.append($0) }
        var cursor = 0
        for segment in document.segments {
            switch segment {
            case .verbatim(let range) where !range.isEmpty:
                if cursor < range.lowerBound { _ = run(cursor..<range.lowerBound) }  // markup: skipped
                let crc = plain[range].withUnsafeBytes { GzipStream.crc($0) }
                segments.append(.compressed(run(range), crc: crc, plainLength: range.count))
                cursor = range.upperBound
            case .verbatim, .compressed:
                break
            case .include:
                segments.append(segment)
            }
        }
        if cursor < plain.count { _ = run(cursor..<plain.count) }
        let bits = try gzipper.finish { body.append($0) }
        return (body, ESIDocument(segments: segments), bits)
    }
}
