import Testing
@testable import VCL

/// Access rules per subroutine and legal return actions, as vcc enforces them.
@Suite struct CheckerTests {
    func firstError(_ body: String, in sub: String, prelude: String = "") -> String? {
        Support.errors("vcl 4.1;\n\(prelude)\nsub \(sub) {\n\(body)\n}\n").first?.message
    }

    @Test(arguments: [
        ("vcl_recv", ["hash", "pass", "pipe", "purge", "restart", "synth(403)", "fail"]),
        ("vcl_hash", ["lookup"]),
        ("vcl_hit", ["deliver", "miss", "pass", "synth(500)", "restart"]),
        ("vcl_miss", ["fetch", "pass", "synth(500)", "restart"]),
        ("vcl_pass", ["fetch", "synth(500)", "restart"]),
        ("vcl_pipe", ["pipe", "synth(500)"]),
        ("vcl_purge", ["synth(200)", "restart"]),
        ("vcl_synth", ["deliver", "restart"]),
        ("vcl_deliver", ["deliver", "synth(500)", "restart"]),
        ("vcl_backend_fetch", ["fetch", "abandon", "error(503)"]),
        ("vcl_backend_response", ["deliver", "abandon", "retry", "error(503)", "pass(10s)"]),
        ("vcl_backend_error", ["deliver", "retry", "abandon"]),
        ("vcl_init", ["ok", "fail"]),
    ])
    func legalReturns(_ sub: String, _ actions: [String]) {
        for action in actions {
            #expect(firstError("return (\(action));", in: sub) == nil, "\(sub): \(action)")
        }
    }

    @Test(arguments: [
        ("vcl_recv", "lookup"), ("vcl_recv", "deliver"), ("vcl_hash", "hash"),
        ("vcl_hit", "lookup"), ("vcl_miss", "deliver"), ("vcl_pass", "pass"), ("vcl_pipe", "deliver"), ("vcl_purge", "deliver"),
        ("vcl_synth", "synth(500)"), ("vcl_deliver", "pass"), ("vcl_backend_fetch", "deliver"),
        ("vcl_backend_response", "fetch"), ("vcl_backend_error", "error(500)"), ("vcl_init", "deliver"),
    ])
    func illegalReturns(_ sub: String, _ action: String) {
        let message = firstError("return (\(action));", in: sub)
        #expect(message?.contains("Invalid return action") == true, "\(sub): \(action) → \(message ?? "nil")")
    }

    @Test func readRules() {
        #expect(firstError("if (req.url) { return (pass); }", in: "vcl_recv") == nil)
        #expect(firstError("if (bereq.url) { return (fetch); }", in: "vcl_backend_fetch") == nil)
        #expect(firstError("if (bereq.url) { return (pipe); }", in: "vcl_pipe") == nil)
        #expect(firstError("if (obj.status == 200) { return (deliver); }", in: "vcl_hit") == nil)
        #expect(firstError("if (obj.hits > 1) { return (deliver); }", in: "vcl_deliver") == nil)
        #expect(firstError("if (client.ip == server.ip) { return (fetch); }", in: "vcl_backend_fetch") == nil)
        #expect(firstError("if (now > now - 1s) { return (ok); }", in: "vcl_init") == nil)
        #expect(firstError("if (bereq.url) { return (pass); }", in: "vcl_recv")?.contains("cannot be read in vcl_recv") == true)
        #expect(firstError("if (obj.status == 200) { return (deliver); }", in: "vcl_deliver")?.contains("cannot be read") == true)
        #expect(firstError("if (resp.status == 200) { return (deliver); }", in: "vcl_hit")?.contains("cannot be read") == true)
        #expect(firstError("if (beresp.ttl > 0s) { return (deliver); }", in: "vcl_deliver")?.contains("cannot be read") == true)
        #expect(firstError("if (client.ip == client.ip) { return (ok); }", in: "vcl_init")?.contains("cannot be read in vcl_init") == true)
    }

    @Test func writeRules() {
        #expect(firstError("set req.hash_always_miss = true;", in: "vcl_recv") == nil)
        #expect(firstError("set req.hash_always_miss = true;", in: "vcl_hit")?.contains("cannot be set in vcl_hit") == true)
        #expect(firstError("set resp.status = 404;", in: "vcl_deliver") == nil)
        #expect(firstError("set resp.status = 404;", in: "vcl_recv")?.contains("cannot be set") == true)
        #expect(firstError("set beresp.ttl = 1s;", in: "vcl_backend_error") == nil)
        #expect(firstError("set beresp.ttl = 1s;", in: "vcl_backend_fetch")?.contains("cannot be set") == true)
        #expect(firstError("set req.restarts = 1;", in: "vcl_recv")?.contains("read-only") == true)
        #expect(firstError("set now = now;", in: "vcl_recv")?.contains("read-only") == true)
        #expect(firstError("unset req.http.Cookie;", in: "vcl_recv") == nil)
        #expect(firstError("unset obj.http.X;", in: "vcl_hit")?.contains("read-only") == true)
        #expect(firstError("set bereq.http.X = \"1\";", in: "vcl_pipe") == nil)
    }

    @Test func customSubsInheritEveryCaller() {
        let source = """
            vcl 4.1;
            sub shared { set req.http.X = "1"; }
            sub vcl_recv { call shared; }
            sub vcl_backend_fetch { call shared; }
            """
        let errors = Support.errors(source)
        #expect(errors.count == 1)
        #expect(errors.first?.message == "Variable 'req.http.X' cannot be set in vcl_backend_fetch (sub 'shared' is called from there). Cannot be set from subroutine 'vcl_backend_fetch'.")
        #expect(errors.first?.location.line == 2)
    }

    @Test func transitiveCalls() {
        let source = """
            vcl 4.1;
            sub inner { return (lookup); }
            sub outer { call inner; }
            sub vcl_hash { call outer; }
            """
        #expect(Support.errors(source).isEmpty)
        let bad = source + "\nsub vcl_miss { call outer; }\n"
        #expect(Support.errors(bad).first?.message.contains("Invalid return action 'lookup' in vcl_miss") == true)
    }

    @Test func unusedSubIsAWarning() throws {
        let program = try Support.compile("vcl 4.1;\nsub helper { set req.http.X = \"1\"; }\n")
        #expect(program.warnings.contains { $0.message.contains("Unused sub helper") })
    }

    @Test func passInBackendResponseNeedsADuration() {
        #expect(firstError("return (pass);", in: "vcl_backend_response")?.contains("pass needs a duration") == true)
        #expect(firstError("return (pass(1s));", in: "vcl_recv")?.contains("only allowed in vcl_backend_response") == true)
    }

    @Test func builtinSubsCannotBeCalled() {
        #expect(Support.errors("vcl 4.1;\nsub vcl_recv { call vcl_hash; }\n").first?.message.contains("cannot be called") == true)
    }

    @Test func plainReturnOnlyInCustomSubs() {
        #expect(firstError("return;", in: "vcl_recv")?.contains("must return an action") == true)
        #expect(Support.errors("vcl 4.1;\nsub a { return; }\nsub vcl_recv { call a; }\n").isEmpty)
    }

    @Test func statementPlacement() {
        #expect(firstError("synthetic(\"x\");", in: "vcl_synth") == nil)
        #expect(firstError("synthetic(\"x\");", in: "vcl_backend_error") == nil)
        #expect(firstError("synthetic(\"x\");", in: "vcl_deliver")?.contains("not allowed in vcl_deliver") == true)
        #expect(firstError("hash_data(\"x\");", in: "vcl_hash") == nil)
        #expect(firstError("ban(\"req.url ~ /\");", in: "vcl_recv") == nil)
    }

    @Test func typeErrors() {
        #expect(firstError("set beresp.ttl = 10;", in: "vcl_backend_response")?.contains("expected DURATION, found INT") == true)
        #expect(firstError("set beresp.status = \"200\";", in: "vcl_backend_response")?.contains("expected INT, found STRING") == true)
        // INT and DURATION fold to BOOL as in Varnish's VCC (ConditionFoldingTests); REAL does not.
        #expect(firstError("if (req.restarts) { return (pass); }", in: "vcl_recv") == nil)
        #expect(firstError("if (std.real(\"1.5\", 0.0)) { return (pass); }", in: "vcl_recv", prelude: "import std;")?
            .contains("expected BOOL, found REAL") == true)
        #expect(firstError("if (req.url ~ req.http.X) { return (pass); }", in: "vcl_recv")?.contains("regular expression literal") == true)
        #expect(firstError("if (req.url ~ local) { return (pass); }", in: "vcl_recv", prelude: "acl local { \"127.0.0.1\"; }")?
            .contains("ACL 'local' matches an IP, found STRING") == true)
        #expect(firstError("set req.http.X = 1s + 1;", in: "vcl_recv")?.contains("cannot be applied to DURATION and INT") == true)
    }

    @Test func duplicateSubsAreConcatenated() throws {
        let program = try Support.compile("""
            vcl 4.1;
            sub vcl_recv { set req.http.A = "1"; }
            sub vcl_recv { set req.http.B = "2"; return (pass); }
            """)
        let context = Support.request(program)
        #expect(program.run(.recv, context) == .pass)
        #expect(context.req.headers["A"] == "1" && context.req.headers["B"] == "2")
    }
}
