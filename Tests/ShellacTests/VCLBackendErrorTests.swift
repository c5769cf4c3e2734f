import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// The backend side's failures under VCL, over real sockets: `vcl_backend_error` (the user's and
/// the built-in one), `return (retry)` up to `max_retries`, `return (abandon)` and
/// `return (error(...))`.
@Suite("VCL backend errors and retries")
struct VCLBackendErrorTests {
    static let vcl = """
        vcl 4.1;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        sub vcl_backend_fetch {
            set bereq.http.X-Retries = bereq.retries;
        }
        sub vcl_backend_response {
            if (bereq.url ~ "^/abandon") { return (abandon); }
            if (bereq.url ~ "^/error") { return (error(502, "Bad Origin")); }
            if (beresp.status == 500) { return (retry); }
        }
        sub vcl_backend_error {
            if (bereq.url ~ "^/retry-error") { return (retry); }
            if (bereq.url ~ "^/abandon") { return (abandon); }
            if (bereq.url ~ "^/cached") { set beresp.ttl = 60s; }
            set beresp.status = 502;
            set beresp.reason = "Origin Down";
            set beresp.http.Content-Type = "text/plain";
            set beresp.http.X-Error = "user";
            synthetic("down: " + beresp.status + " after " + bereq.retries + " retries");
            return (deliver);
        }
        """

    /// One GET on a fresh connection, `Connection: close`.
    static func get(_ proxy: ShellacFixture, _ path: String) async throws -> RawHTTPClient.Response {
        try await RawHTTPClient.exchange(
            port: proxy.port, "GET \(path) HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
            timeout: .seconds(8))
    }

    @Test("a backend that is down: the user's vcl_backend_error status, headers and body reach the client")
    func userBackendError() async throws {
        let port = try await BackendTests.unusedPort()
        try await withProxy(backendPort: port, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let response = try await Self.get(proxy, "/down")
            #expect(response.status == 502)
            #expect(response.reason == "Origin Down")
            #expect(response.bodyString == "down: 502 after 0 retries")
            #expect(response.header("X-Error") == "user")
            #expect(response.header("Content-Type") == "text/plain")
            #expect(response.header("Date") != nil)
        }
    }

    @Test("a backend error object is not cached, unless vcl_backend_error gives it a TTL")
    func errorObjectCaching() async throws {
        let origin = try await TestOrigin.start(always: .dropConnection)
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            for _ in 0..<2 {
                let response = try await fetch(proxy.url("/fleeting"))
                #expect(response.status == 502 && response.body == "down: 502 after 0 retries")
                #expect(!response.isHit)
            }
            #expect(origin.requestCount(path: "/fleeting") == 2)
            let first = try await fetch(proxy.url("/cached"))
            let second = try await fetch(proxy.url("/cached"))
            #expect(first.status == 502 && second.status == 502)
            #expect(second.isHit && second.body == "down: 502 after 0 retries")
            #expect(origin.requestCount(path: "/cached") == 1)
        }
    }

    @Test("clients waiting on the same object get the vcl_backend_error response of its one fetch")
    func coalescedWaitersGetTheError() async throws {
        let origin = try await TestOrigin.start { _ in
            // Long enough for the second client to arrive well inside the fetch, even on a busy machine.
            try await Task.sleep(for: .milliseconds(1000))
            return .dropConnection
        }
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            async let a = fetch(proxy.url("/slow"))
            try await Task.sleep(for: .milliseconds(100))
            async let b = fetch(proxy.url("/slow"))
            let (ra, rb) = try await (a, b)
            for response in [ra, rb] {
                #expect(response.status == 502 && response.body == "down: 502 after 0 retries")
            }
            #expect(origin.requestCount(path: "/slow") == 1)
        }
    }

    @Test("without a user vcl_backend_error the built-in one makes the Guru Meditation page")
    func builtinBackendError() async throws {
        let port = try await BackendTests.unusedPort()
        let vcl = """
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_deliver { set resp.http.X-Delivered = "vcl"; }
            """
        try await withProxy(backendPort: port, vclFile: try VCLRequestStatesTests.file(vcl)) { proxy in
            let response = try await Self.get(proxy, "/down")
            #expect(response.status == 503)
            #expect(response.reason == "Backend fetch failed")
            #expect(response.header("Retry-After") == "5")
            #expect(response.header("X-Delivered") == "vcl")
            let xid = try #require(response.header("X-Varnish"))
            #expect(response.bodyString.contains("Guru Meditation"))
            #expect(response.bodyString.contains("Error 503 Backend fetch failed"))
            // The page is vcl_backend_error's: it names the backend transaction (bereq.xid),
            // numbered right after the client's, as in Varnish.
            #expect(response.bodyString.contains("XID: \(Int(xid).map { $0 + 1 } ?? 0)"), "\(response.bodyString)")
        }
    }

    @Test("return (retry) from vcl_backend_response fetches again with bereq.retries one higher")
    func retrySucceeds() async throws {
        let counter = TestCounter()
        let origin = try await TestOrigin.start { _ in
            if counter.next() == 1 { return Response(status: .internalServerError, body: "broken") }
            return Response(headers: ["Cache-Control": "max-age=60"], body: "second answer")
        }
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let response = try await fetch(proxy.url("/flaky"))
            #expect(response.status == 200 && response.body == "second answer")
            #expect(origin.requests.map { $0.header("X-Retries") } == ["0", "1"])
            #expect(proxy.server.statistics.value(.backendRetries) == 1)
            #expect(try await fetch(proxy.url("/flaky")).isHit)
            #expect(origin.requestCount == 2)
        }
    }

    @Test("return (retry) from vcl_backend_error after a dropped connection fetches again")
    func retryFromBackendError() async throws {
        let counter = TestCounter()
        let origin = try await TestOrigin.start { _ in
            counter.next() == 1 ? .dropConnection : Response(body: "back again")
        }
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let response = try await fetch(proxy.url("/retry-error"))
            #expect(response.status == 200 && response.body == "back again")
            #expect(origin.requests.map { $0.header("X-Retries") } == ["0", "1"])
        }
    }

    @Test("retries stop at max_retries: 1 + max_retries requests, then vcl_backend_error's 503",
          arguments: [(parameters: [String](), attempts: 5), (parameters: ["max_retries=2"], attempts: 3),
                      (parameters: ["max_retries=0"], attempts: 1)])
    func retriesCapped(parameters: [String], attempts: Int) async throws {
        let origin = try await TestOrigin.start(always: Response(status: .internalServerError, body: "broken"))
        let vcl = """
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_backend_response { return (retry); }
            """
        try await withProxy(origin: origin, parameters: parameters, vclFile: try VCLRequestStatesTests.file(vcl)) { proxy in
            let response = try await Self.get(proxy, "/always-broken")
            #expect(response.status == 503)
            #expect(response.bodyString.contains("Backend fetch failed"))
            #expect(origin.requestCount == attempts)
            #expect(origin.requests.map { $0.path } == Array(repeating: "/always-broken", count: attempts))
        }
    }

    @Test("return (retry) from vcl_backend_error stops at max_retries with a 503")
    func backendErrorRetriesCapped() async throws {
        let origin = try await TestOrigin.start(always: .dropConnection)
        try await withProxy(origin: origin, parameters: ["max_retries=3"], vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let response = try await Self.get(proxy, "/retry-error")
            #expect(response.status == 503)
            #expect(!response.bodyString.contains("down:"))
            #expect(origin.requestCount == 4)
        }
    }

    @Test("return (abandon) from vcl_backend_response or vcl_backend_error: a 503, not vcl_backend_error's page")
    func abandon() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "fine"))
        origin.route("/abandon-error", .dropConnection)
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            for path in ["/abandon", "/abandon-error"] {
                let response = try await Self.get(proxy, path)
                #expect(response.status == 503, "\(path)")
                // No page was made: vcl_synth's 503 with the standard phrase (varnishtest f00004).
                #expect(response.reason == "Service Unavailable", "\(path)")
                #expect(!response.bodyString.contains("fine") && !response.bodyString.contains("down:"), "\(path)")
            }
            // Nothing was stored: the next request fetches again.
            _ = try await Self.get(proxy, "/abandon")
            #expect(origin.requestCount(path: "/abandon") == 2)
        }
    }

    @Test("return (error(...)) from vcl_backend_response goes to vcl_backend_error with that status")
    func errorFromBackendResponse() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "fine"))
        let vcl = """
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_backend_response { return (error(502, "Bad Origin")); }
            sub vcl_backend_error { synthetic("error " + beresp.status + " " + beresp.reason); return (deliver); }
            """
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(vcl)) { proxy in
            let response = try await Self.get(proxy, "/e")
            #expect(response.status == 502 && response.reason == "Bad Origin")
            #expect(response.bodyString == "error 502 Bad Origin")
        }
    }
}
