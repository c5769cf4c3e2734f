import Testing
@testable import VCL

@Suite struct ParserTests {
    func parse(_ text: String, includes: IncludeResolver? = nil) -> ([Declaration], DiagnosticSink) {
        let sink = DiagnosticSink()
        var parser = Parser(file: SourceFile(name: "main.vcl", text: text), sink: sink, includes: includes)
        return (parser.parseFile(), sink)
    }

    func sub(_ declarations: [Declaration], _ name: String) -> SubDecl? {
        for case .sub(let sub) in declarations where sub.name == name { return sub }
        return nil
    }

    @Test func topLevelDeclarations() {
        let (declarations, sink) = parse("""
            vcl 4.1;
            import std;
            import directors;
            probe p { .url = "/"; .window = 8; }
            backend b { .host = "h"; .port = "1"; .probe = p; }
            backend c { .host = "h"; .probe = { .url = "/x"; } }
            acl a { "h"; "10.0.0.0"/8; !"10.1.0.0"/16; ("maybe.invalid"); }
            sub vcl_recv { }
            """)
        #expect(!sink.hasErrors, "\(sink.diagnostics)")
        #expect(declarations.count == 8)
        guard case .version("4.1", _) = declarations[0] else { Issue.record("version"); return }
        guard case .acl(let acl) = declarations[6] else { Issue.record("acl"); return }
        #expect(acl.entries.map(\.address) == ["h", "10.0.0.0", "10.1.0.0", "maybe.invalid"])
        #expect(acl.entries.map(\.maskBits) == [nil, 8, 16, nil])
        #expect(acl.entries.map(\.negated) == [false, false, true, false])
        #expect(acl.entries[3].optional)
        guard case .backend(let c) = declarations[5], case .probe(let inline) = c.fields[1].value else {
            Issue.record("inline probe"); return
        }
        #expect(inline.fields.first?.name == "url")
    }

    @Test func statements() {
        let (declarations, sink) = parse("""
            vcl 4.1;
            sub vcl_recv {
                set req.http.A = "1";
                set req.http.B += "2";
                unset req.http.C;
                if (true) { call x; } elseif (false) { } elsif (true) { } else if (false) { } else { }
                return (synth(404, "Nope"));
                synthetic("x");
                hash_data(req.url);
                ban("req.url ~ /");
                new rr = directors.round_robin();
                std.log("x");
                return;
            }
            """)
        #expect(!sink.hasErrors, "\(sink.diagnostics)")
        let body = sub(declarations, "vcl_recv")?.body ?? []
        #expect(body.count == 11)
        guard case .set("req.http.B", _, "+=", _) = body[1].kind else { Issue.record("set +="); return }
        guard case .ifElse(let branches, let elseBody) = body[3].kind else { Issue.record("if"); return }
        #expect(branches.count == 4 && elseBody != nil)
        guard case .returnAction(let action?) = body[4].kind else { Issue.record("return"); return }
        #expect(action.name == "synth" && action.arguments.count == 2)
        guard case .new("rr", _) = body[8].kind, case .expression = body[9].kind, case .returnAction(nil) = body[10].kind else {
            Issue.record("new / expression / return"); return
        }
        #expect(body[3].location.line == 6 && body[3].location.column == 5)
    }

    @Test func precedence() {
        let (declarations, _) = parse("""
            vcl 4.1;
            sub vcl_recv { if (!req.url ~ "a" || req.url == "b" && 1 + 2 * 3 > 6) { } }
            """)
        guard case .ifElse(let branches, _) = sub(declarations, "vcl_recv")?.body.first?.kind,
              case .binary("||", let lhs, let rhs) = branches[0].condition.kind,
              case .unary("!", let negated) = lhs.kind, case .binary("~", _, _) = negated.kind,
              case .binary("&&", _, let comparison) = rhs.kind,
              case .binary(">", let sum, _) = comparison.kind,
              case .binary("+", _, let product) = sum.kind, case .binary("*", _, _) = product.kind else {
            Issue.record("precedence")
            return
        }
    }

    @Test func namedArguments() {
        let (declarations, sink) = parse("vcl 4.1;\nsub vcl_recv { set req.http.X = std.integer(s = req.http.Y, fallback = 3); }\n")
        #expect(!sink.hasErrors)
        guard case .set(_, _, _, let value) = sub(declarations, "vcl_recv")?.body.first?.kind,
              case .call("std.integer", let arguments) = value.kind else { Issue.record("call"); return }
        #expect(arguments.map(\.name) == ["s", "fallback"])
    }

    @Test func recoversAndReportsSeveralSyntaxErrors() {
        let (_, sink) = parse("""
            vcl 4.1;
            sub vcl_recv {
                set req.url "x";
                set = 1;
                if req.url { }
            }
            sub vcl_deliver { return (deliver) }
            """)
        let lines = sink.diagnostics.filter { $0.severity == .error }.map(\.location.line)
        #expect(lines == [3, 4, 5, 7], "\(sink.diagnostics)")
    }

    @Test func includesResolveRelativeToTheIncluder() {
        let resolver = IncludeResolver(virtualFiles: [
            "conf/sub/inner.vcl": "sub inner { set req.http.Inner = \"1\"; }\ninclude \"deeper.vcl\";\n",
            "conf/sub/deeper.vcl": "sub deeper { }\n",
        ])
        let sink = DiagnosticSink()
        var parser = Parser(file: SourceFile(name: "conf/main.vcl", text: "vcl 4.1;\ninclude \"sub/inner.vcl\";\n"),
                            sink: sink, includes: resolver)
        let declarations = parser.parseFile()
        #expect(!sink.hasErrors, "\(sink.diagnostics)")
        #expect(sub(declarations, "inner")?.location.file.name == "conf/sub/inner.vcl")
        #expect(sub(declarations, "deeper") != nil)
    }

    @Test func includesUseTheSearchPath() throws {
        let resolver = IncludeResolver(searchPath: ["/etc/shellac"], virtualFiles: ["/etc/shellac/lib.vcl": "sub lib { }\n"])
        let program = try VCLCompiler.compile(source: "vcl 4.1;\ninclude \"lib.vcl\";\nsub vcl_recv { call lib; }\n",
                                              name: "/tmp/x/main.vcl", includes: resolver)
        #expect(program.warnings.isEmpty)
    }

    @Test func recursiveIncludeIsAnError() {
        let resolver = IncludeResolver(virtualFiles: ["a.vcl": "include \"a.vcl\";\n"])
        do {
            _ = try VCLCompiler.compile(source: "vcl 4.1;\ninclude \"a.vcl\";\n", name: "main.vcl", includes: resolver)
            Issue.record("should fail")
        } catch {
            #expect(error.errors.first?.message.contains("Recursive include") == true)
            #expect(error.errors.first?.location.file.name == "a.vcl")
        }
    }

    @Test func errorsInIncludedFilesNameThatFile() {
        let resolver = IncludeResolver(virtualFiles: ["bad.vcl": "sub x {\n  set req.nope = 1;\n}\n"])
        do {
            _ = try VCLCompiler.compile(source: "vcl 4.1;\ninclude \"bad.vcl\";\nsub vcl_recv { call x; }\n",
                                        name: "main.vcl", includes: resolver)
            Issue.record("should fail")
        } catch {
            #expect(error.description.hasPrefix("bad.vcl:2:7: Unknown variable 'req.nope'\n  set req.nope = 1;\n      ^"))
        }
    }
}
