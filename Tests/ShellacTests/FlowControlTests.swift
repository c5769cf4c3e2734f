#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Flow control over loopback: a client reading a 512 MiB response at about 1 MiB/s must not
/// make Shellac buffer the response. The origin (python3, blocking writes) sends as fast as
/// Shellac reads; without flow control Shellac would hold hundreds of MiB within a second or
/// two. The client reads for `readSeconds` (the whole body at 1 MiB/s would take 8.5 minutes:
/// the growth shows in the first seconds or never), sampling Shellac's RSS every half second.
@Suite("Flow control", .serialized)
struct FlowControlTests {
    static let bodySize = 512 << 20
    static let readSeconds = 8.0
    static let bytesPerSecond = 1 << 20
    static let rssLimit = 32 << 20

    /// An origin answering every request (any method) with `bodySize` bytes, then closing.
    static let originScript = """
        import socket, sys, threading
        size = int(sys.argv[1])
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        print("listening on 127.0.0.1:%d" % server.getsockname()[1], flush=True)
        block = b"x" * 65536
        def serve(conn):
            try:
                head = b""
                while b"\\r\\n\\r\\n" not in head:
                    more = conn.recv(65536)
                    if not more:
                        return
                    head += more
                conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n" % size)
                sent = 0
                while sent < size:
                    conn.sendall(block)
                    sent += len(block)
            except OSError:
                pass
            finally:
                conn.close()
        while True:
            conn, _ = server.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """

    @Test("a slow client on a 512 MiB pass raises Shellac's RSS by less than 32 MiB")
    func slowPass() async throws {
        // A Cookie makes the built-in VCL pass.
        try await measure(request: "GET /big HTTP/1.1\r\nHost: a\r\nCookie: s=1\r\n\r\n")
    }

    @Test("a slow client on a 512 MiB pipe raises Shellac's RSS by less than 32 MiB")
    func slowPipe() async throws {
        // A method the built-in VCL does not know is piped.
        try await measure(request: "BREW /big HTTP/1.1\r\nHost: a\r\n\r\n")
    }

    @Test("a slow client does not hold back a cacheable miss: a second client gets the whole object at once")
    func slowClientOnSharedMiss() async throws {
        let size = 32 << 20
        let (origin, shellac, port) = try await Self.start(bodySize: size, storage: "malloc,128m")
        defer {
            origin.forceKill()
            shellac.forceKill()
        }

        // The first client starts the miss and then reads nothing.
        let slow = try SlowClient(port: port)
        defer { slow.close() }
        try slow.send("GET /shared HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(slow.read(upTo: 1024) > 0)
        // The second gets every byte while the first still sleeps.
        let fast = try SlowClient(port: port)
        defer { fast.close() }
        try fast.send("GET /shared HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        var received = 0
        var closed = false
        let start = ContinuousClock.now
        while !closed, ContinuousClock.now - start < .seconds(20) {
            let got = fast.read(upTo: 1 << 20)
            if got < 0 { closed = true } else { received += got }
        }
        // Its whole response (head and body) came and the connection closed, within the time.
        #expect(closed, "the second client's response did not end")
        #expect(received > size, "the second client got \(received) bytes for a \(size)-byte body")
    }

    private func measure(request: String) async throws {
        let (origin, shellac, port) = try await Self.start(bodySize: Self.bodySize, storage: "malloc,64m")
        defer {
            origin.forceKill()
            shellac.forceKill()
        }
        let before = try #require(Self.residentBytes(of: shellac.pid))

        let client = try SlowClient(port: port)
        defer { client.close() }
        try client.send(request)
        var peak = before
        let start = ContinuousClock.now
        var received = 0
        var nextSample = start
        while ContinuousClock.now - start < .seconds(Self.readSeconds) {
            let got = client.read(upTo: 16384)
            if got < 0 { break }  // closed
            received += got
            // Pace the reads to `bytesPerSecond`.
            let due = start + .seconds(Double(received) / Double(Self.bytesPerSecond))
            if due > ContinuousClock.now { try await Task.sleep(until: due) }
            if ContinuousClock.now >= nextSample {
                peak = max(peak, Self.residentBytes(of: shellac.pid) ?? peak)
                nextSample = ContinuousClock.now + .milliseconds(500)
            }
        }
        peak = max(peak, Self.residentBytes(of: shellac.pid) ?? peak)
        let growth = peak - before
        #expect(received > Int(Self.readSeconds / 2) * Self.bytesPerSecond, "the response streamed: \(received) bytes")
        #expect(growth < Self.rssLimit, "RSS grew by \(growth >> 20) MiB (from \(before >> 20) MiB)")
        print("flow control (\(request.prefix(4))): read \(received >> 10) KiB in \(Self.readSeconds) s; RSS \(before >> 20) -> \(peak >> 20) MiB")
    }

    /// The python origin answering every request with `bodySize` bytes, and a shellac in
    /// front of it with the given store; returns both and shellac's port.
    static func start(bodySize: Int, storage: String) async throws -> (ChildProcess, ChildProcess, Int) {
        let python = try #require(ChildProcess.which("python3"), "python3 is needed")
        let origin = try ChildProcess.launch(python, ["-c", originScript, String(bodySize)])
        do {
            let originPort = try await origin.waitForListening().port
            let shellac = try ChildProcess.launch(
                ChildProcess.shellacExecutable(),
                ["-a", "127.0.0.1:0", "-b", "127.0.0.1:\(originPort)", "-s", storage, "-F"])
            do {
                return (origin, shellac, try await shellac.waitForListening().port)
            } catch {
                shellac.forceKill()
                throw error
            }
        } catch {
            origin.forceKill()
            throw error
        }
    }

    /// VmRSS of `pid`, in bytes.
    static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first
        return kilobytes.map { $0 * 1024 }
    }
}

/// A blocking TCP client with a small receive buffer, so that what the client has not read
/// stays in the server rather than in this socket.
final class SlowClient {
    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var size: Int32 = 65536
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        // A read returns after at most 200 ms, so the pacing loop never hangs.
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw POSIXError(.EIO)
        }
    }

    /// Reads up to `count` bytes: how many came (0 when none came within 200 ms), -1 at close.
    func read(upTo count: Int) -> Int {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count, 0) }
        if got > 0 { return got }
        if got == 0 { return -1 }
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1
    }

    func close() {
        Glibc.close(fd)
    }
}
