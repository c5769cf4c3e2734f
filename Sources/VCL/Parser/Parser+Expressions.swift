extension Parser {
    /// Parses an expression whose type the statement fixes, so that a token no expression
    /// starts with is reported in vcc's words: `Unknown token '<<' when looking for STRING`.
    mutating func parseExpression(lookingFor type: String?) throws -> Expr {
        let outer = lookingFor
        lookingFor = type
        defer { lookingFor = outer }
        return try parseExpression()
    }

    /// expression := and ('||' and)*
    mutating func parseExpression() throws -> Expr {
        try enterNesting()
        defer { depth -= 1 }
        var lhs = try parseAnd()
        while current.isSymbol("||") {
            let location = advance().location
            lhs = Expr(.binary(op: "||", lhs: lhs, rhs: try parseAnd()), location)
        }
        return lhs
    }

    mutating func parseAnd() throws -> Expr {
        var lhs = try parseNot()
        while current.isSymbol("&&") {
            let location = advance().location
            lhs = Expr(.binary(op: "&&", lhs: lhs, rhs: try parseNot()), location)
        }
        return lhs
    }

    /// As in vcc, `!` binds looser than comparisons: `!a ~ "x"` is `!(a ~ "x")`.
    mutating func parseNot() throws -> Expr {
        if current.isSymbol("!") {
            let location = advance().location
            try enterNesting()
            defer { depth -= 1 }
            return Expr(.unary(op: "!", operand: try parseNot()), location)
        }
        return try parseComparison()
    }

    static let comparisonOperators: Set<String> = ["==", "!=", "<", ">", "<=", ">=", "~", "!~"]

    mutating func parseComparison() throws -> Expr {
        let lhs = try parseAdditive()
        if case .symbol(let op) = current.kind, Parser.comparisonOperators.contains(op) {
            let location = advance().location
            if op == "~" || op == "!~", case .symbol(let symbol) = current.kind, symbol != "(" {
                // vcc's words: only a regular expression (or an ACL) may follow.
                throw fail(current.location, "Unknown token \(current.vccText) when looking for REGEX (the right side of '\(op)' is a regular expression or an ACL)")
            }
            let rhs = try parseAdditive()
            return Expr(.binary(op: op, lhs: lhs, rhs: rhs), location)
        }
        return lhs
    }

    mutating func parseAdditive() throws -> Expr {
        var lhs = try parseMultiplicative()
        while true {
            if current.isSymbol("+") || current.isSymbol("-") {
                let token = advance()
                guard case .symbol(let op) = token.kind else { break }
                lhs = Expr(.binary(op: op, lhs: lhs, rhs: try parseMultiplicative()), token.location)
            } else if isImplicitConcatenation(after: lhs) {
                // VCL 2.x/3.x juxtaposition: `"req.url == " req.url`.
                let location = current.location
                lhs = Expr(.binary(op: "+", lhs: lhs, rhs: try parseMultiplicative()), location)
            } else {
                break
            }
        }
        return lhs
    }

    private func isImplicitConcatenation(after lhs: Expr) -> Bool {
        if case .string = current.kind { return true }
        // Only dotted names (variables): a keyword such as `return` after a missing `;` is not an operand.
        if let name = current.identifier, name.contains("."), !peek().isSymbol("("), isStringEnded(lhs) { return true }
        return false
    }

    private func isStringEnded(_ expr: Expr) -> Bool {
        switch expr.kind {
        case .string: return true
        case .binary(op: "+", lhs: _, rhs: let rhs): return isStringEnded(rhs)
        default: return false
        }
    }

    mutating func parseMultiplicative() throws -> Expr {
        var lhs = try parsePrimaryOrUnary()
        while current.isSymbol("*") || current.isSymbol("/") || current.isSymbol("%") {
            let token = advance()
            guard case .symbol(let op) = token.kind else { break }
            lhs = Expr(.binary(op: op, lhs: lhs, rhs: try parsePrimaryOrUnary()), token.location)
        }
        return lhs
    }

    mutating func parsePrimaryOrUnary() throws -> Expr {
        if current.isSymbol("-") {
            let location = advance().location
            try enterNesting()
            defer { depth -= 1 }
            return Expr(.unary(op: "-", operand: try parsePrimaryOrUnary()), location)
        }
        if current.isSymbol("+") { advance() }
        return try parsePrimary()
    }

    mutating func parsePrimary() throws -> Expr {
        let token = current
        switch token.kind {
        case .string(let text):
            advance()
            return Expr(.string(text), token.location)
        case .integer(let value):
            advance()
            return Expr(.integer(value), token.location)
        case .real(let value):
            advance()
            return Expr(.real(value), token.location)
        case .duration(let value):
            advance()
            return Expr(.duration(value), token.location)
        case .bytes(let value):
            advance()
            return Expr(.bytes(value), token.location)
        case .symbol("("):
            advance()
            let inner = try parseExpression()
            try expect(")", "to close the parenthesis")
            return inner
        case .identifier(let name):
            advance()
            if name == "true" || name == "True" { return Expr(.bool(true), token.location) }
            if name == "false" || name == "False" { return Expr(.bool(false), token.location) }
            if accept("(") {
                // An argument's type is the function's business.
                let outer = lookingFor
                lookingFor = nil
                defer { lookingFor = outer }
                var arguments: [Expr.Argument] = []
                if !accept(")") {
                    repeat {
                        if let argName = current.identifier, peek().isSymbol("=") {
                            advance()
                            advance()
                            arguments.append(.init(name: argName, value: try parseExpression()))
                        } else {
                            arguments.append(.init(name: nil, value: try parseExpression()))
                        }
                    } while accept(",")
                    try expect(")", "to close the argument list of \(name)")
                }
                return Expr(.call(name: name, arguments: arguments), token.location)
            }
            return Expr(.identifier(name), token.location)
        case .blob:
            throw fail(token.location, "Shellac takes a BLOB literal only as a backend's .preamble")
        default:
            if let lookingFor {
                throw fail(token.location, "Unknown token \(token.vccText) when looking for \(lookingFor)")
            }
            throw fail(token.location, "Expected an expression, found \(token.display)")
        }
    }
}
