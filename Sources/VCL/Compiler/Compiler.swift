/// Lowers a checked VCL (symbol table) to closures; reports type errors with positions.
final class Compiler {
    let sink: DiagnosticSink
    let symbols: SymbolTable
    var acls: [String: VCLACL] = [:]
    var directors: [String: VCLDirector] = [:]
    var backendNames: Set<String> = []
    /// The backends healthy when the VCL is loaded (no probe, or a probe's `.initial` enough).
    var initiallyHealthy: Set<String> = []
    /// Each distinct pattern is compiled once and shared.
    var regexCache: [String: VCLRegex] = [:]
    /// Custom subs already compiled, by name.
    var compiledSubs: [String: Step] = [:]
    /// Undefined backend names already reported (vcc reports the first reference only).
    var undefinedBackends: Set<String> = []
    /// Set when an expression reads `obj.http.*` or `obj.reason` (see `VCLProgram`).
    var readsObjectHeaders = false
    /// Set when the VCL calls `std.rollback()`.
    var rollsBack = false
    /// Whether any code calls `std.cache_req_body()`.
    var cachesRequestBody = false
    /// Whether the built-in part of a subroutine runs as `NativeBuiltin` where there is one.
    let nativeBuiltins: Bool

    init(sink: DiagnosticSink, symbols: SymbolTable, nativeBuiltins: Bool = true) {
        self.sink = sink
        self.symbols = symbols
        self.nativeBuiltins = nativeBuiltins
        backendNames = Set(symbols.backends.map(\.name))
    }

    /// A regex from a string literal, or from literals joined with `+` (vcc joins them first),
    /// with its compile error placed at the offending column. Anything else is not a REGEX.
    func regex(_ expr: Expr, what: String = "a regular expression is a string literal") -> VCLRegex? {
        guard let joined = Compiler.literalConcatenation(expr) else {
            if let value = compile(expr) {
                sink.error(expr.location, "Expression has type \(value.type.rawValue), expected REGEX (\(what))")
            }
            return nil
        }
        let pattern = joined.text, first = joined.first
        if let cached = regexCache[pattern] { return cached }
        do {
            let compiled = try VCLRegex(pattern)
            regexCache[pattern] = compiled
            return compiled
        } catch {
            // Point into the literal: skip its opening quote ("  {"  or  """), then PCRE2's offset
            // (past the first of joined literals, at the first literal).
            let file = first.location.file
            let start = file.offset(of: first.location)
            let opening = file.bytes[start...].starts(with: Array("\"\"\"".utf8)) ? 3
                : file.bytes[start...].starts(with: Array("{\"".utf8)) ? 2 : 1
            let inFirst = error.offset <= (first.stringLiteral?.utf8.count ?? 0)
            let location = inFirst ? file.location(at: start + opening + error.offset) : first.location
            sink.error(location, "Regular expression error: \(error.message)")
            return nil
        }
    }

    /// The text of a string literal, or of string literals joined with `+`, and the first literal.
    static func literalConcatenation(_ expr: Expr) -> (text: String, first: Expr)? {
        switch expr.kind {
        case .string(let text): return (text, expr)
        case .binary("+", let lhs, let rhs):
            guard let left = literalConcatenation(lhs), let right = rhs.stringLiteral else { return nil }
            return (left.text + right, left.first)
        default: return nil
        }
    }

    func typeError(_ expr: Expr, _ message: String) -> CompiledExpr? {
        sink.error(expr.location, message)
        return nil
    }
}
