import NIOCore
import NIOEmbedded
import Testing
import VCL

@testable import Shellac
import ShellacLog
@testable import ShellacCache

/// The HTTP/1 session on an `EmbeddedChannel` with virtual time: no sockets, no sleeps. The
/// VCL answers every request with a synthetic response, so no backend is involved.
@Suite("Client session (embedded)")
struct ClientSessionTests {
    static let vcl = """
        vcl 4.1;
        backend default { .host = "127.0.0.1"; .port = "9"; }
        sub vcl_recv { return (synth(200, "OK")); }
        sub vcl_synth {
            set resp.http.Content-Type = "text/plain";
            synthetic("url=" + req.url + " method=" + req.method);
            return (deliver);
        }
        """

    /// A connection to a handler with default parameters (timeout_idle 5 s, timeout_req 2 s).
    final class Session {
        let loop = EmbeddedEventLoop()
        let channel: EmbeddedChannel

        init(parameters: Parameters = Parameters()) throws {
            let program = try VCLCompiler.compile(source: ClientSessionTests.vcl, name: "test.vcl")
            let server = ServerContext(
                parameters: LiveParameters(parameters), store: CacheStore(capacity: 1 << 20), statistics: Statistics(),
                backend: Backend(host: "127.0.0.1", port: 9), vcl: VCLRegistry(boot: program),
                logRing: try VSLRing(creatingAt: nil, size: 1 << 20), group: loop)
            channel = EmbeddedChannel(loop: loop)
            try channel.pipeline.syncOperations.addHandler(ClientConnectionHandler(server: server))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        }

        func send(_ text: String) throws {
            try channel.writeInbound(ByteBuffer(string: text))
            loop.run()  // (what a real loop does next: the tasks the input queued, such as an answer held for its body)
        }

        /// Everything written to the client so far.
        func output() throws -> String {
            var text = ""
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
                text += String(buffer: buffer)
            }
            return text
        }

        func advance(_ seconds: Double) {
            loop.advanceTime(by: .milliseconds(Int64(seconds * 1000)))
        }

        var isOpen: Bool { channel.isActive }

        func finish() {
            _ = try? channel.finish()
        }
    }

    @Test("a connection that never sends a byte is closed at timeout_idle, not before")
    func idleFreshConnection() throws {
        let session = try Session()
        defer { session.finish() }
        session.advance(4.9)
        #expect(session.isOpen)
        session.advance(0.2)
        #expect(!session.isOpen)
    }

    @Test("half a head then silence is closed at timeout_req (2 s), before timeout_idle")
    func slowloris() throws {
        let session = try Session()
        defer { session.finish() }
        try session.send("GET /slow HTTP/1.1\r\nHost: a\r\nX-Partial: ")
        session.advance(1.9)
        #expect(session.isOpen)
        session.advance(0.2)
        #expect(!session.isOpen)
        #expect(try session.output().isEmpty)
    }

    @Test("a head trickled one byte every 250 ms is still closed at timeout_req from its first byte")
    func slowlorisTrickle() throws {
        let session = try Session()
        defer { session.finish() }
        try session.send("GET /trickle HTTP/1.1\r\nHost: a\r\nX-Trickle: ")
        var elapsed = 0.0
        while session.isOpen && elapsed < 7 {
            session.advance(0.25)
            elapsed += 0.25
            if session.isOpen { try session.send("a") }
        }
        #expect(!session.isOpen)
        #expect(elapsed > 1.9 && elapsed <= 2.25, "closed after \(elapsed) s")
    }

    @Test("a keep-alive client idle longer than timeout_req but under timeout_idle is still served")
    func idleLongerThanTimeoutReq() throws {
        let session = try Session()
        defer { session.finish() }
        try session.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try session.output().hasSuffix("url=/one method=GET"))
        session.advance(3)
        #expect(session.isOpen)
        try session.send("GET /two HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try session.output().hasSuffix("url=/two method=GET"))
        session.advance(4.9)
        #expect(session.isOpen)
        session.advance(0.2)
        #expect(!session.isOpen, "idle keep-alive connection open past timeout_idle")
    }

    @Test("a body uploaded slowly (over 3 s) after a complete head is not cut by timeout_req")
    func slowBodyUpload() throws {
        let session = try Session()
        defer { session.finish() }
        try session.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n")
        for piece in ["a", "b", "c", "d", "e", "f"] {
            session.advance(0.5)
            #expect(session.isOpen)
            try session.send(piece)
        }
        let output = try session.output()
        #expect(output.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(output.hasSuffix("url=/upload method=POST"))
    }

    @Test("a body that stops arriving is closed at timeout_idle")
    func stalledBody() throws {
        let session = try Session()
        defer { session.finish() }
        try session.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabc")
        session.advance(4.9)
        #expect(session.isOpen)
        session.advance(0.2)
        #expect(!session.isOpen)
    }

    @Test("pipelined requests in one write are answered in order, each once")
    func pipelined() throws {
        let session = try Session()
        defer { session.finish() }
        try session.send(
            "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /4 HTTP/1.1\r\nHost: a\r\n\r\n")
        let output = try session.output()
        let statusLines = output.components(separatedBy: "HTTP/1.1 200 OK").count - 1
        #expect(statusLines == 4, "\(output)")
        let order = ["url=/1 method=GET", "url=/3 method=POST", "url=/4 method=GET"].compactMap {
            output.range(of: $0)?.lowerBound
        }
        #expect(order.count == 3 && order == order.sorted(), "\(output)")
        #expect(!output.contains("url=/2"), "HEAD got a body")
    }

    @Test("a malformed head: 400 with Connection: close, and the connection closes")
    func malformed() throws {
        let session = try Session()
        defer { session.finish() }
        try session.send("GET /x HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n")
        let output = try session.output()
        #expect(output.hasPrefix("HTTP/1.1 400 "))
        #expect(output.contains("Connection: close\r\n"))
        #expect(!session.isOpen)
    }

    @Test("a graceful stop closes an idle connection at once and lets a request under way finish")
    func quiesce() throws {
        let idle = try Session()
        defer { idle.finish() }
        idle.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!idle.isOpen)

        let busy = try Session()
        defer { busy.finish() }
        try busy.send("GET /last HTTP/1.1\r\nHost: a\r\n")  // head not complete yet
        busy.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(busy.isOpen)
        try busy.send("\r\n")
        let output = try busy.output()
        #expect(output.contains("Connection: close\r\n") && output.hasSuffix("url=/last method=GET"))
        #expect(!busy.isOpen)
    }
}
