/// Lowers a checked VCL (symbol table) to closures; reports type errors with positions.
final class Compiler {
    let sink: DiagnosticSink
    let symbols: SymbolTable
    var acls: [String: VCLACL] = [:]
    var directors: [String: VCLDirector] = [:]
    var backendNames: Set<String> = []
    /// Each distinct pattern is compiled once and shared.
    var regexCache: [String: VCLRegex] = [:]
    /// Custom subs already compiled, by name.
    var compiledSubs: [String: Step] = [:]
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

    /// A regex from a string literal, with its compile error placed at the offending column.
    func regex(_ expr: Expr) -> VCLRegex? {
        guard let pattern = expr.stringLiteral else {
            sink.error(expr.location, "Expected a regular expression string literal")
            return nil
        }
        if let cached = regexCache[pattern] { return cached }
        do {
            let compiled = try VCLRegex(pattern)
            regexCache[pattern] = compiled
            return compiled
        } catch {
            // Point into the literal: skip its opening quote ("  {"  or  """), then PCRE2's offset.
            let file = expr.location.file
            let start = file.offset(of: expr.location)
            let opening = file.bytes[start...].starts(with: Array("\"\"\"".utf8)) ? 3
                : file.bytes[start...].starts(with: Array("{\"".utf8)) ? 2 : 1
            sink.error(file.location(at: start + opening + error.offset), "Regular expression error: \(error.message)")
            return nil
        }
    }

    func typeError(_ expr: Expr, _ message: String) -> CompiledExpr? {
        sink.error(expr.location, message)
        return nil
    }
}
