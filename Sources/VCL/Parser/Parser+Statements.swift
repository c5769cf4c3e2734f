extension Parser {
    /// Parses `{ statement* }`.
    mutating func parseBlock() throws -> [Statement] {
        try expect("{", "to open the block")
        try enterNesting()
        defer { depth -= 1 }
        var statements: [Statement] = []
        while !accept("}") {
            if current.kind == .endOfFile { throw fail(current.location, "Unterminated block, expected '}'") }
            do {
                if let statement = try parseStatement() { statements.append(statement) }
            } catch {
                recoverInBlock()
            }
        }
        return statements
    }

    /// The assignments vcc allows for a variable, by its type: `+=` and the others for numbers
    /// and times, `+=` for strings, only `=` for the rest (BOOL, BACKEND, ...). An unknown name
    /// takes them all (it is reported as unknown later).
    static func assignmentOperators(for target: String) -> Set<String> {
        switch Variables.lookup(target)?.type {
        case .int?, .duration?, .time?, nil: return ["=", "+=", "-=", "*=", "/="]
        case .string?: return ["=", "+="]
        default: return ["="]
        }
    }

    static let legacyBareActions: Set<String> = [
        "pass", "lookup", "pipe", "deliver", "fetch", "restart", "hash", "discard", "keep", "purge",
    ]

    mutating func parseStatement() throws -> Statement? {
        let token = current
        let location = token.location
        if accept(";") { return nil }
        guard let keyword = token.identifier else {
            throw fail(location, "Expected a statement, found \(token.display)")
        }
        switch keyword {
        case "set":
            advance()
            let (target, targetLocation) = try expectIdentifier("a variable name after set")
            let op: String
            if case .symbol(let symbol) = current.kind, Parser.assignmentOperators(for: target).contains(symbol) {
                op = symbol
                advance()
            } else {
                throw fail(current.location, "Expected '=' got \(current.vccText) (after set \(target))")
            }
            let value = try parseExpression(lookingFor: Variables.lookup(target)?.type.rawValue)
            try expect(";", "after the set statement")
            return Statement(kind: .set(target: target, targetLocation: targetLocation, op: op, value: value), location: location)
        case "unset", "remove":
            advance()
            let (target, targetLocation) = try expectIdentifier("a variable name after \(keyword)")
            try expect(";", "after the \(keyword) statement")
            if keyword == "remove" { sink.warning(location, "'remove' is legacy syntax; read as 'unset'") }
            return Statement(kind: .unset(target: target, targetLocation: targetLocation), location: location)
        case "if":
            advance()
            return try parseIf(at: location)
        case "return":
            advance()
            if accept(";") { return Statement(kind: .returnAction(nil), location: location) }
            try expect("(", "after return")
            let action = try parseReturnAction()
            try expect(")", "after the return action")
            try expect(";", "after return")
            return Statement(kind: .returnAction(action), location: location)
        case "call":
            advance()
            let (name, _) = try expectIdentifier("a subroutine name after call")
            try expect(";", "after call")
            return Statement(kind: .call(name: name), location: location)
        case "synthetic", "hash_data", "ban":
            advance()
            let argument = try parseExpression(lookingFor: VCLType.string.rawValue)
            try expect(";", "after \(keyword)(...)")
            let kind: Statement.Kind = keyword == "synthetic" ? .synthetic(argument)
                : keyword == "hash_data" ? .hashData(argument) : .ban(argument)
            return Statement(kind: kind, location: location)
        case "new":
            advance()
            let (name, _) = try expectIdentifier("an object name after new")
            try expect("=", "after new \(name)")
            let constructor = try parseExpression()
            try expect(";", "after new")
            return Statement(kind: .new(name: name, constructor: constructor), location: location)
        case "error" where !peek().isSymbol("("):
            advance()
            var status: Expr?, reason: Expr?
            if !current.isSymbol(";") { status = try parsePrimaryOrUnary() }
            if !current.isSymbol(";") { reason = try parseExpression() }
            try expect(";", "after error")
            return Statement(kind: .legacyError(status: status, reason: reason), location: location)
        case "esi" where peek().isSymbol(";"):
            advance()
            advance()
            return Statement(kind: .legacyESI, location: location)
        default:
            if Parser.legacyBareActions.contains(keyword), peek().isSymbol(";") {
                advance()
                advance()
                return Statement(kind: .legacyBareAction(keyword), location: location)
            }
            let expression = try parseExpression()
            switch expression.kind {
            case .call: break
            // A bare name: vcc looks it up as a symbol, and the compiler says what it is.
            case .identifier where current.isSymbol(";"): break
            default: throw fail(location, "Expected a statement, found \(token.display)")
            }
            try expect(";", "after the call")
            return Statement(kind: .expression(expression), location: location)
        }
    }

    mutating func parseIf(at location: SourceLocation) throws -> Statement {
        var branches: [(condition: Expr, body: [Statement])] = []
        try expect("(", "after if")
        let condition = try parseExpression(lookingFor: VCLType.bool.rawValue)
        try expect(")", "after the if condition")
        branches.append((condition, try parseBlock()))
        var elseBody: [Statement]?
        while true {
            if current.isIdentifier("elseif") || current.isIdentifier("elsif") || current.isIdentifier("elif")
                || (current.isIdentifier("else") && peek().isIdentifier("if")) {
                if current.isIdentifier("else") { advance() }
                advance()
                try expect("(", "after elseif")
                let condition = try parseExpression()
                try expect(")", "after the elseif condition")
                branches.append((condition, try parseBlock()))
            } else if current.isIdentifier("else") {
                advance()
                elseBody = try parseBlock()
                break
            } else {
                break
            }
        }
        return Statement(kind: .ifElse(branches: branches, elseBody: elseBody), location: location)
    }

    /// The return actions that take no arguments (vcc: "Arguments not allowed.").
    static let argumentlessActions: Set<String> = [
        "abandon", "deliver", "fetch", "hash", "lookup", "miss", "ok", "pipe", "purge", "restart", "retry",
    ]

    mutating func parseReturnAction() throws -> ReturnAction {
        let (name, location) = try expectIdentifier("an action")
        var arguments: [Expr] = []
        if current.isSymbol("("), Parser.argumentlessActions.contains(name) {
            throw fail(current.location, "Arguments not allowed. (return (\(name)) takes none)")
        }
        if accept("(") {
            if !accept(")") {
                repeat { arguments.append(try parseExpression()) } while accept(",")
                try expect(")", "after the action arguments")
            }
        }
        return ReturnAction(name: name, arguments: arguments, location: location)
    }
}
