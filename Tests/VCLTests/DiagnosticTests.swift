import Testing
@testable import VCL

@Suite struct DiagnosticTests {
    @Test func formatsLikeVcc() {
        let file = SourceFile(name: "default.vcl", text: "vcl 4.1;\nsub vcl_recv {\n\tset req.foo = 1;\n}\n")
        let diagnostic = VCLDiagnostic(.error, SourceLocation(file: file, line: 3, column: 6), "Unknown variable 'req.foo'")
        #expect(diagnostic.description == "default.vcl:3:6: Unknown variable 'req.foo'\n\tset req.foo = 1;\n\t    ^")
    }

    // (The caret is on the unknown property, as vcc puts it.)
    @Test func caretLinesUpAfterNonASCII() {
        let errors = Support.errors("vcl 4.1;\nsub vcl_recv { set req.http.X = \"é€\" + req.nope; }\n")
        let lines = errors.first?.description.split(separator: "\n") ?? []
        #expect(lines.count == 3)
        if lines.count == 3 {
            let caretColumn = lines[2].count - 1
            let source = Array(lines[1])
            #expect(source.count > caretColumn && String(source[caretColumn...]).hasPrefix("nope"))
        }
    }

    @Test func warningsSayWarning() {
        let file = SourceFile(name: "a.vcl", text: "sub vcl_fetch {}\n")
        let diagnostic = VCLDiagnostic(.warning, file.location(at: 4), "Legacy vcl_fetch")
        #expect(diagnostic.description.hasPrefix("a.vcl:1:5: warning: Legacy vcl_fetch\n"))
    }

    @Test func locationsFromOffsets() {
        let file = SourceFile(name: "x", text: "ab\ncd\r\nef")
        #expect(file.location(at: 0).line == 1)
        #expect(file.location(at: 4).column == 2)
        #expect(file.location(at: 7).line == 3)
        #expect(file.lineText(2) == "cd")
        #expect(file.lineText(3) == "ef")
    }

    @Test func compileErrorListsAll() {
        do {
            _ = try VCLCompiler.compile(source: "vcl 4.1;\nsub vcl_recv { set a = 1; set b = 2; }\n", name: "t.vcl")
            Issue.record("should fail")
        } catch {
            #expect(error.errors.count == 2)
            #expect(error.description.contains("t.vcl:2:20: Unknown variable 'a'"))
            #expect(error.description.contains("t.vcl:2:31: Unknown variable 'b'"))
        }
    }

    // MARK: - vcc's words, as Varnish 7.1's own tests look for them (the .vtc is named in each test)

    /// The messages of every error, compiling `source` with these `vcc_*` options.
    static func messages(_ source: String, options: VCLCompileOptions = VCLCompileOptions()) -> [String] {
        do {
            _ = try VCLCompiler.compile(source: source, name: "vtc.vcl", options: options)
            return []
        } catch {
            return error.errors.map(\.message)
        }
    }

    /// True when some error of `source` contains `text`.
    static func says(_ source: String, _ text: String, options: VCLCompileOptions = VCLCompileOptions()) -> Bool {
        messages(source, options: options).contains { $0.contains(text) }
    }

    @Test func inlineCIsNotAllowed() throws {  // c00052
        #expect(Self.says("vcl 4.1;\nbackend b none;\nC{ /*...*/ }C\n", "Inline-C not allowed"))
        #expect(Self.says("vcl 4.1;\nbackend b none;\nsub vcl_recv {\n\tC{ /*...*/ }C\n}\n", "Inline-C not allowed"))
        // vcc_allow_inline_c on: a block of nothing but comments changes nothing, so it is accepted.
        let allowed = VCLCompileOptions(allowInlineC: true)
        _ = try VCLCompiler.compile(source: "vcl 4.1;\nbackend b none;\nsub vcl_recv {\n\tC{ /*...*/ }C\n}\nC{ }C\n", options: allowed)
        #expect(Self.says("vcl 4.1;\nbackend b none;\nC{ int x; }C\n", "Inline-C not allowed", options: allowed))
    }

    @Test func regexOperands() {  // r00409
        #expect(Self.says("vcl 4.1;\nsub vcl_recv { if (req.url ~ ! \"\\.png$\") { return (pass); } }\n",
                          "Unknown token '!' when looking for REGEX"))
        #expect(Self.says("vcl 4.1;\nsub vcl_recv { if (req.url ~ req.http.regex) { return (pass); } }\n",
                          "Expression has type STRING, expected REGEX"))
        #expect(Self.says("vcl 4.1;\nsub vcl_recv { set req.url = regsub(req.url, req.http.regex, \"\"); }\n",
                          "Expression has type STRING, expected REGEX"))
    }

    @Test func regexLiteralsJoinedWithPlus() throws {  // b00028
        let program = try Support.compile("""
            vcl 4.1;
            sub vcl_backend_response {
                if (beresp.http.foo ~ "b" + "ar") { set beresp.http.foo1 = "1"; } else { set beresp.status = 999; }
            }
            """)
        let context = Support.request(program)
        context.beresp.headers = HeaderList([(name: "Foo", value: "bar")])
        _ = program.run(.backendResponse, context)
        #expect(context.beresp.headers["foo1"] == "1")
    }

    @Test func aclMaskTooWide() {  // v00017
        #expect(Self.says("vcl 4.1;\nacl a { \"10.1.2.3\"/33; }\nsub vcl_recv { if (client.ip ~ a) { return (pass); } }\n",
                          "Too wide mask (/33) for IPv4 address"))
        #expect(Self.says("vcl 4.1;\nacl a { \"1::2\"/129; }\nsub vcl_recv { if (client.ip ~ a) { return (pass); } }\n",
                          "Too wide mask (/129) for IPv6 address"))
    }

    @Test func assignmentOperatorsByType() throws {  // v00018
        #expect(Self.says("vcl 4.1;\nsub vcl_backend_response { set beresp.ttl >>= 2; }\n", "Expected '=' got '>>'"))
        #expect(Self.says("vcl 4.1;\nbackend b none;\nsub vcl_backend_fetch { set bereq.backend += b; }\n", "Expected '=' got '+='"))
        #expect(Self.says("vcl 4.1;\nsub vcl_backend_response { set beresp.do_gzip += 1; }\n", "Expected '=' got '+='"))
        #expect(Self.says("vcl 4.1;\nsub vcl_recv { set req.url = \"foo\" if \"bar\"; }\n", "Expected ';' got 'if'"))
        #expect(Self.says("vcl 4.1;\nsub vcl_backend_response { unset beresp.do_gzip; }\n", "Variable cannot be unset"))
        _ = try Support.compile("vcl 4.1;\nsub vcl_backend_response { set beresp.ttl /= 2; set beresp.http.X += \"y\"; }\n")
    }

    @Test func notAvailableInSubroutine() {  // v00021
        #expect(Self.says("vcl 4.1;\nsub vcl_deliver { set obj.ttl = 1 w; }\n", "Variable is read only."))
        #expect(Self.says("vcl 4.1;\nsub vcl_recv { set obj.ttl = 1 w; }\n", "Not available in subroutine 'vcl_recv'."))
        #expect(Self.says("vcl 4.1;\nsub foo { set obj.ttl = 1 w; }\nsub vcl_recv { call foo; }\n",
                          "Not available from subroutine 'vcl_recv'."))
        #expect(Self.says("vcl 4.1;\nsub vcl_recv { set req.http.foo = 100 + beresp.status; }\n",
                          "Not available in subroutine 'vcl_recv'."))
        #expect(Self.says("vcl 4.1;\nsub vcl_pipe { set req.hash_always_miss = true; }\n", "Cannot be set in subroutine 'vcl_pipe'."))
    }

    @Test func versionLine() {  // v00049
        #expect(Self.says("vcl 3.9;\nbackend b1 None;\n", "VCL version 3.9 not supported."))
        #expect(Self.says("vcl 9.9;\nbackend b1 None;\n", "VCL version 9.9 not supported"))
        for silly in ["vcl 4.01;", "vcl 4.00 ;", "vcl 04.0 ;"] {
            #expect(Self.says(silly + "\nbackend b1 None;\n", "Don't play silly buggers with VCL version numbers"), "\(silly)")
        }
        #expect(Self.says("vcl 4.0  backend b { .host = \"localhost\";} ", "Expected 'vcl N.N;' found no semi-colon"))
    }

    @Test func backendNameMustBeAName() {  // r01144
        let messages = Self.messages("vcl 4.1;\nbackend 0fedcba9876543210fedcba { .host = \"127.0.0.1\"; }\n")
        #expect(messages.first?.hasPrefix("Expected ID got '0'") == true, "\(messages)")
        #expect(!messages.contains { $0.contains("Unknown unit") })
    }

    @Test func collectNeedsAHeader() {  // r01212
        #expect(Self.says("vcl 4.1;\nimport std;\nsub vcl_recv { std.collect(\"foo\"); }\n",
                          "Expression has type STRING, expected HEADER"))
    }

    @Test func undefinedBackendOnce() {  // r00916
        let source = """
            vcl 4.1;
            backend b { .host = "127.0.0.1"; }
            sub s1 { }
            sub vcl_backend_response {
                if (bereq.backend == s-1) { set bereq.backend = s-1; }
            }
            """
        let messages = Self.messages(source)
        #expect(messages.filter { $0.contains("Undefined backend s-1, first reference:") }.count == 1, "\(messages)")
    }

    @Test func probeNumbersAreNumbers() {  // v00005
        #expect(Self.says("vcl 4.1;\nbackend default { .host = \"127.0.0.1\"; .probe = { .timeout = \"120s\"; } }\n",
                          "Expected CNUM got '\"120s\"'"))
    }

    @Test func quotedHeaderNames() throws {  // b00076
        #expect(Self.says("vcl 4.1;\nsub vcl_recv {\n\tset req.http.{\"line\nbreak\"} = \"invalid\";\n}\n",
                          "Invalid character '\\n' in header name"))
        #expect(Self.says("vcl 4.1;\nsub vcl_recv { set req.\"http\".wrong-quote = \"invalid\"; }\n", "Expected '=' got '.'"))
        let program = try Support.compile("vcl 4.1;\nsub vcl_recv { set req.http.\"123\" = \"456\"; set req.http.{\"!!!\"} = req.http.\"123\"; }\n")
        let context = Support.request(program)
        _ = program.run(.recv, context)
        #expect(context.req.headers["123"] == "456" && context.req.headers["!!!"] == "456")
    }

    @Test func blobLiterals() throws {  // i00000, b00075
        let cases = [
            (":a:", "BLOB must have n*4 base64 characters"), (":bbbbaa:", "BLOB must have n*4 base64 characters"),
            (":bbbbccccaaa:", "BLOB must have n*4 base64 characters"), (":aa?:", "Illegal BLOB character:"),
            (":aaaa=aa:", "Wrong padding ('=') in BLOB"), (":aaaa==a:", "Wrong padding ('=') in BLOB"),
            (":aaaaa=a:", "Wrong padding ('=') in BLOB"), (":AB==:", "Illegal BLOB character:"),
        ]
        for (blob, message) in cases {
            #expect(Self.says("vcl 4.1;\nsub vcl_recv { \(blob) }\n", message), "\(blob)")
        }
        #expect(Self.says("vcl 4.1;\n sub vcl_recv { :aaaa", "Missing colon at end of BLOB"))
        #expect(Self.says("vcl 4.1;\n sub vcl_recv { :", "Missing colon at end of BLOB"))
        let program = try Support.compile("""
            vcl 4.1;
            backend s1 {
                .host = "127.0.0.1";
                .preamble = :UE9TVCAvcHJlYW1ibGUgSFRUUC83LjMKSGVhZGVyOiA0MgoKCg==: ;
            }
            """)
        #expect(program.backends.first?.preamble == Array("POST /preamble HTTP/7.3\nHeader: 42\n\n\n".utf8))
    }

    @Test func plainReturnInABuiltinSubroutine() {  // v00034
        #expect(Self.says("vcl 4.1;\nsub vcl_recv { return; }\n", "Expected '(' got ';'"))
    }

    @Test func unusedObjects() throws {  // v00031 (vcc_err_unref), v00021
        let source = "vcl 4.1;\nbackend b { .host = \"127.0.0.1\"; }\nbackend c { .host = \"127.0.0.1\"; }\n"
        #expect(Self.says(source, "Unused backend c, defined:", options: VCLCompileOptions(unusedIsError: true)))
        let program = try Support.compile(source)
        #expect(program.warnings.contains { $0.message == "Unused backend c, defined:" })
        let strict = VCLCompileOptions(unusedIsError: true)
        #expect(Self.says("vcl 4.1;\nbackend b none;\nacl foo { \"127.0.0.1\"; }\n", "Unused acl foo, defined:", options: strict))
        #expect(Self.says("vcl 4.1;\nbackend b none;\nsub foo { }\n", "Unused sub foo, defined:", options: strict))
        // The first backend is the default, and what a used sub calls counts as used.
        _ = try VCLCompiler.compile(source: "vcl 4.1;\nbackend b none;\nsub a { call c; }\nsub c { }\nsub vcl_recv { call a; }\n",
                                    options: strict)
    }

    @Test func probeMustComeBeforeItsBackend() {  // r01837
        #expect(Self.says("vcl 4.1;\nbackend b { .host = \"127.0.0.1\"; .probe = p; }\nprobe p { }\n", "Symbol not found: 'p'"))
    }

    @Test func protoIsReadOnlyIn41() throws {  // v00001
        for (sub, variable) in [("vcl_deliver", "req.proto"), ("vcl_deliver", "resp.proto"),
                                ("vcl_backend_response", "bereq.proto"), ("vcl_backend_response", "beresp.proto")] {
            #expect(Self.says("vcl 4.1;\nsub \(sub) { set \(variable) = \"HTTP/1.2\"; }\n", "Variable is read only"), "\(variable)")
        }
        _ = try Support.compile("vcl 4.0;\nsub vcl_recv { set req.proto = \"HTTP/1.2\"; }\nsub vcl_deliver { set resp.proto = \"HTTP/1.2\"; }\n")
    }
}
