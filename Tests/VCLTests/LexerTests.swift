import Testing
@testable import VCL

@Suite struct LexerTests {
    func lex(_ text: String) -> ([Token], DiagnosticSink) {
        let sink = DiagnosticSink()
        return (Lexer.tokenize(SourceFile(name: "t", text: text), sink: sink), sink)
    }

    @Test func identifiersKeepDotsAndDashes() {
        let (tokens, sink) = lex("set req.http.X-Forwarded-For = beresp.http.set-cookie;")
        #expect(!sink.hasErrors)
        #expect(tokens.map(\.kind) == [
            .identifier("set"), .identifier("req.http.X-Forwarded-For"), .symbol("="),
            .identifier("beresp.http.set-cookie"), .symbol(";"), .endOfFile,
        ])
    }

    @Test func exactPositions() {
        let (tokens, _) = lex("vcl 4.1;\n  sub  vcl_recv {\n\t}")
        let positions = tokens.map { "\($0.location.line):\($0.location.column)" }
        #expect(positions == ["1:1", "1:5", "1:8", "2:3", "2:8", "2:17", "3:2", "3:3"])
    }

    @Test func numbersDurationsAndBytes() {
        let (tokens, sink) = lex("42 1.5 100ms 10s 2m 3h 1d 1w 1y 1.5h 10KB 2MB 1GB 7B")
        #expect(!sink.hasErrors)
        #expect(tokens.map(\.kind) == [
            .integer(42), .real(1.5), .duration(0.1), .duration(10), .duration(120), .duration(10800),
            .duration(86400), .duration(604_800), .duration(31_536_000), .duration(5400),
            .bytes(10240), .bytes(2 << 20), .bytes(1 << 30), .bytes(7), .endOfFile,
        ])
    }

    @Test func stringsShortLongAndTriple() {
        let (tokens, sink) = lex("\"a b\" {\"multi\nline \"quoted\" \"} \"\"\"triple\"\"\"")
        #expect(!sink.hasErrors)
        #expect(tokens.map(\.kind) == [
            .string("a b"), .string("multi\nline \"quoted\" "), .string("triple"), .endOfFile,
        ])
    }

    @Test func commentsAreSkipped() {
        let (tokens, sink) = lex("# hash\n// slashes\n/* block\n comment */ sub")
        #expect(!sink.hasErrors)
        #expect(tokens.first?.kind == .identifier("sub"))
        #expect(tokens.first?.location.line == 4)
    }

    @Test func operators() {
        let (tokens, _) = lex("== != ~ !~ ! < > <= >= && || + - * / += =")
        let symbols = tokens.compactMap { token -> String? in
            if case .symbol(let s) = token.kind { return s }
            return nil
        }
        #expect(symbols == ["==", "!=", "~", "!~", "!", "<", ">", "<=", ">=", "&&", "||", "+", "-", "*", "/", "+=", "="])
    }

    @Test func errorsHavePositions() {
        let (_, sink) = lex("sub x {\n  \"open\n}")
        #expect(sink.diagnostics.first?.location.line == 2)
        #expect(sink.diagnostics.first?.location.column == 3)
        let (_, sink2) = lex("a @ b")
        #expect(sink2.diagnostics.first?.message.contains("'@'") == true)
        #expect(sink2.diagnostics.first?.location.column == 3)
    }
}
