import Testing
@testable import VCL

@Suite struct DiagnosticTests {
    @Test func formatsLikeVcc() {
        let file = SourceFile(name: "default.vcl", text: "vcl 4.1;\nsub vcl_recv {\n\tset req.foo = 1;\n}\n")
        let diagnostic = VCLDiagnostic(.error, SourceLocation(file: file, line: 3, column: 6), "Unknown variable 'req.foo'")
        #expect(diagnostic.description == "default.vcl:3:6: Unknown variable 'req.foo'\n\tset req.foo = 1;\n\t    ^")
    }

    @Test func caretLinesUpAfterNonASCII() {
        let errors = Support.errors("vcl 4.1;\nsub vcl_recv { set req.http.X = \"é€\" + req.nope; }\n")
        let lines = errors.first?.description.split(separator: "\n") ?? []
        #expect(lines.count == 3)
        if lines.count == 3 {
            let caretColumn = lines[2].count - 1
            let source = Array(lines[1])
            #expect(source.count > caretColumn && String(source[caretColumn...]).hasPrefix("req.nope"))
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
}
