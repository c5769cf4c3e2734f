/// A lexical token of VCL with its source location.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        /// An identifier; VCL identifiers include dots and dashes (`req.http.X-Forwarded-For`).
        case identifier(String)
        case string(String)
        case integer(Int64)
        case real(Double)
        /// A duration in seconds (`600s`, `1.5h`).
        case duration(Double)
        /// A byte count (`10KB`).
        case bytes(Int64)
        /// Punctuation and operators: `{ } ( ) ; , . = == != ~ !~ ! < > <= >= && || + - * / += -= *= /=`.
        case symbol(String)
        case endOfFile
    }

    let kind: Kind
    let location: SourceLocation

    var identifier: String? {
        if case .identifier(let name) = kind { return name }
        return nil
    }

    func isSymbol(_ symbol: String) -> Bool { kind == .symbol(symbol) }

    func isIdentifier(_ name: String) -> Bool { kind == .identifier(name) }

    /// A short rendering for error messages.
    var display: String {
        switch kind {
        case .identifier(let name): return "'\(name)'"
        case .string(let text): return "\"\(text)\""
        case .integer(let value): return "'\(value)'"
        case .real(let value): return "'\(value)'"
        case .duration(let value): return "duration '\(value)s'"
        case .bytes(let value): return "bytes '\(value)'"
        case .symbol(let symbol): return "'\(symbol)'"
        case .endOfFile: return "end of file"
        }
    }
}
