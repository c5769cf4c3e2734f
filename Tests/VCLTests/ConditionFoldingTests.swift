import Testing
@testable import VCL

/// Values in a condition fold to BOOL as Varnish's VCC folds them: INT is true when non-zero,
/// DURATION when positive, STRING and BACKEND when set; REAL is refused.
@Suite struct ConditionFoldingTests {
    static let source = """
        vcl 4.1;
        backend b { .host = "127.0.0.1"; }
        sub vcl_deliver {
            if (obj.hits) { set resp.http.X-Hits = "some"; } else { set resp.http.X-Hits = "none"; }
            if (!obj.ttl) { set resp.http.X-TTL = "spent"; } else { set resp.http.X-TTL = "left"; }
        }
        """

    @Test(arguments: [(0, 10.0, "none", "left"), (3, 10.0, "some", "left"), (3, 0.0, "some", "spent"), (0, -5.0, "none", "spent")])
    func intAndDurationConditions(_ hits: Int, _ ttl: Double, _ expectedHits: String, _ expectedTTL: String) throws {
        let program = try Support.compile(Self.source)
        let context = Support.request(program)
        context.obj.hits = hits
        context.obj.ttl = ttl
        #expect(program.run(.deliver, context) == .deliver)
        #expect(context.resp.headers["X-Hits"] == expectedHits)
        #expect(context.resp.headers["X-TTL"] == expectedTTL)
    }

    @Test func realIsNotAcondition() {
        let errors = Support.errors("vcl 4.1;\nbackend b { .host = \"127.0.0.1\"; }\nsub vcl_recv { if (1.5) { return (pass); } }\n")
        #expect(!errors.isEmpty)
    }
}
