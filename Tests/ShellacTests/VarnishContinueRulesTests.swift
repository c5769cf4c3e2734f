import NIOCore
import NIOHTTP1
import Testing

@testable import Shellac

/// `Expect: 100-continue` as Varnish answers it (c00018): the 100 goes after `vcl_recv`, or,
/// with `std.late_100_continue(true)`, only when the body is read; a synth that would have to
/// read an unsent body closes the connection instead, unless VCL takes its
/// `Connection: close` away. The Expect field goes neither to VCL nor to a backend. Over
/// real sockets, against a real origin.
@Suite("Varnish's 100-continue rules", .serialized)
struct VarnishContinueRulesTests {
    static func vcl(port: Int) throws -> String {
        try VCLRequestStatesTests.file("""
            vcl 4.1;
            import std;
            backend s1 { .host = "127.0.0.1"; .port = "\(port)"; }
            sub vcl_recv {
                if (req.url != "/") { std.late_100_continue(true); }
                if (req.http.Expect) { set req.http.saw-expect = "yes"; }
                if (req.url ~ "^/err") { return (synth(405)); }
                if (req.url ~ "^/keep") { return (synth(200)); }
                return (pass);
            }
            sub vcl_synth {
                if (req.url ~ "^/keep") { unset resp.http.Connection; }
            }
            """)
    }

    @Test("a pass: 100 after vcl_recv, the body then goes to the backend without Expect")
    func immediateContinue() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "done"))
        try await withProxy(origin: origin, vclFile: try Self.vcl(port: origin.port)) { proxy in
            for url in ["/", "/late"] {
                let client = try await RawHTTPClient.connect(port: proxy.port)
                try await client.send("POST \(url) HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                let interim = try await client.readResponse(timeout: .seconds(3))
                #expect(interim.status == 100, "\(url)")
                try await client.send("hello")
                let final = try await client.readResponse(timeout: .seconds(3))
                #expect(final.status == 200 && final.bodyString == "done", "\(url)")
                await client.close()
            }
            for request in origin.requests {
                #expect(request.bodyString == "hello")
                #expect(request.header("Expect") == nil)
                #expect(request.header("saw-expect") == nil)  // (VCL never saw it either)
            }
            #expect(origin.requestCount == 2)
        }
    }

    @Test("late 100-continue and a synth: no 100, the answer, then the connection closes")
    func lateSynthCloses() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "done"))
        try await withProxy(origin: origin, vclFile: try Self.vcl(port: origin.port)) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("POST /err HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 20\r\n\r\n")
            let response = try await client.readResponse(timeout: .seconds(3))
            #expect(response.status == 405)
            #expect(response.header("Connection") == "close")
            #expect(await client.waitForClose(timeout: .seconds(3)))
        }
    }

    @Test("late 100-continue, a synth without Connection: close: the 100, the body is read, then the answer")
    func lateSynthKeptReadsBody() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "done"))
        try await withProxy(origin: origin, vclFile: try Self.vcl(port: origin.port)) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("POST /keep HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let interim = try await client.readResponse(timeout: .seconds(3))
            #expect(interim.status == 100)
            try await client.send("hello")
            let response = try await client.readResponse(timeout: .seconds(3))
            #expect(response.status == 200)
            // The connection is ready for its next request.
            try await client.send("GET /err HTTP/1.1\r\nHost: a\r\n\r\n")
            let next = try await client.readResponse(timeout: .seconds(3))
            #expect(next.status == 405)
            await client.close()
        }
    }

    @Test("a body sent with its head gets no 100; an unknown expectation gets 417")
    func noContinueWhenBodyIsThere() async throws {
        let origin = try await TestOrigin.start(always: .init(body: "done"))
        try await withProxy(origin: origin, vclFile: try Self.vcl(port: origin.port)) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nfoo")
            let response = try await client.readResponse(timeout: .seconds(3))
            #expect(response.status == 200)
            await client.close()
            let other = try await RawHTTPClient.connect(port: proxy.port)
            try await other.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 101-continue\r\nContent-Length: 3\r\n\r\nfoo")
            let refused = try await other.readResponse(timeout: .seconds(3))
            #expect(refused.status == 417)
            await other.close()
        }
    }
}
