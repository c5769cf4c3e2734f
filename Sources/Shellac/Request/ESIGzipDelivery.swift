import NIOCore
import ShellacCache
import VCL

/// A gzipped ESI page delivered gzipped (Varnish's `ved_gzgz` and `ved_pretend_gzip`): one
/// gzip stream made of the page's stored deflate runs, each gzip include's deflate blocks
/// spliced in as stored (`GzipStream.piece`), and plain includes wrapped in stored blocks.
/// Nothing is compressed at delivery; only the CRC of the whole is computed, by combining.
final class ESIGzipStream {
    /// CRC-32 and length of the uncompressed page so far.
    private(set) var crc: UInt32 = 0
    private(set) var length = 0

    /// Counts `length` more uncompressed bytes with CRC `crc`.
    func add(crc more: UInt32, length added: Int) {
        guard added > 0 else { return }
        crc = GzipStream.combine(crc, more, secondLength: added)
        length += added
    }
}

extension RequestStateMachine {
    /// The ESI page is about to start: its gzip header goes out when it is gzip and so goes
    /// to this client (one that accepts gzip, or any when `http_gzip_support` is off).
    func startESIStream(_ metadata: ObjectMetadata) {
        guard esiLevel == 0, metadata.isGzip, !deliversGunzipped(metadata) else { return }
        esiGzip = ESIGzipStream()
        writeESIPart(ByteBuffer(bytes: GzipStream.header))
    }

    /// Plain bytes inside a gzip page: stored blocks, counted in the page's CRC.
    func writeStoredBlocks(_ part: ByteBuffer, into stream: ESIGzipStream) {
        guard part.readableBytes > 0 else { return }
        let crc = part.withUnsafeReadableBytes { GzipStream.crc($0) }
        writeESIPart(GzipStream.storedBlocks(part, allocator: channel.channel.allocator))
        stream.add(crc: crc, length: part.readableBytes)
    }

    /// A complete gzip object included in a gzip page: its deflate blocks, as stored.
    func writeGzipInclude(_ metadata: ObjectMetadata, chunks: ArraySlice<ByteBuffer>, object: CachedObject, into stream: ESIGzipStream) {
        guard let bits = object.gzipBits, bits.stopBit > bits.startBit else { return }
        let body = metadata.hasInlineBody ? [ByteBuffer(bytes: metadata.inlineBody)] : Array(chunks)
        for piece in GzipStream.piece(of: body, bits: bits, allocator: channel.channel.allocator) { writeESIPart(piece) }
        stream.add(crc: bits.crc, length: bits.plainLength)
    }
}
