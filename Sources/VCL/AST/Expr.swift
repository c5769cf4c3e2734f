/// An expression as written, before type checking.
struct Expr: Sendable {
    indirect enum Kind: Sendable {
        case string(String)
        case integer(Int64)
        case real(Double)
        case duration(Double)
        case bytes(Int64)
        case bool(Bool)
        /// A variable (`req.url`, `req.http.Host`) or a symbol (backend, ACL, probe, director).
        case identifier(String)
        /// A function or method call: `regsub(...)`, `std.log(...)`, `rr.backend()`.
        case call(name: String, arguments: [Argument])
        case unary(op: String, operand: Expr)
        case binary(op: String, lhs: Expr, rhs: Expr)
    }

    /// A call argument, optionally named (`std.integer(s = x, fallback = 0)`).
    struct Argument: Sendable {
        let name: String?
        let value: Expr
    }

    let kind: Kind
    let location: SourceLocation

    init(_ kind: Kind, _ location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The text of a string literal, or nil.
    var stringLiteral: String? {
        if case .string(let text) = kind { return text }
        return nil
    }

    /// The name of a bare identifier, or nil.
    var identifierName: String? {
        if case .identifier(let name) = kind { return name }
        return nil
    }
}
