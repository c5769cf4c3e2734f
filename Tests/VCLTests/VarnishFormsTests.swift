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
}
