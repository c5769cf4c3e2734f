import CZlib
import NIOCore

/// Deflates a body into gzip as it arrives (zlib, raw deflate under a header and trailer of
/// our own: the same bytes zlib's gzip mode, and Varnish, make). zlib does not say where its
/// last block starts and ends, so the output is inflated on the side as it is made to learn
/// the `GzipBits` (inflating costs a fraction of deflating). With `endPiece()` the output so
/// far becomes a piece that stands alone (a full flush), which is how an ESI page's segments
/// are stored.
public final class Gzipper {
    private let stream: UnsafeMutablePointer<z_stream>
    private let bufferSize: Int
    private let allocator: ByteBufferAllocator
    /// Compressed bytes written so far, the header included.
    public private(set) var compressedLength = 0
    /// The CRC and length of the uncompressed input so far.
    public private(set) var crc: UInt32 = 0
    public private(set) var plainLength = 0
    private var wroteHeader = false
    /// Reads the output back for its bits.
    private let tracker: Gunzipper

    public init(level: Int = 6, memoryLevel: Int = 8, bufferSize: Int = 32768, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws {
        self.bufferSize = max(bufferSize, 512)
        self.allocator = allocator
        tracker = try Gunzipper(tracksBits: true, bufferSize: 16384, allocator: allocator)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard shellac_deflateInit2(stream, Int32(min(max(level, 0), 9)), -15, Int32(min(max(memoryLevel, 1), 9))) == Z_OK else {
            stream.deallocate()
            throw GzipError("deflateInit2 failed")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Compresses `input`; full buffers go to `output` (the header first, once).
    public func push(_ input: ByteBuffer, output: (ByteBuffer) -> Void) {
        guard input.readableBytes > 0 else { return }
        input.withUnsafeReadableBytes { raw in
            crc = GzipStream.crc(raw, continuing: crc)
            plainLength += raw.count
            stream.pointee.next_in = UnsafeMutablePointer(mutating: raw.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(raw.count)
            run(flush: Z_NO_FLUSH, output: output)
            stream.pointee.next_in = nil
        }
    }

    /// Flushes to a byte boundary with no back-references across it (`Z_FULL_FLUSH`): what
    /// follows can be sent after other pieces.
    public func endPiece(output: (ByteBuffer) -> Void) {
        run(flush: Z_FULL_FLUSH, output: output)
    }

    /// Ends the stream: zlib's final block, then the trailer. Returns the bits.
    public func finish(output: (ByteBuffer) -> Void) throws -> GzipBits {
        run(flush: Z_FINISH, output: output)
        var trailer = allocator.buffer(capacity: 8)
        trailer.writeInteger(crc, endianness: .little)
        trailer.writeInteger(UInt32(truncatingIfNeeded: plainLength), endianness: .little)
        emit(trailer, output: output)
        return try tracker.finish()
    }

    private func emit(_ buffer: ByteBuffer, output: (ByteBuffer) -> Void) {
        compressedLength += buffer.readableBytes
        // Our own output: it always inflates (a failure would show in `finish`).
        try? tracker.push(buffer) { _ in }
        output(buffer)
    }

    private func run(flush: Int32, output: (ByteBuffer) -> Void) {
        var out = allocator.buffer(capacity: bufferSize)
        if !wroteHeader {
            wroteHeader = true
            out.writeBytes(GzipStream.header)
        }
        while true {
            var full = false
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: 64) { buffer in
                stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(buffer.count)
                _ = deflate(stream, flush)
                full = stream.pointee.avail_out == 0
                let produced = buffer.count - Int(stream.pointee.avail_out)
                stream.pointee.next_out = nil
                stream.pointee.avail_out = 0
                return produced
            }
            if out.readableBytes >= bufferSize {
                emit(out, output: output)
                out = allocator.buffer(capacity: bufferSize)
            }
            // Done when zlib took all input and had room to spare (so nothing is pending).
            if !full && stream.pointee.avail_in == 0 { break }
        }
        if out.readableBytes > 0 { emit(out, output: output) }
    }
}
