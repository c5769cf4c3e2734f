/// Recursive-descent parser from tokens to declarations; syntax errors are collected, then
/// parsing resumes at the next `;` or `}` so one run reports many errors.
struct Parser {
    var tokens: [Token]
    var index = 0
    /// Current nesting of expressions and blocks, bounded so hostile input cannot exhaust the stack.
    var depth = 0
    static let maximumDepth = 200
    let sink: DiagnosticSink
    let includes: IncludeResolver?
    /// Files being included, to reject include cycles.
    let includeStack: [String]
    /// `vcc_allow_inline_c`, for the lexer (see `Lexer.allowInlineC`).
    let allowInlineC: Bool
    /// The type the statement being parsed expects of its expression, for messages.
    var lookingFor: String?

    init(file: SourceFile, sink: DiagnosticSink, includes: IncludeResolver?, includeStack: [String] = [],
         allowInlineC: Bool = false) {
        self.tokens = Lexer.tokenize(file, sink: sink, allowInlineC: allowInlineC)
        self.sink = sink
        self.includes = includes
        self.includeStack = includeStack + [file.name]
        self.allowInlineC = allowInlineC
    }

    /// Thrown to unwind to a recovery point after a syntax error was reported.
    struct SyntaxError: Error {}

    var current: Token { tokens[index] }

    func peek(_ ahead: Int = 1) -> Token { tokens[min(index + ahead, tokens.count - 1)] }

    @discardableResult
    mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    mutating func accept(_ symbol: String) -> Bool {
        if current.isSymbol(symbol) {
            advance()
            return true
        }
        return false
    }

    /// Consumes `symbol`, or reports it missing in vcc's words: `Expected ';' got 'if'`, then
    /// the context in parentheses.
    mutating func expect(_ symbol: String, _ context: String = "") throws {
        guard accept(symbol) else {
            let suffix = context.isEmpty ? "" : " (" + context + ")"
            throw fail(current.location, "Expected '\(symbol)' got \(current.vccText)\(suffix)")
        }
    }

    /// Consumes a name, or reports it missing in vcc's words: `Expected ID got '0' (a backend name)`.
    mutating func expectIdentifier(_ what: String) throws -> (String, SourceLocation) {
        guard let name = current.identifier else {
            throw fail(current.location, "Expected ID got \(current.vccText) (\(what))")
        }
        let location = advance().location
        return (name, location)
    }

    /// Enters one level of nesting, or reports that the input nests too deeply.
    mutating func enterNesting() throws {
        depth += 1
        if depth > Parser.maximumDepth {
            throw fail(current.location, "Nesting deeper than \(Parser.maximumDepth) levels")
        }
    }

    func fail(_ location: SourceLocation, _ message: String) -> SyntaxError {
        sink.error(location, message)
        return SyntaxError()
    }

    /// Skips to just after the next `;` or to a `}` at the same nesting, for error recovery.
    mutating func recoverInBlock() {
        var depth = 0
        while current.kind != .endOfFile {
            if current.isSymbol("{") { depth += 1 }
            if current.isSymbol("}") {
                if depth == 0 { return }
                depth -= 1
                if depth == 0 { advance(); return }
            }
            if current.isSymbol(";") && depth == 0 { advance(); return }
            advance()
        }
    }

    /// Skips to the next top-level keyword.
    mutating func recoverAtTop() {
        var depth = 0
        while current.kind != .endOfFile {
            if current.isSymbol("{") { depth += 1 }
            if current.isSymbol("}") { depth = max(0, depth - 1) }
            if depth == 0, let name = current.identifier,
               ["sub", "backend", "acl", "probe", "import", "include", "vcl"].contains(name),
               index > 0, tokens[index - 1].isSymbol("}") || tokens[index - 1].isSymbol(";") {
                return
            }
            advance()
        }
    }
}
