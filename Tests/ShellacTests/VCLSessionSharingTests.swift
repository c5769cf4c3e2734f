import Foundation
import NIOHTTP1
import Testing

/// Requests on one event loop share VCL contexts (a finished request's context is the next
/// one's): nothing one request sets may reach another, and a request that waits for its
/// backend keeps its own context while others run.
@Suite("VCL sessions shared on a loop")
struct VCLSessionSharingTests {
    static let vcl = """
        vcl 4.1;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        sub vcl_recv {
            set req.http.X-Who = req.http.X-Client;
            if (req.http.X-Mark) { set req.http.X-Marked-By = req.http.X-Client; }
        }
        sub vcl_deliver {
            set resp.http.X-Who = req.http.X-Who;
            set resp.http.X-Url = req.url;
            if (req.http.X-Marked-By) { set resp.http.X-Marked-By = req.http.X-Marked-By; }
        }
        """

    @Test("a waiting miss keeps its own request while hits on other connections run")
    func waitingMissKeepsItsState() async throws {
        let origin = try await TestOrigin.start { request in
            let response = TestOrigin.Response(headers: ["Cache-Control": "max-age=60"], body: "origin \(request.uri)")
            return request.path == "/slow" ? response.delayed(by: .milliseconds(600)) : response
        }
        // One loop, so every connection below shares that loop's sessions.
        try await withProxy(origin: origin, threads: 1, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let primer = try await RawHTTPClient.connect(port: proxy.port)  // cached from here on
            try await primer.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\nGET /fast?p HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try await primer.readResponses(2)
            await primer.close()

            let slow = try await RawHTTPClient.connect(port: proxy.port)
            try await slow.send("GET /slow HTTP/1.1\r\nHost: t\r\nX-Client: slow\r\n\r\n")

            // While /slow waits for the origin, hits on two other connections: one marks its
            // request, the next must not see the mark.
            let marking = try await RawHTTPClient.connect(port: proxy.port)
            let plain = try await RawHTTPClient.connect(port: proxy.port)
            for round in 0..<3 {
                try await marking.send("GET /fast HTTP/1.1\r\nHost: t\r\nX-Client: marking\(round)\r\nX-Mark: 1\r\n\r\n")
                let marked = try await marking.readResponse()
                #expect(marked.header("X-Who") == "marking\(round)")
                #expect(marked.header("X-Marked-By") == "marking\(round)")
                #expect(marked.header("X-Varnish")?.contains(" ") == true)  // a hit

                try await plain.send("GET /fast?p HTTP/1.1\r\nHost: t\r\nX-Client: plain\(round)\r\n\r\n")
                let unmarked = try await plain.readResponse()
                #expect(unmarked.header("X-Who") == "plain\(round)")
                #expect(unmarked.header("X-Url") == "/fast?p")
                #expect(unmarked.header("X-Marked-By") == nil)
                #expect(unmarked.header("X-Varnish")?.contains(" ") == true)
            }

            let late = try await slow.readResponse()
            #expect(late.status == 200)
            #expect(late.bodyString == "origin /slow")
            #expect(late.header("X-Who") == "slow")
            #expect(late.header("X-Url") == "/slow")
            #expect(late.header("X-Marked-By") == nil)
            for client in [slow, marking, plain] { await client.close() }
        }
    }

    @Test("pipelined requests on one connection each get a clean request")
    func pipelinedRequestsAreClean() async throws {
        let origin = try await TestOrigin.start { request in
            TestOrigin.Response(headers: ["Cache-Control": "max-age=60"], body: "origin \(request.uri)")
        }
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            _ = try await fetch(proxy.url("/a"))
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send(
                "GET /a HTTP/1.1\r\nHost: t\r\nX-Client: one\r\nX-Mark: 1\r\n\r\n"
                    + "GET /a HTTP/1.1\r\nHost: t\r\nX-Client: two\r\n\r\n"
                    + "GET /a HTTP/1.1\r\nHost: t\r\nX-Client: three\r\n\r\n")
            let responses = try await client.readResponses(3)
            #expect(responses.map { $0.header("X-Who") } == ["one", "two", "three"])
            #expect(responses.map { $0.header("X-Marked-By") } == ["one", nil, nil])
            await client.close()
        }
    }
}
