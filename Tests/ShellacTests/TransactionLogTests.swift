import Foundation
import Shellac
import Testing

/// The transaction log's ring, and `std.log` read out with `shellac log` (varnishlog).
@Suite("Transaction log")
struct TransactionLogTests {
    static func append(_ log: TransactionLog, _ count: Int, from first: Int = 1) {
        for n in first..<(first + count) {
            log.append(xid: UInt64(1000 + n), side: .client, tag: .vclLog, texts: CollectionOfOne("line \(n)"))
        }
    }

    @Test("records come back in order from any cursor; 0 means the oldest, the end means none")
    func readsInOrder() {
        let log = TransactionLog(capacity: 8)
        #expect(log.end == 1)
        let empty = log.read(from: 0, limit: 10)
        #expect(empty.records.isEmpty && empty.next == 1 && empty.missed == 0)
        Self.append(log, 3)
        let all = log.read(from: 0, limit: 10)
        #expect(all.records.map(\.text) == ["line 1", "line 2", "line 3"])
        #expect(all.records.map(\.sequence) == [1, 2, 3])
        #expect(all.records.map(\.xid) == [1001, 1002, 1003])
        #expect(all.next == 4 && all.missed == 0)
        #expect(log.read(from: 4, limit: 10).records.isEmpty)
        #expect(log.read(from: 2, limit: 1).records.map(\.text) == ["line 2"])
        #expect(log.read(from: 2, limit: 1).next == 3)
        #expect(log.end == 4)
    }

    @Test("a full ring overwrites the oldest records; a reader behind them is told how many it missed")
    func overwritesOldest() {
        let log = TransactionLog(capacity: 4)
        Self.append(log, 10)
        let fromStart = log.read(from: 0, limit: 100)
        #expect(fromStart.records.map(\.sequence) == [7, 8, 9, 10])
        #expect(fromStart.missed == 0)
        let behind = log.read(from: 2, limit: 100)
        #expect(behind.records.map(\.text) == ["line 7", "line 8", "line 9", "line 10"])
        #expect(behind.missed == 5)
        #expect(behind.next == 11)
        // A cursor from a server that has since restarted starts at the end.
        let ahead = log.read(from: 99, limit: 100)
        #expect(ahead.records.isEmpty && ahead.next == 11 && ahead.missed == 0)
    }

    @Test("several texts in one append keep their order and sides")
    func appendMany() {
        let log = TransactionLog(capacity: 16)
        log.append(xid: 7, side: .backend, tag: .vclError, texts: ["a", "b"])
        let batch = log.read(from: 0, limit: 10)
        #expect(batch.records.map(\.text) == ["a", "b"])
        #expect(batch.records.allSatisfy { $0.side == .backend && $0.tag == .vclError && $0.xid == 7 })
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
                ["log", "-T", "127.0.0.1:\(daemon.adminPort)", "-S", try #require(daemon.secretFile), "-d", "-k", "2"])
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
            let errors = try await daemon.tool("log", ["-d", "-k", "1", "-i", "VCL_Error"])
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
            #expect(lines.first == "next 3 missed 0", "\(all.stdout)")
            #expect(lines.count == 3)
            let now = try await daemon.adm(["log.read"])
            #expect(now.stdout.trimmingCharacters(in: .newlines) == "next 3 missed 0")
            let bad = try await daemon.adm(["log.read", "soon"])
            #expect(bad.status == .exited(1))
            #expect(bad.stderr.contains("Cursor must be a number"))

            let zero = try await daemon.tool("log", ["-k", "0"])
            #expect(zero.status == .exited(2))
            #expect(zero.stderr.contains("-k 0"))
            let unknown = try await daemon.tool("log", ["-i", "ReqURL"])
            #expect(unknown.status == .exited(2))
            #expect(unknown.stderr.contains("unknown tag"))
        }
    }
}
