import CZlib
import NIOCore

/// Inflates a gzip body as it arrives (zlib), into buffers of `bufferSize`. With
/// `tracksBits` it also learns the body's `GzipBits`, stopping at each deflate block boundary
/// to note where it is (zlib's `Z_BLOCK`), as Varnish's test-gunzip does when it stores a
/// gzipped response. `raw` reads bare deflate pieces (an ESI page's stored segments).
public final class Gunzipper {
    private let stream: UnsafeMutablePointer<z_stream>
    private let tracksBits: Bool
    private let bufferSize: Int
    private let allocator: ByteBufferAllocator
    public private(set) var isFinished = false
    private var startBit: Int?
    private var previousBoundary = 0
    private var lastBit: Int?
    private var stopBit: Int?
    /// Uncompressed bytes produced so far.
    public private(set) var plainLength = 0

    public init(tracksBits: Bool = false, raw: Bool = false, bufferSize: Int = 32768, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws {
        self.tracksBits = tracksBits
        self.bufferSize = max(bufferSize, 512)
        self.allocator = allocator
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 31: a gzip wrapper only (as Varnish, which accepts no zlib or raw data as gzip).
        guard shellac_inflateInit2(stream, raw ? -15 : 31) == Z_OK else {
            stream.deallocate()
            throw GzipError("inflateInit2 failed")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Inflates `input`, handing each filled output buffer to `output`. Throws on data that is
    /// not gzip, and on bytes after the end of the gzip stream.
    public func push(_ input: ByteBuffer, output: (ByteBuffer) -> Void) throws {
        guard input.readableBytes > 0 else { return }
        if isFinished { throw GzipError("junk after the gzip data") }
        try input.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress else { return }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(raw.count)
            defer {
                stream.pointee.next_in = nil
                stream.pointee.avail_in = 0
            }
            try run(output: output)
        }
    }

    private func run(output: (ByteBuffer) -> Void) throws {
        var out = allocator.buffer(capacity: bufferSize)
        while true {
            var result: Int32 = Z_OK
            var outputFull = false
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { buffer in
                stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(buffer.count)
                result = inflate(stream, tracksBits ? Z_BLOCK : Z_NO_FLUSH)
                outputFull = stream.pointee.avail_out == 0
                let produced = buffer.count - Int(stream.pointee.avail_out)
                stream.pointee.next_out = nil
                stream.pointee.avail_out = 0
                return produced
            }
            if tracksBits { noteBoundary() }
            switch result {
            case Z_STREAM_END:
                isFinished = true
                plainLength = Int(stream.pointee.total_out)
                if stream.pointee.avail_in > 0 {
                    throw GzipError("junk after the gzip data")
                }
            case Z_OK, Z_BUF_ERROR:
                break
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(result)"
                throw GzipError("invalid gzip data: \(message)")
            }
            plainLength = Int(stream.pointee.total_out)
            if out.readableBytes >= bufferSize || (isFinished && out.readableBytes > 0) {
                output(out)
                out = allocator.buffer(capacity: bufferSize)
            }
            if isFinished || result == Z_BUF_ERROR || (stream.pointee.avail_in == 0 && !outputFull) { break }
        }
        if out.readableBytes > 0 { output(out) }
    }

    /// At a block boundary (zlib's `data_type` bit 128), notes the bit position: the first is
    /// the start of the deflate data, the one after the last block (bit 64) is its stop.
    private func noteBoundary() {
        let type = stream.pointee.data_type
        guard type & 128 != 0, stopBit == nil else { return }
        let position = Int(stream.pointee.total_in) * 8 - Int(type & 7)
        if startBit == nil {
            startBit = position
            previousBoundary = position
        } else if type & 64 != 0 {
            lastBit = previousBoundary
            stopBit = position
        } else {
            previousBoundary = position
        }
    }

    /// The body has ended: its `GzipBits` (with `tracksBits`), or an error if the gzip data
    /// stopped short.
    public func finish() throws -> GzipBits {
        guard isFinished else { throw GzipError("gzip data ends early") }
        return GzipBits(
            startBit: startBit ?? 0, lastBit: lastBit ?? 0, stopBit: stopBit ?? 0,
            crc: UInt32(truncatingIfNeeded: stream.pointee.adler), plainLength: plainLength)
    }

    /// Inflates one stored ESI segment (bare deflate blocks, ending on a flush).
    public static func inflatePiece(_ piece: [ByteBuffer], allocator: ByteBufferAllocator) throws -> [ByteBuffer] {
        let gunzipper = try Gunzipper(raw: true, allocator: allocator)
        var out: [ByteBuffer] = []
        for chunk in piece { try gunzipper.push(chunk) { out.append($0) } }
        return out
    }
}
