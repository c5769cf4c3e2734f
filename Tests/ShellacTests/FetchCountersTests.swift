import Foundation
import NIOHTTP1
import Testing

@testable import Shellac

/// varnishstat's counters of how fetches were framed and stored, of bytes each way, of pipes
/// and of why sessions closed, checked over real sockets.
@Suite("fetch, byte, pipe and session-close counters", .serialized)
struct FetchCountersTests {
    static func value(_ proxy: ShellacFixture, _ name: String) -> Int? {
        MoreCountersTests.value(BackendHealthTests.admin(proxy).counters(), name)
    }

    @Test("fetch_length, fetch_chunked and fetch_eof count how bodies were framed; backend_recycle the reused connections")
    func framing() async throws {
        let origin = try await TestOrigin.start(routes: [
            "/length": { _ in Response(body: "abc") },
            "/chunked": { _ in Response.chunked(chunks: ["ab", "cd"]) },
            "/eof": { _ in Response.raw("HTTP/1.1 200 OK\r\n\r\nfoobar", thenClose: true) },
        ])
        try await withProxy(origin: origin) { proxy in
            let r1 = try await fetch(proxy.url("/length"))
            #expect(Self.value(proxy, "VBE.boot.default.conn") == 1)
            #expect(r1.body == "abc")
            let r2 = try await fetch(proxy.url("/chunked"))
            #expect(r2.body == "abcd")
            let r3 = try await fetch(proxy.url("/eof"))
            #expect(r3.body == "foobar")
            #expect(Self.value(proxy, "MAIN.fetch_length") == 1)
            #expect(Self.value(proxy, "MAIN.fetch_chunked") == 1)
            #expect(Self.value(proxy, "MAIN.fetch_eof") == 1)
            #expect(Self.value(proxy, "MAIN.fetch_failed") == 0)
            // The first two went back to the pool; the close-delimited one cannot.
            #expect(Self.value(proxy, "MAIN.backend_recycle") == 2)
            #expect(Self.value(proxy, "VBE.boot.default.beresp_bodybytes") == 3 + 4 + 6)
            // The three went over one connection (reused), which the close-delimited one ended.
            #expect(Self.value(proxy, "MAIN.backend_conn") == 1)
            #expect(try await Self.settled(proxy, "VBE.boot.default.conn", at: 0) == 0)
        }
    }

    @Test("a POST's body counts in s_req_bodybytes and VBE bereq_bodybytes; heads in s_req_hdrbytes")
    func requestBytes() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "ok"))
        try await withProxy(origin: origin) { proxy in
            let body = String(repeating: "x", count: 100)
            let r4 = try await fetch(proxy.url("/post"), method: .POST, body: body)
            #expect(r4.status == 200)
            #expect(Self.value(proxy, "MAIN.s_req_bodybytes") == 100)
            #expect(Self.value(proxy, "VBE.boot.default.bereq_bodybytes") == 100)
            #expect((Self.value(proxy, "MAIN.s_req_hdrbytes") ?? 0) > 20)
            #expect((Self.value(proxy, "VBE.boot.default.bereq_hdrbytes") ?? 0) > 20)
        }
    }

    @Test("beresp_uncacheable counts passes and uncacheable responses; beresp_shortlived TTLs under shortlived")
    func uncacheableAndShortlived() async throws {
        let origin = try await TestOrigin.start(routes: [
            "/short": { _ in Response(headers: ["Cache-Control": "max-age=3"], body: "s") },
            "/long": { _ in Response(headers: ["Cache-Control": "max-age=600"], body: "l") },
            "/private": { _ in Response(headers: ["Cache-Control": "private"], body: "p") },
        ])
        try await withProxy(origin: origin, parameters: ["default_grace=0", "default_keep=0"]) { proxy in
            _ = try await fetch(proxy.url("/short"))
            _ = try await fetch(proxy.url("/long"))
            _ = try await fetch(proxy.url("/private"))
            _ = try await fetch(proxy.url("/pass"), headers: [("Authorization", "x")])
            #expect(Self.value(proxy, "MAIN.beresp_shortlived") == 1)
            #expect(Self.value(proxy, "MAIN.beresp_uncacheable") == 2)
        }
    }

    @Test("an idle keep-alive session counts in sess_herd; a Connection: close request closes as REQ_CLOSE")
    func sessionCloses() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "x"))
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
            _ = try await client.readResponse()
            try await client.send("GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            let last = try await client.readResponse()
            #expect(last.saysClose)
            await client.close()
            try await Task.sleep(for: .milliseconds(200))
            #expect((Self.value(proxy, "MAIN.sess_herd") ?? 0) >= 1)
            #expect(Self.value(proxy, "MAIN.sc_req_close") == 1)
            #expect(Self.value(proxy, "MAIN.sess_closed") == 1)
            #expect(Self.value(proxy, "MAIN.sess_closed_err") == 0)
        }
    }

    @Test("a request head over http_req_size counts in sc_rx_overflow")
    func overflow() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        try await withProxy(origin: origin, parameters: ["http_req_size=1024"]) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /" + String(repeating: "A", count: 2048) + " HTTP/1.1\r\nHost: h\r\n\r\n")
            _ = try? await client.readResponse()
            await client.close()
            try await Task.sleep(for: .milliseconds(200))
            #expect(Self.value(proxy, "MAIN.sc_rx_overflow") == 1)
            #expect(Self.value(proxy, "MAIN.sess_closed_err") == 1)
        }
    }

    @Test("param.set pipe_sess_max 1: a second pipe while one is open gets 503 and counts in pipe_limited; n_pipe follows")
    func pipeLimit() async throws {
        // The origin leaves the connection open after answering, so the pipe stays up.
        let origin = try await TestOrigin.start(
            always: Response.raw("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\npiped", thenClose: false))
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_recv { return (pipe); }
            """)
        try await withProxy(origin: origin, parameters: ["pipe_sess_max=1"], vclFile: vcl) { proxy in
            let first = try await RawHTTPClient.connect(port: proxy.port)
            try await first.send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await first.readResponse().bodyString == "piped")
            #expect(Self.value(proxy, "MAIN.n_pipe") == 1)
            let second = try await RawHTTPClient.connect(port: proxy.port)
            try await second.send("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await second.readResponse().status == 503)
            #expect(Self.value(proxy, "MAIN.pipe_limited") == 1)
            await first.close()
            await second.close()
            #expect(try await Self.settled(proxy, "MAIN.n_pipe", at: 0) == 0)
        }
    }

    @Test("a request that waits on another's fetch counts in busy_sleep, and in busy_wakeup once the response comes")
    func busyWaiters() async throws {
        let origin = try await TestOrigin.start(
            always: Response(headers: ["Cache-Control": "max-age=60"], body: "slow").delayed(by: .milliseconds(300)))
        try await withProxy(origin: origin) { proxy in
            async let first = fetch(proxy.url("/busy"))
            try await Task.sleep(for: .milliseconds(100))
            let second = try await fetch(proxy.url("/busy"))
            #expect(try await first.body == "slow" && second.body == "slow")
            #expect(origin.requestCount(path: "/busy") == 1)
            #expect(Self.value(proxy, "MAIN.busy_sleep") == 1)
            #expect(Self.value(proxy, "MAIN.busy_wakeup") == 1)
        }
    }

    /// The counter once it reads `expected`, or what it reads after a second (gauges that
    /// follow a connection's close settle a moment later).
    static func settled(_ proxy: ShellacFixture, _ name: String, at expected: Int) async throws -> Int? {
        var value = Self.value(proxy, name)
        for _ in 0..<50 where value != expected {
            try await Task.sleep(for: .milliseconds(20))
            value = Self.value(proxy, name)
        }
        return value
    }

    /// Whether setting `name` to `value` fails (the parameters are left as they were).
    static func refuses(_ parameters: Parameters, _ name: String, _ value: String) -> Bool {
        var copy = parameters
        do { try copy.set(name, value) } catch { return true }
        return false
    }

    @Test("param.set refuses what varnishd refuses: ranges, pools, thread_pool_reserve against thread_pool_min")
    func parameterBounds() throws {
        var parameters = Parameters()
        #expect(Self.refuses(parameters, "acceptor_sleep_max", "20"))
        #expect(Self.refuses(parameters, "pool_req", "10"))
        #expect(Self.refuses(parameters, "pool_req", "10,1,1"))
        #expect(Self.refuses(parameters, "http_max_hdr", "0"))
        #expect(Self.refuses(parameters, "workspace_thread", "1m"))
        try parameters.set("pool_req", "1,10,1")
        try parameters.set("thread_pool_min", "10")
        try parameters.set("thread_pool_reserve", "9")
        #expect(Self.refuses(parameters, "thread_pool_reserve", "10"))
        try parameters.set("thread_pool_max", "unlimited")
        try parameters.set("thread_pool_min", "100")
        try parameters.set("thread_pool_reserve", "95")
        #expect(Self.refuses(parameters, "thread_pool_reserve", "96"))
        try parameters.set("thread_pool_max", "110")
        #expect(Self.refuses(parameters, "thread_pool_min", "111"))
    }
}
