import Testing
@testable import VCL

/// vcc's words for ACL entries (v00017), statements and return actions (v00018) and BYTES
/// units (v00033), as Varnish 7.1's own tests look for them.
@Suite struct VCCWordsTests {
    static func says(_ source: String, _ text: String) -> Bool { DiagnosticTests.says(source, text) }

    static let useA = "sub vcl_recv { if (client.ip ~ a) { return (pass); } }\n"

    @Test func aclEntries() {  // v00017
        for (acl, words) in [
            ("acl a { \"1.2.3.4\"; !\"1.2.3.4\"; }", "Conflicting ACL entries:"),
            ("acl a { \"10.1..2\"; }", "DNS lookup(10.1..2): "),
            ("acl a { \"10.0.1.0/1bc\"; }", ".../mask is not numeric."),
            ("acl a { \"10.0.1.0/22\" / 22; }", "/mask only allowed once"),
            ("acl a + log { \"10.0.1.0\"/22; }", "Expected a flag at:"),
            ("acl a +foobar { \"10.0.1.0\"/22; }", "Unknown ACL flag:"),
            ("acl a { \"1.2.3.4\"/24; }", "Non-zero bits in masked part"),
        ] {
            #expect(Self.says("vcl 4.1;\n\(acl)\n" + Self.useA, words), "\(acl)")
        }
    }

    @Test func aclNetworksAsVccReadsThem() throws {  // v00017, c00005
        let program = try Support.compile("""
            vcl 4.1;
            acl a +log -pedantic { "1.2.3.4"/24; "10.1.2"; ! "10.1.3"; ("...invalid" / 22); (!"...invalid"); "1.2.3.4"/24; }
            """ + "\n" + Self.useA)
        let acl = try #require(program.acls["a"])
        #expect(acl.matches(VCLIP("1.2.3.200")!))   // -pedantic: read as 1.2.3.0/24
        #expect(acl.matches(VCLIP("10.1.2.77")!))   // "10.1.2" is 10.1.2.0/24, not 10.1.0.2
        #expect(!acl.matches(VCLIP("10.1.3.1")!))
        #expect(program.warnings.filter { $0.message.contains("...invalid ignored") }.count == 2)
    }

    @Test func orderingNeedsAnOrderedLeftSide() {  // v00017
        #expect(Self.says("vcl 4.1;\nsub vcl_recv { if (client.ip > \"127.0.0.1\") { return (pass); } }\n",
                          "Operator > not possible on IP"))
    }

    @Test func statementsAndReturns() {  // v00018
        for (body, words) in [
            ("sub vcl_hash { hash_data(req.foo); }", "Unknown property 'foo' for type HTTP"),
            ("sub vcl_backend_response { set beresp.do_gzip = mu; }", "Symbol not found: 'mu'"),
            ("sub vcl_backend_fetch { set bereq.body = \"foo\"; }", "Variable cannot be set."),
            ("sub vcl_recv { ban (<<); }", "Unknown token '<<' when looking for STRING"),
            ("sub vcl_synth { synthetic( << \"foo\"; }", "Unknown token '<<' when looking for STRING"),
            ("sub vcl_recv { ban_hash (if); }", "Symbol not found: 'ban_hash'"),
            ("sub vcl_recv { kluf ; }", "Symbol not found: 'kluf'"),
            ("sub vcl_recv { return(synth); }", "Missing argument."),
            ("sub vcl_recv { return(pipe(XXX); }", "Arguments not allowed."),
            ("sub vcl_recv { return(foobar); }", "Expected return action name."),
            ("sub vcl_recv { synthetic(\"XXX\"); return (synth(503)); }", "Not a valid action in subroutine 'vcl_recv'"),
            ("sub vcl_recv { return (vcl(vcl_recv)); }", "Symbol 'vcl_recv' has wrong type (sub), expected vcl:"),
            ("import directors;\nsub vcl_recv { set req.backend_hint = directors.round_robin.backend(); }", "Syntax error"),
            ("import directors;\nsub vcl_recv { directors.round_robin.backend(); }", "Syntax error"),
            ("import directors;\nsub vcl_init { new rr = directors.round_robin(); rr; }", "Expected '.' got ';'"),
        ] {
            #expect(Self.says("vcl 4.1;\n\(body)\n", words), "\(body)")
        }
        #expect(Self.says("vcl 4.0;\nsub vcl_recv { return (vcl(vcl_recv)); }\n", "Symbol not found: 'vcl_recv'"))
    }

    @Test func bytesNeedTheirUnit() {  // v00033
        #expect(Self.says("vcl 4.0;\nsub vcl_recv { if (storage.Transient.free_space > 4 \"X\") { } }\n",
                          "Expected BYTES unit (B, KB, MB...) got '\"X\"'"))
        #expect(Self.says("vcl 4.0;\nsub vcl_recv { if (storage.Transient.free_space > 4 X) { } }\n", "Unknown BYTES unit"))
    }
}
