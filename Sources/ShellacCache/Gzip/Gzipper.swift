import CZlib
import NIOCore

/// Deflates a body into gzip as it arrives (zlib, raw deflate under a header and trailer of
/// our own). The stream is closed with a flush and an empty final stored block rather than
/// zlib's own ending, so the `GzipBits` are known without inflating the result. With
/// `endPiece()` the output so far becomes a piece that stands alone (a full flush), which is
/// how an ESI page's segments are stored.
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

    public init(level: Int = 6, memoryLevel: Int = 8, bufferSize: Int = 32768, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws {
        self.bufferSize = max(bufferSize, 512)
        self.allocator = allocator
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

    /// Ends the stream: a flush, the final empty block and the trailer. Returns the bits.
    public func finish(output: (ByteBuffer) -> Void) -> GzipBits {
        run(flush: Z_SYNC_FLUSH, output: output)
        let lastBit = compressedLength * 8
        var tail = allocator.buffer(capacity: 13)
        tail.writeBytes(GzipStream.tail(crc: crc, length: plainLength))
        compressedLength += tail.readableBytes
        output(tail)
        return GzipBits(
            startBit: GzipStream.header.count * 8, lastBit: lastBit, stopBit: lastBit + 3 + 5 + 32,
            crc: crc, plainLength: plainLength)
    }

    private func run(flush: Int32, output: (ByteBuffer) -> Void) {
        var out = allocator.buffer(capacity: bufferSize)
        if !wroteHeader {
            wroteHeader = true
            out.writeBytes(GzipStream.header)
            compressedLength += GzipStream.header.count
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
                compressedLength += produced
                return produced
            }
            if out.readableBytes >= bufferSize {
                output(out)
                out = allocator.buffer(capacity: bufferSize)
            }
            // Done when zlib took all input and had room to spare (so nothing is pending).
            if !full && stream.pointee.avail_in == 0 { break }
        }
        if out.readableBytes > 0 { output(out) }
    }
}
