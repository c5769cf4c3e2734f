import NIOCore
import Testing

@testable import ShellacCache

/// zlib through Shellac's wrappers, on bytes: inflate with the bits of every block
/// boundary, deflate, splicing whole gzip bodies into one stream, ESI runs. Each result is
/// checked with Debian's `gzip`, not with the code under test.
@Suite("gzip streams")
struct GzipStreamTests {
    /// Text of `count` bytes that compresses somewhat (words from a seeded generator).
    static func text(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        let words = ["cache", "varnish", "shellac", "gzip", "<p>", "</p>", "object", " ", "\n", "deflate", "42"]
        var bytes: [UInt8] = []
        while bytes.count < count { bytes += Array(words.randomElement(using: &generator)!.utf8) }  // test data
        return Array(bytes.prefix(count))
    }

    static func inflate(_ chunks: [ByteBuffer], tracksBits: Bool) throws -> (plain: [UInt8], bits: GzipBits) {
        let gunzipper = try Gunzipper(tracksBits: tracksBits, bufferSize: 1024)
        var plain: [UInt8] = []
        for chunk in chunks { try gunzipper.push(chunk) { plain += Array($0.readableBytesView) } }
        return (plain, try gunzipper.finish())
    }

    /// `bytes` cut into pieces of `size` (how a backend's body arrives).
    static func pieces(_ bytes: [UInt8], size: Int) -> [ByteBuffer] {
        stride(from: 0, to: bytes.count, by: size).map { ByteBuffer(bytes: bytes[$0..<min($0 + size, bytes.count)]) }
    }

    @Test("inflating gzip's output learns the bits: the trailer's CRC and length, the last block's BFINAL")
    func bitsOfSystemGzip() throws {
        for (count, level) in [(1, 6), (100, 1), (5000, 9), (200_000, 6), (70_000, 1)] {
            let plain = Self.text(count, seed: UInt64(count))
            let gzip = try SystemGzip.compress(plain, level: level)
            for size in [7, 4096, gzip.count] {
                let (inflated, bits) = try Self.inflate(Self.pieces(gzip, size: size), tracksBits: true)
                #expect(inflated == plain)
                #expect(bits.startBit == 80 && bits.plainLength == count)
                let trailer = gzip.suffix(8)
                let crc = trailer.prefix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                #expect(bits.crc == crc)
                #expect(bits.stopBit <= (gzip.count - 8) * 8 && bits.stopBit > (gzip.count - 9) * 8)
                #expect(gzip[bits.lastBit / 8] & (1 << UInt8(bits.lastBit % 8)) != 0)  // BFINAL is set there
            }
        }
    }

    @Test("whole gzip bodies spliced as pieces between a header and a tail make one valid gzip")
    func splicing() throws {
        var body: [UInt8] = GzipStream.header
        var expected: [UInt8] = []
        var crc: UInt32 = 0
        // Many sizes and levels, so the stop bit falls on every position within a byte.
        for index in 0..<24 {
            let plain = Self.text(1 + index * 97, seed: UInt64(index))
            let gzip = try SystemGzip.compress(plain, level: 1 + index % 9)
            let chunks = Self.pieces(gzip, size: 50)
            let (_, bits) = try Self.inflate(chunks, tracksBits: true)
            for piece in GzipStream.piece(of: chunks, bits: bits, allocator: ByteBufferAllocator()) {
                body += Array(piece.readableBytesView)
            }
            let stored = GzipStream.storedBlocks(ByteBuffer(bytes: plain), allocator: ByteBufferAllocator())
            body += Array(stored.readableBytesView)
            expected += plain + plain
            crc = GzipStream.combine(crc, bits.crc, secondLength: bits.plainLength)
            crc = GzipStream.combine(crc, bits.crc, secondLength: bits.plainLength)
        }
        body += GzipStream.tail(crc: crc, length: expected.count)
        #expect(try SystemGzip.decompress(body) == expected)
    }

    @Test("Gzipper's output is gzip, and its bits are right (a piece of it splices too)")
    func deflating() throws {
        let plain = Self.text(100_000, seed: 7)
        let gzipper = try Gzipper(level: 6, bufferSize: 4096)
        var chunks: [ByteBuffer] = []
        for piece in Self.pieces(plain, size: 3000) { gzipper.push(piece) { chunks.append($0) } }
        let bits = try gzipper.finish { chunks.append($0) }
        let gzip = chunks.flatMap { Array($0.readableBytesView) }
        #expect(try SystemGzip.decompress(gzip) == plain)
        let learned = try Self.inflate(chunks, tracksBits: true).bits
        #expect(learned == bits)
        var spliced = GzipStream.header
        for piece in GzipStream.piece(of: chunks, bits: bits, allocator: ByteBufferAllocator()) {
            spliced += Array(piece.readableBytesView)
        }
        spliced += GzipStream.tail(crc: bits.crc, length: bits.plainLength)
        #expect(try SystemGzip.decompress(spliced) == plain)
    }

    @Test("an ESI page's runs are stored as pieces: the body is gzip, each run inflates alone")
    func esiRuns() throws {
        let page = Array("<html><esi:include src=\"/a\"/>middle text<esi:include src=\"/b\"/>end</html>".utf8)
        let document = try #require(ESIDocument.parse(page))
        let made = try ESIGzip.compress(page, document: document, level: 6, bufferSize: 1024, allocator: ByteBufferAllocator())
        let stored = made.body.flatMap { Array($0.readableBytesView) }
        #expect(try SystemGzip.decompress(stored) == page)  // the whole page, markup included
        var runs: [String] = []
        for case .compressed(let range, let crc, let length) in made.document.segments {
            let plain = try Gunzipper.inflatePiece([ByteBuffer(bytes: stored[range])], allocator: ByteBufferAllocator())
            let bytes = plain.flatMap { Array($0.readableBytesView) }
            #expect(bytes.count == length && ByteBuffer(bytes: bytes).withUnsafeReadableBytes { GzipStream.crc($0) } == crc)
            runs.append(String(decoding: bytes, as: UTF8.self))
        }
        #expect(runs == ["<html>", "middle text", "end</html>"])
    }

    @Test("corrupt or cut gzip is an error, never a wrong body")
    func corrupt() throws {
        var gzip = try SystemGzip.compress(Self.text(3000, seed: 3))
        #expect(throws: GzipError.self) { try Self.inflate([ByteBuffer(bytes: gzip.prefix(gzip.count - 3))], tracksBits: true) }
        #expect(throws: GzipError.self) { try Self.inflate([ByteBuffer(bytes: gzip + [1, 2, 3])], tracksBits: false) }
        gzip[gzip.count - 6] ^= 0xFF  // the CRC
        #expect(throws: GzipError.self) { try Self.inflate([ByteBuffer(bytes: gzip)], tracksBits: true) }
        #expect(throws: GzipError.self) { try Self.inflate([ByteBuffer(string: "plain text, not gzip")], tracksBits: false) }
    }
}
