import Testing

@testable import VCL

/// VCL forms vcc 7.1 accepts that widely used files (and Varnish's own tests) rely on.
@Suite("VCL forms from Varnish 7.1")
struct VarnishFormsTests {
    @Test("resp.body in vcl_synth and beresp.body in vcl_backend_error set the synthetic body")
    func bodies() throws {
        let program = try VCLCompiler.compile(source: """
            vcl 4.1;
            backend b { .host = "127.0.0.1"; }
            sub vcl_synth { set resp.body = "made " + resp.status; return (deliver); }
            sub vcl_backend_error { set beresp.body = "failed"; return (deliver); }
            """, name: "bodies.vcl")
        let context = Support.request(program)
        context.resp.status = 418
        _ = program.run(.synth, context)
        #expect(context.syntheticBody == "made 418")
        _ = program.run(.backendError, context)
        #expect(context.syntheticBody == "failed")
        #expect(throws: VCLCompileError.self) {
            try VCLCompiler.compile(source: "vcl 4.1; backend b { .host = \"h\"; } sub vcl_recv { set req.http.x = resp.body; }", name: "r.vcl")
        }
    }

    @Test("sess.timeout_idle, req.is_hitmiss, req.is_hitpass, bereq.xid in vcl_pipe, `backend x None;`")
    func variables() throws {
        let program = try VCLCompiler.compile(source: """
            vcl 4.1;
            backend b { .host = "127.0.0.1"; }
            backend nothing None;
            sub vcl_recv { set sess.timeout_idle = 2s; }
            sub vcl_deliver {
                set resp.http.hm = req.is_hitmiss;
                set resp.http.hp = req.is_hitpass;
            }
            sub vcl_pipe { set bereq.http.x = bereq.xid; }
            """, name: "vars.vcl")
        let context = Support.request(program)
        _ = program.run(.recv, context)
        #expect(context.sessionTimeoutIdle == 2 && context.sessionTimeoutIdleChanged)
        context.req.isHitPass = true
        _ = program.run(.deliver, context)
        #expect(context.resp.headers["hp"] == "true" && context.resp.headers["hm"] == "false")
        #expect(!program.isHealthy("nothing"))
    }

    @Test("std.time reads epoch seconds, HTTP dates and ISO 8601; std.real2time; std.ban_error says why a ban was refused")
    func stdFunctions() throws {
        #expect(ValueFormat.parseTime("1700000000") == 1_700_000_000)
        #expect(ValueFormat.parseTime("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(ValueFormat.parseTime("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(ValueFormat.parseTime("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(ValueFormat.parseTime("1994-11-06T08:49:37Z") == 784_111_777)
        #expect(ValueFormat.parseTime("yesterday") == nil)
        let program = try VCLCompiler.compile(source: """
            vcl 4.1;
            import std;
            backend b { .host = "127.0.0.1"; }
            sub vcl_recv {
                set req.http.t = std.time(req.http.date, now) == std.real2time(784111777, now);
                if (!std.ban("req.url ~")) { set req.http.why = std.ban_error(); }
                if (std.ban("req.url ~ ^/x")) { set req.http.ok = "banned"; }
                set req.hash_ignore_vary = True;
                set req.storage = storage.s0;
            }
            sub vcl_backend_response {
                if (storage.Transient.happy && beresp.storage == storage.s0) { set beresp.storage = storage.Transient; }
            }
            """, name: "std.vcl")
        let context = Support.request(program, headers: [("Date", "Sun, 06 Nov 1994 08:49:37 GMT")])
        _ = program.run(.recv, context)
        #expect(context.req.headers["t"] == "true")
        #expect(!(context.req.headers["why"] ?? "").isEmpty && context.req.headers["ok"] == "banned")
        #expect(context.bans == ["req.url ~ ^/x"] && context.req.hashIgnoreVary)
    }

    @Test("INT % INT, req.transport, and a status set in VCL: checked, its reason phrase with it (v00050)")
    func remainderTransportStatus() throws {
        let program = try VCLCompiler.compile(source: """
            vcl 4.1;
            backend b { .host = "127.0.0.1"; }
            sub vcl_deliver {
                set resp.http.rest = 22302 % 1000;
                set resp.http.neg = -7 % 3;
                set resp.http.xport = req.transport;
                set resp.status = 40404;
            }
            """, name: "status.vcl")
        let context = Support.request(program)
        context.resp.status = 200
        context.resp.reason = "OK"
        _ = program.run(.deliver, context)
        #expect(context.resp.headers["rest"] == "302" && context.resp.headers["neg"] == "-1")
        #expect(context.resp.headers["xport"] == "HTTP/1")
        #expect(context.resp.status == 40404 && context.resp.reason == "Not Found")
        #expect(context.failure == nil)
        for (value, message) in [("65536", "resp.status (65536) > 65535"), ("99", "illegal resp.status (99) (..0##)"),
                                 ("-200", "resp.status (-200) is negative")] {
            let failing = try VCLCompiler.compile(source: """
                vcl 4.1;
                backend b { .host = "127.0.0.1"; }
                sub vcl_deliver { set resp.status = \(value); }
                """, name: "bad.vcl")
            let failed = Support.request(failing)
            _ = failing.run(.deliver, failed)
            #expect(failed.failure == message)
        }
        #expect(throws: VCLCompileError.self) {
            try VCLCompiler.compile(source: "vcl 4.1; backend b { .host = \"h\"; } sub vcl_recv { set req.http.x = 1.5 % 2; }", name: "r.vcl")
        }
    }
}
