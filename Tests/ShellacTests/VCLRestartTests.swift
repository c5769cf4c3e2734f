import Foundation
import Testing

/// `return (restart)` from every state that allows it, `max_restarts`, and vcl_deliver
/// answering with a synth, over real sockets.
@Suite("VCL restarts")
struct VCLRestartTests {
    /// The user-context pattern: the first pass looks up the user's context, vcl_deliver copies
    /// it into the request and restarts; the page is then cached per context.
    static let userContext = """
        vcl 4.1;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        sub vcl_recv {
            if (req.restarts == 0) {
                unset req.http.X-User-Context;
                set req.http.X-Original-URL = req.url;
                set req.url = "/context";
            } else {
                set req.url = req.http.X-Original-URL;
            }
        }
        sub vcl_hash {
            hash_data(req.url);
            if (req.http.X-User-Context) { hash_data(req.http.X-User-Context); }
            return (lookup);
        }
        sub vcl_deliver {
            if (req.restarts == 0) {
                set req.http.X-User-Context = resp.http.X-User-Context;
                return (restart);
            }
            set resp.http.X-Seen-Context = req.http.X-User-Context;
            if (req.url == "/refused") { return (synth(403, "Refused")); }
        }
        """

    @Test("vcl_deliver copies a header into req and restarts; the restarted request gets the final page")
    func userContextRestartFromDeliver() async throws {
        let origin = try await TestOrigin.start { request in
            if request.path == "/context" {
                return Response(headers: ["Cache-Control": "max-age=60", "X-User-Context": "gold"], body: "context")
            }
            return Response(
                headers: ["Cache-Control": "max-age=60"],
                body: "page \(request.path) for \(request.header("X-User-Context") ?? "nobody")")
        }
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.userContext)) { proxy in
            let page = try await fetch(proxy.url("/page"))
            #expect(page.status == 200)
            #expect(page.body == "page /page for gold")
            #expect(page.header("X-Seen-Context") == "gold")
            let again = try await fetch(proxy.url("/page"))
            #expect(again.isHit && again.body == "page /page for gold")
            #expect(origin.requestCount(path: "/context") == 1 && origin.requestCount(path: "/page") == 1)
            // vcl_deliver may answer with a synth instead of the object.
            let refused = try await fetch(proxy.url("/refused"))
            #expect(refused.status == 403)
        }
    }

    /// vcl_hit always restarts; vcl_synth (reached once the restarts run out) reports
    /// `req.restarts`, which is then one over max_restarts, as in Varnish.
    static let restartingHit = """
        vcl 4.1;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        sub vcl_hit { return (restart); }
        sub vcl_synth {
            set resp.http.X-Restarts = req.restarts;
            set resp.http.X-Reason = resp.reason;
            return (restart);
        }
        """

    @Test("restarts from vcl_hit stop past max_restarts with a 503 synth; a restart from vcl_synth then delivers",
          arguments: [1, 2, 3])
    func maxRestarts(_ limit: Int) async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "x"))
        try await withProxy(
            origin: origin, parameters: ["max_restarts=\(limit)"],
            vclFile: try VCLRequestStatesTests.file(Self.restartingHit)
        ) { proxy in
            _ = try await fetch(proxy.url("/r"))  // a miss: stored
            let response = try await fetch(proxy.url("/r"))
            #expect(response.status == 503)
            #expect(response.header("X-Restarts") == String(limit + 1))
            #expect(response.header("X-Reason") == "Too many restarts")
        }
    }
}
