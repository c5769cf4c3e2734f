#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Atomics

/// The transaction log's ring in shared memory: a file under the work directory (`_.vsl`),
/// mapped by the server for writing and by `shellac log` and its kin for reading, so a reader
/// needs no CLI and costs the server nothing. Without a work directory the ring is anonymous
/// memory, read only through the admin CLI.
///
/// Layout (little-endian, every offset a multiple of 16):
/// - bytes 0..<8: `magic`; 8..<16: the size S of the ring's data; 16..<24: a number chosen at
///   start, so a reader notices a restarted server; 64..<72: `head`, the bytes reserved so
///   far (atomic); 128..<192: the segment table; the data begins at byte 192.
/// - The data is a stream of chunks, laid out modulo S (a chunk may wrap). A chunk is one
///   flush of a transaction's buffer: a 16-byte header (an 8-byte stamp, its length as a
///   4-byte word, 4 bytes unused) and records, padded to 16.
/// - A writer reserves its chunk with one atomic add on `head`, copies the bytes and then
///   stores the stamp (`position + 1`, mixed with `stampMask`) with release ordering, so
///   writers never wait for each other or for readers. A reader at position P takes the
///   chunk once its stamp says P; a reader that `head` has lapped (head − P > S) was overrun.
///
/// A record: a 4-byte word (tag << 24 | payload length), a 4-byte word (the side, and the
/// `binaryTimestamp` bit), the vxid in 8 bytes, the payload, padded to 8.
public final class VSLRing: Sendable {
    /// The ring's file in the work directory.
    public static let fileName = "_.vsl"
    static let magic: UInt64 = 0x314C_5356_434C_4853  // "SHLCVSL1"
    static let headerSize = 192
    static let headOffset = 64
    /// Where the segment table begins: for each eighth of the ring, the first chunk that
    /// begins in it on the latest lap, so that a reader can start at the oldest chunk kept.
    static let segmentsOffset = 128
    static let segmentCount = 8
    static let stampMask: UInt64 = 0x5A5A_0000_0000_0000
    static let chunkHeaderSize = 16
    static let recordHeaderSize = 16
    /// A bit of a record's side word: a `Timestamp` whose payload is three times in binary
    /// (8 bytes each) and then its label, formatted by the reader.
    static let binaryTimestamp: UInt32 = 0x100

    /// The mapping (header and data). Written only through `reserve`/`commit` by the
    /// server; the pointer is shared by every thread, which is why the class is Sendable:
    /// writers touch disjoint reserved ranges, the head is atomic.
    nonisolated(unsafe) let base: UnsafeMutableRawPointer
    /// The size of the data part: a multiple of 16.
    public let size: Int
    /// Chosen at start: a reader that sees another one knows the server restarted.
    public let generation: UInt64
    private let mappedLength: Int
    private let writable: Bool

    public enum RingError: Error, CustomStringConvertible {
        case open(String, Int32)
        case notALog(String)

        public var description: String {
            switch self {
            case .open(let path, let code): "\(path): \(String(cString: strerror(code)))"
            case .notALog(let path): "\(path): not a shellac transaction log"
            }
        }
    }

    /// A new ring of `size` bytes (rounded up to 16, at least 64 KiB): in the file at `path`
    /// (made or truncated, readable by everyone as varnishd's log is), or anonymous.
    public init(creatingAt path: String?, size requested: Int) throws {
        let size = (max(requested, 65_536) + 15) & ~15
        let length = Self.headerSize + size
        var pointer: UnsafeMutableRawPointer?
        if let path {
            let temporary = path + ".new"
            let fd = open(temporary, O_RDWR | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw RingError.open(temporary, errno) }
            defer { close(fd) }
            guard ftruncate(fd, off_t(length)) == 0 else { throw RingError.open(temporary, errno) }
            let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
            guard let mapped, mapped != MAP_FAILED else { throw RingError.open(temporary, errno) }
            pointer = mapped
            Self.writeHeader(mapped, size: size)
            // Readers find the file only once its header is complete.
            guard rename(temporary, path) == 0 else { throw RingError.open(path, errno) }
        } else {
            let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
            guard let mapped, mapped != MAP_FAILED else { throw RingError.open("anonymous log", errno) }
            pointer = mapped
            Self.writeHeader(mapped, size: size)
        }
        guard let pointer else { throw RingError.open(path ?? "anonymous log", ENOMEM) }
        base = pointer
        self.size = size
        generation = pointer.load(fromByteOffset: 16, as: UInt64.self)
        mappedLength = length
        writable = true
    }

    /// The ring a running server left at `path`, mapped for reading.
    public init(readingAt path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw RingError.open(path, errno) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw RingError.open(path, errno) }
        let length = Int(status.st_size)
        guard length > Self.headerSize else { throw RingError.notALog(path) }
        let mapped = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0)
        guard let mapped, mapped != MAP_FAILED else { throw RingError.open(path, errno) }
        let size = mapped.load(fromByteOffset: 8, as: UInt64.self)
        guard mapped.load(as: UInt64.self) == Self.magic, Int(size) + Self.headerSize == length, size % 16 == 0 else {
            munmap(mapped, length)
            throw RingError.notALog(path)
        }
        base = mapped
        self.size = Int(size)
        generation = mapped.load(fromByteOffset: 16, as: UInt64.self)
        mappedLength = length
        writable = false
    }

    deinit {
        munmap(base, mappedLength)
    }

    private static func writeHeader(_ pointer: UnsafeMutableRawPointer, size: Int) {
        pointer.storeBytes(of: magic, as: UInt64.self)
        pointer.storeBytes(of: UInt64(size), toByteOffset: 8, as: UInt64.self)
        pointer.storeBytes(of: UInt64.random(in: 1...UInt64.max), toByteOffset: 16, as: UInt64.self)
        pointer.storeBytes(of: 0, toByteOffset: headOffset, as: UInt64.self)
    }

    private var headAtomic: UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: (base + Self.headOffset).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    /// The bytes reserved so far: where the next chunk will begin.
    public var head: UInt64 { headAtomic.load(ordering: .acquiring) }

    private var data: UnsafeMutableRawPointer { base + Self.headerSize }

    /// Writes one chunk holding `records` (whole records, as `VSLBuffer` lays them out), never
    /// waiting. A chunk larger than a quarter of the ring is dropped (it cannot happen with
    /// `vsl_buffer` below that).
    func write(records: UnsafeRawBufferPointer) {
        precondition(writable, "a ring mapped for reading is never written")
        let length = (Self.chunkHeaderSize + records.count + 15) & ~15
        guard records.count > 0, length <= size / 4 else { return }
        let position = headAtomic.loadThenWrappingIncrement(by: UInt64(length), ordering: .relaxed)
        let start = Int(position % UInt64(size))
        data.storeBytes(of: UInt32(length), toByteOffset: start + 8, as: UInt32.self)
        copy(records, to: (start + Self.chunkHeaderSize) % size)
        noteSegments(position: position, length: UInt64(length))
        let stamp = UnsafeAtomic<UInt64>(at: (data + start).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
        stamp.store((position + 1) ^ Self.stampMask, ordering: .releasing)
    }

    private var segmentSize: UInt64 { UInt64(size / Self.segmentCount) }

    private func segmentSlot(_ boundary: UInt64) -> UnsafeAtomic<UInt64> {
        let index = Int((boundary / segmentSize) % UInt64(Self.segmentCount))
        return UnsafeAtomic(at: (base + Self.segmentsOffset + 8 * index).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    /// Records, for each segment boundary in [position, position + length), the first chunk
    /// that begins at or after it.
    private func noteSegments(position: UInt64, length: UInt64) {
        if position % segmentSize == 0 { segmentSlot(position).store(position, ordering: .relaxed) }
        var boundary = (position / segmentSize + 1) * segmentSize
        while boundary < position + length {
            segmentSlot(boundary).store(position + length, ordering: .relaxed)
            boundary += segmentSize
        }
    }

    /// The oldest chunk boundary a reader can still start from: 0 before the first wrap,
    /// else the segment start furthest back that the writers have not lapped.
    public var oldestChunk: UInt64 {
        let head = self.head
        if head <= UInt64(size) { return 0 }
        var oldest = head
        for index in 0..<Self.segmentCount {
            let slot = UnsafeAtomic<UInt64>(at: (base + Self.segmentsOffset + 8 * index).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
            let value = slot.load(ordering: .relaxed)
            // Keep a segment's margin, so the reader is not overrun at once.
            if value <= head, head - value + segmentSize <= UInt64(size), value < oldest { oldest = value }
        }
        return oldest
    }

    /// Copies `bytes` into the data part from `offset` on, wrapping at its end.
    private func copy(_ bytes: UnsafeRawBufferPointer, to offset: Int) {
        guard let source = bytes.baseAddress else { return }
        let first = min(bytes.count, size - offset)
        (data + offset).copyMemory(from: source, byteCount: first)
        if first < bytes.count { data.copyMemory(from: source + first, byteCount: bytes.count - first) }
    }

    /// What reading the chunk at `position` found.
    enum ChunkRead {
        /// The chunk's records, and where the next chunk begins.
        case chunk([UInt8], next: UInt64)
        /// Nothing written there yet (the reader is at the head, or a writer is still copying).
        case pending
        /// The writers have lapped the reader: what it had not read is lost.
        case overrun
    }

    /// Reads the chunk at `position` (a chunk boundary) without disturbing any writer.
    /// `knownHead` is a head the reader loaded earlier, and `checkHead` whether to load it
    /// again after the copy: a reader that loads the head (the cache line every writer adds
    /// to) for every chunk slows the writers, so it does that only now and then, and checks
    /// the chunk's stamp after the copy instead (a lap would have replaced it).
    func readChunk(at position: UInt64, knownHead: UInt64, checkHead: Bool) -> ChunkRead {
        let head = knownHead
        if head &- position > UInt64(size) { return .overrun }
        guard head > position else { return .pending }
        let start = Int(position % UInt64(size))
        let stampWord = UnsafeAtomic<UInt64>(at: (data + start).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
        let stamp = stampWord.load(ordering: .acquiring) ^ Self.stampMask
        guard stamp == position + 1 else { return self.head &- position > UInt64(size) ? .overrun : .pending }
        let length = Int(data.load(fromByteOffset: start + 8, as: UInt32.self))
        guard length >= Self.chunkHeaderSize, length % 16 == 0, length <= size / 4 else { return .overrun }
        let count = length - Self.chunkHeaderSize
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { target in
            guard let destination = target.baseAddress else { return }
            let offset = (start + Self.chunkHeaderSize) % size
            let first = min(count, size - offset)
            destination.copyMemory(from: data + offset, byteCount: first)
            if first < count { (destination + first).copyMemory(from: data, byteCount: count - first) }
        }
        // A writer that reserved past our chunk's lap may have overwritten it while we copied.
        if stampWord.load(ordering: .acquiring) ^ Self.stampMask != position + 1 { return .overrun }
        if checkHead, self.head &- position > UInt64(size) { return .overrun }
        return .chunk(bytes, next: position + UInt64(length))
    }
}
