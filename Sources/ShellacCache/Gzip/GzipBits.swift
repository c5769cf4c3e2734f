import CZlib
import NIOCore

/// Where a stored gzip body's deflate data lies, to the bit (Varnish's `OA_GZIPBITS`): what
/// ESI needs to splice the body into a larger gzip stream without inflating it, and what a
/// gunzipped delivery needs to announce its length.
public struct GzipBits: Sendable, Equatable {
    /// The first bit of the deflate data (just past the gzip header).
    public var startBit: Int
    /// The `BFINAL` bit of the last deflate block.
    public var lastBit: Int
    /// The first bit past the last deflate block.
    public var stopBit: Int
    /// The CRC-32 of the uncompressed data (the trailer's).
    public var crc: UInt32
    /// The length of the uncompressed data.
    public var plainLength: Int
}

/// Pieces of gzip streams, and how they join (RFC 1951/1952). A "piece" is a run of deflate
/// blocks that starts and ends on a byte boundary and has no final block: pieces concatenate
/// into one deflate stream, which `header` opens and `tail(crc:length:)` closes.
public enum GzipStream {
    /// The 10-byte gzip header Shellac writes (deflate, no name, no time, Unix).
    public static let header: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]

    /// An empty stored block with `BFINAL` set, then the trailer: ends a stream of pieces.
    public static func tail(crc: UInt32, length: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x01, 0x00, 0x00, 0xFF, 0xFF]
        appendLittleEndian(crc, to: &bytes)
        appendLittleEndian(UInt32(truncatingIfNeeded: length), to: &bytes)
        return bytes
    }

    /// The CRC of two runs joined, from each run's CRC and the second's length.
    public static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
        UInt32(crc32_combine(uLong(first), uLong(second), off_t(secondLength)))
    }

    /// The CRC-32 of `bytes`, continuing `crc`.
    public static func crc(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return UInt32(crc32(uLong(crc), base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }

    /// Uncompressed bytes as a piece: stored blocks of at most 65535 bytes (what Varnish does
    /// for a plain fragment inside a gzipped ESI page: no deflate runs at delivery).
    public static func storedBlocks(_ bytes: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let count = bytes.readableBytes
        var out = allocator.buffer(capacity: count + (count / 65535 + 1) * 5)
        var offset = 0
        while offset < count {
            let length = min(65535, count - offset)
            out.writeInteger(UInt8(0))  // BFINAL 0, BTYPE 00, padding to the byte
            out.writeInteger(UInt16(length), endianness: .little)
            out.writeInteger(~UInt16(length), endianness: .little)
            if let slice = bytes.getSlice(at: bytes.readerIndex + offset, length: length) {
                out.writeImmutableBuffer(slice)
            }
            offset += length
        }
        return out
    }

    /// A whole stored gzip body (header, blocks, trailer) as a piece: the header and trailer
    /// dropped, the last block's `BFINAL` cleared, and the end brought to a byte boundary by an
    /// empty stored block. `body` is the stored chunks; nothing in them is changed.
    public static func piece(of body: [ByteBuffer], bits: GzipBits, allocator: ByteBufferAllocator) -> [ByteBuffer] {
        let start = bits.startBit / 8
        let lastByte = bits.lastBit / 8
        let stopByte = bits.stopBit / 8
        var pieces: [ByteBuffer] = []
        pieces.reserveCapacity(body.count + 2)
        // Bytes before the one holding BFINAL go as they are (slices, no copies).
        appendSlices(of: body, from: start, to: lastByte, into: &pieces)
        // From the BFINAL byte to the end: a few bytes, copied and edited.
        var end = slicedBytes(of: body, from: lastByte, to: stopByte + (bits.stopBit % 8 == 0 ? 0 : 1))
        guard !end.isEmpty else { return pieces }
        end[0] &= ~(UInt8(1) << UInt8(bits.lastBit % 8))
        let usedBits = bits.stopBit % 8
        if usedBits != 0 {
            end[end.count - 1] &= UInt8((1 << usedBits) - 1)  // unused high bits to zero
            // An empty stored block: 3 header bits (zero), padding to the byte, LEN, NLEN.
            if usedBits > 5 { end.append(0) }
            end.append(contentsOf: [0x00, 0x00, 0xFF, 0xFF])
        }
        var tail = allocator.buffer(capacity: end.count)
        tail.writeBytes(end)
        pieces.append(tail)
        return pieces
    }

    /// Slices of `body` covering bytes `from..<to` of it.
    static func appendSlices(of body: [ByteBuffer], from: Int, to: Int, into out: inout [ByteBuffer]) {
        var offset = 0
        for chunk in body {
            let end = offset + chunk.readableBytes
            let low = max(offset, from)
            let high = min(end, to)
            if low < high, let slice = chunk.getSlice(at: chunk.readerIndex + (low - offset), length: high - low) {
                out.append(slice)
            }
            offset = end
            if offset >= to { break }
        }
    }

    static func slicedBytes(of body: [ByteBuffer], from: Int, to: Int) -> [UInt8] {
        var slices: [ByteBuffer] = []
        appendSlices(of: body, from: from, to: to, into: &slices)
        return slices.flatMap { Array($0.readableBytesView) }
    }

    static func appendLittleEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
}

/// A gzip body that is not valid: a fetch error (never a truncated or garbled response).
public struct GzipError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
