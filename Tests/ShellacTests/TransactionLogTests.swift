import Foundation
import Shellac
import ShellacLog
import Testing

/// The transaction log's ring, and `std.log` read out with `shellac log` (varnishlog).
@Suite("Transaction log")
struct TransactionLogTests {
    /// `count` VCL_Log records, one chunk each, as `count` transactions would write them.
    static func append(_ log: TransactionLog, _ count: Int, from first: Int = 1) {
        let buffer = VSLBuffer(ring: log.ring)
        buffer.side = .client
        for n in first..<(first + count) {
            buffer.vxid = UInt64(1000 + n)
            buffer.record(.vclLog, "line \(n)")
            buffer.flush()
        }
    }

    @Test("log.read's batches: in order from any cursor; 0 means the oldest, the end means none")
    func readsInOrder() throws {
        let log = TransactionLog(ring: try VSLRing(creatingAt: nil, size: 65_536))
        #expect(log.end == 0)
        let empty = log.read(from: 0, limit: 10)
        #expect(empty.records.isEmpty && empty.next == 0 && empty.missed == 0)
        Self.append(log, 3)
        let all = log.read(from: 0, limit: 10)
        #expect(all.records.map(\.text) == ["line 1", "line 2", "line 3"])
        #expect(all.records.map(\.vxid) == [1001, 1002, 1003])
        #expect(all.records.allSatisfy { $0.tag == .vclLog && $0.side == .client })
        #expect(all.next == log.end && all.missed == 0)
        #expect(log.read(from: log.end, limit: 10).records.isEmpty)
        let first = log.read(from: 0, limit: 1)
        #expect(first.records.map(\.text) == ["line 1"])
        #expect(log.read(from: first.next, limit: 1).records.map(\.text) == ["line 2"])
    }

    @Test("a full ring overwrites the oldest records; a reader behind them is told it missed some")
    func overwritesOldest() throws {
        let log = TransactionLog(ring: try VSLRing(creatingAt: nil, size: 65_536))
        Self.append(log, 1)
        let cursor = log.read(from: 0, limit: 1).next
        Self.append(log, 5_000, from: 2)
        let fromStart = log.read(from: 0, limit: 100_000)
        #expect(fromStart.missed == 0)
        #expect(fromStart.records.last?.text == "line 5001")
        #expect(fromStart.records.count < 5_000)
        let behind = log.read(from: cursor, limit: 100)
        #expect(behind.missed > 0)
        #expect(behind.records.isEmpty)
        #expect(behind.next == log.end)
        // A cursor from a server that has since restarted starts at the end.
        let ahead = log.read(from: log.end + 1_000_000, limit: 100)
        #expect(ahead.records.isEmpty && ahead.next == log.end && ahead.missed == 0)
    }

    // MARK: - std.log through shellac log

    static let vcl = """
        vcl 4.1;
        import std;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        sub vcl_recv {
            std.syslog(8 + 6, "shellac test: request for " + req.url);
            if (req.http.cookie ~ "JSESSIONID") {
                std.log("found jsessionid in request, passing to backend server");
                return (pass);
            }
            if (req.url == "/broken") {
                set req.http.X-Number = std.integer(req.http.X-Not-A-Number);
            }
        }
        sub vcl_backend_response {
            std.log("fetched " + bereq.url);
        }
        """

    /// Runs `body` with a daemon running `vcl` in front of an origin that answers "cart".
    static func withLoggingDaemon(_ body: (AdminDaemon) async throws -> Void) async throws {
        let origin = try await TestOrigin.start(always: Response(body: "cart"))
        do {
            try await AdminTests.withDaemon(origin: origin, vcl: Self.vcl) { daemon, _ in try await body(daemon) }
        } catch {
            await origin.shutdown()
            throw error
        }
        await origin.shutdown()
    }

    /// A request with a session cookie: vcl_recv logs a line and passes it, and the fetch logs one.
    static func sessionRequest(_ daemon: AdminDaemon) async throws -> FetchedResponse {
        try await fetch(daemon.url("/cart"), headers: [("Cookie", "JSESSIONID=abc")])
    }

    @Test("std.log lines reach shellac log as VCL_Log records of the client and backend side")
    func stdLogReachesShellacLog() async throws {
        try await Self.withLoggingDaemon { daemon in
            // Started first, it follows the log until the two records arrive.
            let follower = try ChildProcess.launch(
                ChildProcess.shellacExecutable(),
                ["log", "-T", "127.0.0.1:\(daemon.adminPort)", "-S", try #require(daemon.secretFile), "-k", "2", "-g", "raw", "-i", "VCL_Log"])
            // (It follows from where the log ends when it starts: give it that moment.)
            try await Task.sleep(for: .milliseconds(500))
            let response = try await Self.sessionRequest(daemon)
            #expect(response.status == 200 && response.body == "cart")
            let xid = try #require(response.header("X-Varnish"))
            let status = await follower.waitForExit(timeout: .seconds(10))
            if status == nil { await follower.stop(grace: .seconds(1)) }
            #expect(status == .exited(0), "shellac log: \(follower.stderr)")
            let lines = follower.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "\(lines)")
            let client = lines.first { $0.contains(" c ") }
            let backend = lines.first { $0.contains(" b ") }
            #expect(client?.hasSuffix("VCL_Log        c found jsessionid in request, passing to backend server") == true, "\(lines)")
            #expect(client?.split(separator: " ").first.map(String.init) == xid)
            #expect(backend?.hasSuffix("VCL_Log        b fetched /cart") == true, "\(lines)")
        }
    }

    @Test("a VCL failure is a 503 and a VCL_Error record; -i picks tags")
    func vclErrorIsLogged() async throws {
        try await Self.withLoggingDaemon { daemon in
            _ = try await Self.sessionRequest(daemon)
            let broken = try await fetch(daemon.url("/broken"))
            #expect(broken.status == 503)
            let errors = try await daemon.tool("log", ["-d", "-k", "1", "-g", "raw", "-i", "VCL_Error"])
            #expect(errors.status == .exited(0), "\(errors.stderr)")
            let line = errors.stdout.trimmingCharacters(in: .newlines)
            #expect(line.contains("VCL_Error      c "), "\(line)")
            #expect(line.split(separator: " ").first.map(String.init) == broken.header("X-Varnish"))
            #expect(!errors.stdout.contains("VCL_Log"))
        }
    }

    @Test("log.read through shellac adm; bad arguments are refused")
    func logReadCommand() async throws {
        try await Self.withLoggingDaemon { daemon in
            _ = try await Self.sessionRequest(daemon)
            let all = try await daemon.adm(["log.read", "0"])
            #expect(all.status == .exited(0))
            let lines = all.stdout.split(separator: "\n")
            let first = try #require(lines.first)
            #expect(first.hasPrefix("next ") && first.hasSuffix(" missed 0"), "\(all.stdout)")
            // The session's, the request's and the fetch's records, each as varnishlog -g raw.
            #expect(lines.contains { $0.hasSuffix("VCL_Log        c found jsessionid in request, passing to backend server") })
            #expect(lines.contains { $0.contains(" ReqURL         c /cart") })
            #expect(lines.contains { $0.contains(" BerespStatus   b 200") })
            let now = try await daemon.adm(["log.read"])
            #expect(now.stdout.trimmingCharacters(in: .newlines) == first)
            let bad = try await daemon.adm(["log.read", "soon"])
            #expect(bad.status == .exited(1))
            #expect(bad.stderr.contains("Cursor must be a number"))

            let zero = try await daemon.tool("log", ["-k", "0"])
            #expect(zero.status == .exited(2))
            #expect(zero.stderr.contains("-k 0"))
            let unknown = try await daemon.tool("log", ["-i", "NoSuchTag"])
            #expect(unknown.status == .exited(2))
            #expect(unknown.stderr.contains("\"NoSuchTag\" matches zero tags"))
            let badQuery = try await daemon.tool("log", ["-q", "RespStatus >>= 3"])
            #expect(badQuery.status == .exited(2))
            #expect(badQuery.stderr.contains("Query expression error"))
        }
    }
}
