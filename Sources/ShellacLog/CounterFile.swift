#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Atomics

/// The counters in shared memory (`DIR/_.vsc`, Varnish's VSC): the server publishes every
/// counter by name ten times a second; `shellac stat -n DIR` reads them without the CLI,
/// costing the server nothing per read.
///
/// Layout: magic (8 bytes), a number chosen at start (8), a sequence (8, atomic: odd while
/// the server writes, so a reader retries), the count of entries (8), the publish time (8, a
/// Double's bits); from byte 64, entries of 256 bytes: a name (248 bytes, NUL-padded: room
/// for VBE names of long VCL and backend names) and a value (8 bytes, signed).
public final class CounterFile: Sendable {
    public static let fileName = "_.vsc"
    static let magic: UInt64 = 0x3243_5356_434C_4853  // "SHLCVSC2"
    static let headerSize = 64
    static let entrySize = 256
    static let nameSize = 248
    /// Entries the file holds at most.
    public static let capacity = 2_048

    /// The mapping. Reason for `nonisolated(unsafe)`: only the one publisher task writes it,
    /// between sequence stores that readers check (a seqlock), so no reader sees a torn copy.
    nonisolated(unsafe) private let base: UnsafeMutableRawPointer
    private let length: Int
    private let writable: Bool

    public struct FileError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// A new file at `path` (replacing any), for the server to publish into.
    public init(creatingAt path: String) throws(FileError) {
        length = Self.headerSize + Self.capacity * Self.entrySize
        let temporary = path + ".new"
        let fd = open(temporary, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FileError(description: "\(temporary): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(length)) == 0,
              let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED
        else { throw FileError(description: "\(temporary): \(String(cString: strerror(errno)))") }
        mapped.storeBytes(of: Self.magic, as: UInt64.self)
        mapped.storeBytes(of: UInt64.random(in: 1...UInt64.max), toByteOffset: 8, as: UInt64.self)
        base = mapped
        writable = true
        guard rename(temporary, path) == 0 else { throw FileError(description: "\(path): \(String(cString: strerror(errno)))") }
    }

    /// The file a running server publishes at `path`, mapped for reading.
    public init(readingAt path: String) throws(FileError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileError(description: "\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        length = Self.headerSize + Self.capacity * Self.entrySize
        var status = stat()
        guard fstat(fd, &status) == 0, Int(status.st_size) == length,
              let mapped = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), mapped != MAP_FAILED
        else { throw FileError(description: "\(path): not a shellac counter file") }
        guard mapped.load(as: UInt64.self) == Self.magic else {
            munmap(mapped, length)
            throw FileError(description: "\(path): not a shellac counter file")
        }
        base = mapped
        writable = false
    }

    deinit {
        munmap(base, length)
    }

    private var sequence: UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: (base + 16).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    /// Publishes `counters` (names longer than 247 bytes are cut; past `capacity`, dropped).
    public func publish(_ counters: [(name: String, value: Int)], time: Double) {
        precondition(writable, "a counter file mapped for reading is never written")
        let begin = sequence.load(ordering: .relaxed) &+ 1
        sequence.store(begin, ordering: .relaxed)
        atomicMemoryFence(ordering: .acquiringAndReleasing)
        let count = min(counters.count, Self.capacity)
        for (index, counter) in counters.prefix(count).enumerated() {
            let entry = base + Self.headerSize + index * Self.entrySize
            entry.initializeMemory(as: UInt8.self, repeating: 0, count: Self.nameSize)
            var name = counter.name
            name.withUTF8 { bytes in
                if let address = bytes.baseAddress {
                    entry.copyMemory(from: address, byteCount: min(bytes.count, Self.nameSize - 1))
                }
            }
            entry.storeBytes(of: Int64(counter.value), toByteOffset: Self.nameSize, as: Int64.self)
        }
        base.storeBytes(of: UInt64(count), toByteOffset: 24, as: UInt64.self)
        base.storeBytes(of: time.bitPattern, toByteOffset: 32, as: UInt64.self)
        sequence.store(begin &+ 1, ordering: .releasing)
    }

    /// A consistent copy of what was last published, and when; nil when the server is
    /// writing on every try (it never holds the file long).
    public func read() -> (counters: [(name: String, value: Int)], time: Double)? {
        for _ in 0..<1_000 {
            let before = sequence.load(ordering: .acquiring)
            if before & 1 == 1 {
                usleep(100)
                continue
            }
            let count = min(Int(base.load(fromByteOffset: 24, as: UInt64.self)), Self.capacity)
            let time = Double(bitPattern: base.load(fromByteOffset: 32, as: UInt64.self))
            var counters: [(name: String, value: Int)] = []
            counters.reserveCapacity(count)
            for index in 0..<count {
                let entry = UnsafeRawPointer(base + Self.headerSize + index * Self.entrySize)
                let bytes = UnsafeRawBufferPointer(start: entry, count: Self.nameSize)
                let name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                counters.append((name, Int(entry.load(fromByteOffset: Self.nameSize, as: Int64.self))))
            }
            atomicMemoryFence(ordering: .acquiring)
            if sequence.load(ordering: .relaxed) == before { return (counters, time) }
        }
        return nil
    }
}
