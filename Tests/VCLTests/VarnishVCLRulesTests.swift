import Testing

@testable import VCL

/// VCL rules of Varnish 7.1's compiler and run time that Shellac follows (each named after
/// the varnishtest that pins it).
@Suite struct VarnishVCLRulesTests {
    @Test("IP comparisons compare addresses, not ports (r02142)")
    func ipComparisonIgnoresPorts() throws {
        let p = try Support.compile("""
            vcl 4.1;
            import std;
            backend b { .host = "127.0.0.1"; }
            sub vcl_recv {
                set req.http.same = (std.ip("1.2.3.4 80", "0.0.0.0") == std.ip("1.2.3.4 81", "0.0.0.0"));
                set req.http.other = (std.ip("1.2.3.4 80", "0.0.0.0") == std.ip("1.2.3.5 80", "0.0.0.0"));
            }
            """)
        let context = Support.request(p)
        _ = p.run(.recv, context)
        #expect(context.req.headers["same"] == "true" && context.req.headers["other"] == "false")
    }

    @Test("quoted header names: VCL 4.1 only, any bytes but a line break (b00076)")
    func quotedHeaderNames() throws {
        let p = try Support.compile("""
            vcl 4.1;
            backend b { .host = "127.0.0.1"; }
            sub vcl_recv { set req.http."123" = "456"; set req.http."x.y" = req.http."123"; }
            """)
        let context = Support.request(p)
        _ = p.run(.recv, context)
        #expect(context.req.headers["123"] == "456" && context.req.headers["x.y"] == "456")
        let old = Support.errors("vcl 4.0;\nbackend b { .host = \"127.0.0.1\"; }\nsub vcl_recv { set req.http.\"123\" = \"4\"; }\n")
        #expect(old.first?.message.contains("Quoted headers are available for VCL >= 4.1") == true)
    }

    @Test("BLOB literals: vcc's messages for an unterminated one and for bad groups (i00000)")
    func blobLiterals() {
        let missing = Support.errors("vcl 4.1;\nsub vcl_recv { :aaaa")
        #expect(missing.first?.message.contains("Missing colon at end of BLOB") == true)
        let short = Support.errors("vcl 4.1;\nsub vcl_recv { :a: }\n")
        #expect(short.first?.message.contains("BLOB must have n*4 base64 characters") == true)
    }

    @Test("sess.xid is VCL 4.1 only; req.esi is VCL 4.0 only (r03564)")
    func versionedSymbols() {
        let sess = Support.errors("vcl 4.0;\nbackend b { .host = \"127.0.0.1\"; }\nsub vcl_recv { set req.http.x = sess.xid; }\n")
        #expect(sess.first?.message.contains("Symbol not found: 'sess.xid'") == true)
        let esi = Support.errors("vcl 4.1;\nbackend b { .host = \"127.0.0.1\"; }\nsub vcl_recv { set req.esi = false; }\n")
        #expect(esi.first?.message.contains("Symbol not found: 'req.esi'") == true)
    }

    @Test("a hash director with no healthy member cannot be added to another in vcl_init (r02036)")
    func noneBackendInInit() {
        let errors = Support.errors("""
            vcl 4.1;
            import directors;
            probe p { .initial = 0; }
            backend b01 { .host = "127.0.0.2"; .probe = p; }
            sub vcl_init {
                new hash = directors.hash();
                hash.add_backend(b01, 1.0);
                new rr = directors.round_robin();
                rr.add_backend(hash.backend("text"));
            }
            """)
        #expect(errors.first?.message.contains("None backend cannot be added") == true)
    }

    @Test("return (fail(\"why\")) fails with that message (v00040)")
    func failWithReason() throws {
        let p = try Support.compile("""
            vcl 4.1;
            backend b { .host = "127.0.0.1"; }
            sub vcl_init { return (fail("Do Not Press This Button Again")); }
            """)
        let context = p.makeContext()
        #expect(p.run(.initialize, context) == .fail)
        #expect(context.failure == "Do Not Press This Button Again")
    }
}
