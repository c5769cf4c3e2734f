extension Compiler {
    /// Compiles an expression, or reports why it cannot be and returns nil.
    func compile(_ expr: Expr) -> CompiledExpr? {
        switch expr.kind {
        case .string(let text): return .string { _ in text }
        case .integer(let value): return .int { _ in value }
        case .real(let value): return .real { _ in value }
        case .duration(let value): return .duration { _ in value }
        case .bytes(let value): return .bytes { _ in value }
        case .bool(let value): return .bool { _ in value }
        case .identifier(let name): return compileIdentifier(name, expr)
        case .call(let name, let arguments): return compileCall(name, arguments, expr)
        case .unary(let op, let operand): return compileUnary(op, operand, expr)
        case .binary(let op, let lhs, let rhs): return compileBinary(op, lhs, rhs, expr)
        }
    }

    /// Compiles and converts to `type`, with VCL's implicit conversions (anything to STRING,
    /// INT to REAL, STRING/BACKEND to BOOL).
    func compile(_ expr: Expr, as type: VCLType, what: String) -> CompiledExpr? {
        if type == .backend, undefinedBackend(expr) { return nil }
        if type == .ip, case .string(let text) = expr.kind {
            // An IP constant written as a string, read when compiled (as vcc does).
            guard let ip = VCLIP(addressAndPort: text, defaultPort: 80) else {
                return typeError(expr, "IP constant '\(text)' could not be resolved to an IP address (\(what))")
            }
            return .ip { _ in ip }
        }
        guard let value = compile(expr) else { return nil }
        if value.type == type { return value }
        switch type {
        case .string: if let f = value.asString { return .string(f) }
        case .real: if let f = value.asReal { return .real(f) }
        case .bool: if let f = value.asBool { return .bool(f) }
        default: break
        }
        return typeError(expr, "\(what): expected \(type.rawValue), found \(value.type.rawValue)")
    }

    func compileString(_ expr: Expr, what: String) -> CompiledExpr.Fn<String?>? {
        guard case .string(let f)? = compile(expr, as: .string, what: what) else { return nil }
        return f
    }

    func compileBool(_ expr: Expr, what: String) -> CompiledExpr.Fn<Bool>? {
        guard case .bool(let f)? = compile(expr, as: .bool, what: what) else { return nil }
        return f
    }

    /// Where a BACKEND is expected, vcc takes an unknown plain name for a backend declared
    /// later, and fails at the end with "Undefined backend NAME, first reference:" (reported
    /// once per name). True when `expr` is such a name.
    func undefinedBackend(_ expr: Expr) -> Bool {
        guard let name = expr.identifierName, !name.contains("."), Variables.lookup(name) == nil,
              !backendNames.contains(name), acls[name] == nil, directors[name] == nil,
              symbols.probes[name] == nil, symbols.acls[name] == nil, symbols.directors[name] == nil else { return false }
        if undefinedBackends.insert(name).inserted {
            sink.error(expr.location, "Undefined backend \(name), first reference:")
        }
        return true
    }

    private func compileIdentifier(_ name: String, _ expr: Expr) -> CompiledExpr? {
        if let spec = Variables.lookup(name) {
            if name.hasPrefix("obj.http.") || name == "obj.reason" { readsObjectHeaders = true }
            return spec.getter
        }
        if backendNames.contains(name) { return .backend { _ in name } }
        if let acl = acls[name] { return .acl(acl) }
        if let director = directors[name] {
            return .backend { director.pick(key: nil, context: $0) }
        }
        if symbols.probes[name] != nil { return typeError(expr, "Probe '\(name)' cannot be used in an expression") }
        if name.hasPrefix("storage.") {
            // A store (`storage.s0`, `storage.Transient`) and its gauges, read from the
            // server's store (outside a server: empty and never full).
            let parts = name.split(separator: ".")
            let store = parts.count > 1 ? String(parts[1]) : ""
            switch (parts.count, parts.last) {
            case (2, _): return .string { _ in name }
            case (3, "free_space"): return .bytes { $0.storageGauges?.space(ofStore: store)?.free ?? Int64.max / 2 }
            case (3, "used_space"): return .bytes { $0.storageGauges?.space(ofStore: store)?.used ?? 0 }
            case (3, "happy"): return .bool { _ in true }
            default: return typeError(expr, "Unknown store attribute '\(name)' (stores have free_space, used_space, happy)")
            }
        }
        // vcc's words: req, bereq, beresp and resp are HTTP objects, whose unknown member is an
        // unknown property; any other unknown name is a symbol not found.
        let parts = name.split(separator: ".", maxSplits: 2)
        if parts.count > 1, ["req", "bereq", "beresp", "resp"].contains(parts[0]) {
            let at = SourceLocation(file: expr.location.file, line: expr.location.line,
                                    column: expr.location.column + parts[0].utf8.count + 1)
            sink.error(at, "Unknown property '\(parts[1])' for type HTTP\(Variables.legacyHint(name))")
            return nil
        }
        return typeError(expr, "Symbol not found: '\(name)'\(Variables.legacyHint(name))")
    }

    private func compileUnary(_ op: String, _ operand: Expr, _ expr: Expr) -> CompiledExpr? {
        if op == "!" {
            guard let f = compileBool(operand, what: "Operand of '!'") else { return nil }
            return .bool { !f($0) }
        }
        guard let value = compile(operand) else { return nil }
        switch value {
        case .int(let f): return .int { 0 &- f($0) }
        case .real(let f): return .real { -f($0) }
        case .duration(let f): return .duration { -f($0) }
        case .bytes(let f): return .bytes { 0 &- f($0) }
        default: return typeError(expr, "Operator '-' cannot be applied to \(value.type.rawValue)")
        }
    }

    private func compileBinary(_ op: String, _ lhs: Expr, _ rhs: Expr, _ expr: Expr) -> CompiledExpr? {
        switch op {
        case "&&", "||":
            guard let a = compileBool(lhs, what: "Left operand of '\(op)'"),
                  let b = compileBool(rhs, what: "Right operand of '\(op)'") else { return nil }
            return op == "&&" ? .bool { a($0) && b($0) } : .bool { a($0) || b($0) }
        case "~", "!~":
            return compileMatch(negated: op == "!~", lhs, rhs, expr)
        case "==", "!=", "<", ">", "<=", ">=":
            return compileComparison(op, lhs, rhs, expr)
        case "+":
            return compileAddition(lhs, rhs, expr)
        default:
            return compileArithmetic(op, lhs, rhs, expr)
        }
    }

    private func compileMatch(negated: Bool, _ lhs: Expr, _ rhs: Expr, _ expr: Expr) -> CompiledExpr? {
        guard let left = compile(lhs) else { return nil }
        if let name = rhs.identifierName, let acl = acls[name] {
            guard case .ip(let ip) = left else {
                return typeError(lhs, "ACL '\(name)' matches an IP, found \(left.type.rawValue)")
            }
            return .bool { context in (ip(context).map(acl.matches) ?? false) != negated }
        }
        if case .ip = left, Compiler.literalConcatenation(rhs) == nil {
            // An IP matches an ACL (a string literal is matched as a regex, a Shellac extension).
            guard let value = compile(rhs) else { return nil }
            return typeError(rhs, "Expression has type \(value.type.rawValue), expected ACL")
        }
        guard let subject = left.asString else {
            return typeError(lhs, "Cannot match a regular expression against \(left.type.rawValue)")
        }
        guard let regex = regex(rhs, what: "the right side of '~' must be a regular expression literal or an ACL") else {
            return nil
        }
        // An unset subject matches as the empty string, as in Varnish; that answer is known now,
        // and an absent header (`req.http.Cookie ~ ...` without a cookie) is the usual case.
        let emptyResult = regex.matches("") != negated
        return .bool { context in
            guard let text = subject(context) else { return emptyResult }
            return regex.matches(text, scratch: context.scratch) != negated
        }
    }

    private func compileComparison(_ op: String, _ lhs: Expr, _ rhs: Expr, _ expr: Expr) -> CompiledExpr? {
        guard let a = compile(lhs) else { return nil }
        // As vcc, the left side's type decides what applies: ordering is for numbers, times
        // and strings (`client.ip > "..."` is refused, not compared as text).
        if op != "==" && op != "!=" && !(a.type.isNumeric || a.type == .string) {
            return typeError(expr, "Operator \(op) not possible on \(a.type.rawValue)")
        }
        if a.type == .bytes, let number = Compiler.unitlessNumber(rhs) {
            // vcc reads a number where BYTES is expected together with its unit (`4 KB`).
            let next = Compiler.token(after: number)
            sink.error(next?.location ?? number.location, "Expected BYTES unit (B, KB, MB...) got \(next?.vccText ?? "end of input")")
            return nil
        }
        if a.type == .backend, undefinedBackend(rhs) { return nil }
        guard let b = compile(rhs) else { return nil }
        func order<T: Comparable & Sendable>(_ x: @escaping @Sendable (VCLContext) -> T,
                                  _ y: @escaping @Sendable (VCLContext) -> T) -> CompiledExpr {
            switch op {
            case "==": return .bool { x($0) == y($0) }
            case "!=": return .bool { x($0) != y($0) }
            case "<": return .bool { x($0) < y($0) }
            case ">": return .bool { x($0) > y($0) }
            case "<=": return .bool { x($0) <= y($0) }
            default: return .bool { x($0) >= y($0) }
            }
        }
        switch (a, b) {
        case (.int(let x), .int(let y)), (.bytes(let x), .bytes(let y)): return order(x, y)
        case (.duration(let x), .duration(let y)), (.time(let x), .time(let y)), (.real(let x), .real(let y)):
            return order(x, y)
        default: break
        }
        if let x = a.asReal, let y = b.asReal { return order(x, y) }
        let equality = op == "==" || op == "!="
        switch (a, b) {
        case (.bool(let x), .bool(let y)) where equality:
            return op == "==" ? .bool { x($0) == y($0) } : .bool { x($0) != y($0) }
        case (.ip(let x), .ip(let y)) where equality:
            // As VRT_ipcmp: the addresses are compared, not the ports.
            let same: CompiledExpr.Fn<Bool> = { x($0)?.withoutPort == y($0)?.withoutPort }
            return op == "==" ? .bool(same) : .bool { !same($0) }
        case (.backend(let x), .backend(let y)) where equality:
            return op == "==" ? .bool { x($0) == y($0) } : .bool { x($0) != y($0) }
        default: break
        }
        if a.type == .string || b.type == .string, let x = a.asString, let y = b.asString {
            // An unset string equals nothing, not even another unset one (Varnish's VRT_strcmp).
            switch op {
            case "==": return .bool { context in
                let (left, right) = (x(context), y(context))
                return left != nil && left == right
            }
            case "!=": return .bool { context in
                let (left, right) = (x(context), y(context))
                return left == nil || left != right
            }
            default: return order({ x($0) ?? "" }, { y($0) ?? "" })
            }
        }
        return typeError(expr, "Cannot compare \(a.type.rawValue) \(op) \(b.type.rawValue)")
    }

    /// The number without a unit an operand starts with (`4` in `4 "X"` or `4 * 1KB`), if any.
    static func unitlessNumber(_ expr: Expr) -> Expr? {
        switch expr.kind {
        case .integer, .real: return expr
        case .binary(_, let lhs, _): return unitlessNumber(lhs)
        case .unary(_, let operand): return unitlessNumber(operand)
        default: return nil
        }
    }

    /// The token written after `expr`'s first token, for vcc's "got ..." (errors only: the
    /// file is read again).
    static func token(after expr: Expr) -> Token? {
        let file = expr.location.file
        let start = file.offset(of: expr.location)
        return Lexer.tokenize(file, sink: DiagnosticSink()).first { file.offset(of: $0.location) > start }
    }

    /// `a + b + c ...`: the left-leaning chain is flattened and each operand compiled once.
    /// Folding left to right, numbers add until a STRING appears; from then on every operand is
    /// converted and the parts are joined into one string at run time.
    private func compileAddition(_ lhs: Expr, _ rhs: Expr, _ expr: Expr) -> CompiledExpr? {
        var operands = [rhs]
        var sums = [expr]
        var head = lhs
        while case .binary("+", let left, let right) = head.kind {
            operands.append(right)
            sums.append(head)
            head = left
        }
        operands.append(head)
        operands.reverse()
        sums.reverse()
        var compiled: [CompiledExpr] = []
        for operand in operands {
            guard let value = compile(operand) else { return nil }
            compiled.append(value)
        }
        var accumulated = compiled[0]
        var parts: [CompiledExpr.Fn<String?>]?
        for index in 1..<compiled.count {
            let next = compiled[index], site = sums[index - 1]
            if parts != nil || accumulated.type == .string || next.type == .string {
                guard let tail = next.asString else {
                    return typeError(site, "Cannot concatenate \(accumulated.type.rawValue) and \(next.type.rawValue)")
                }
                if parts == nil {
                    guard let first = accumulated.asString else {
                        return typeError(site, "Cannot concatenate \(accumulated.type.rawValue) and \(next.type.rawValue)")
                    }
                    parts = [first]
                }
                parts?.append(tail)
                continue
            }
            guard let sum = compileArithmetic("+", operands[index - 1], operands[index], site, accumulated, next) else { return nil }
            accumulated = sum
        }
        guard let parts else { return accumulated }
        if parts.count == 2 {
            let (x, y) = (parts[0], parts[1])
            return .string { (x($0) ?? "") + (y($0) ?? "") }
        }
        return .string { context in
            var result = ""
            for part in parts { if let piece = part(context) { result += piece } }
            return result
        }
    }

    func compileArithmetic(_ op: String, _ lhs: Expr, _ rhs: Expr, _ expr: Expr,
                           _ left: CompiledExpr? = nil, _ right: CompiledExpr? = nil) -> CompiledExpr? {
        guard let a = left ?? compile(lhs), let b = right ?? compile(rhs) else { return nil }
        func real(_ x: @escaping CompiledExpr.Fn<Double>, _ y: @escaping CompiledExpr.Fn<Double>) -> CompiledExpr.Fn<Double> {
            switch op {
            case "+": return { x($0) + y($0) }
            case "-": return { x($0) - y($0) }
            case "*": return { x($0) * y($0) }
            default: return { x($0) / y($0) }
            }
        }
        func int(_ x: @escaping CompiledExpr.Fn<Int64>, _ y: @escaping CompiledExpr.Fn<Int64>) -> CompiledExpr.Fn<Int64> {
            switch op {
            case "+": return { x($0) &+ y($0) }
            case "-": return { x($0) &- y($0) }
            case "*": return { x($0) &* y($0) }
            case "%":
                return { context in
                    let divisor = y(context)
                    if divisor == 0 { context.fail("INT modulo by zero"); return 0 }
                    return x(context).remainderReportingOverflow(dividingBy: divisor).partialValue
                }
            default:
                return { context in
                    let divisor = y(context)
                    if divisor == 0 { context.fail("INT division by zero"); return 0 }
                    return x(context).dividedReportingOverflow(by: divisor).partialValue
                }
            }
        }
        if op == "%" {
            // As vcc: the remainder exists for INT only.
            if case .int(let x) = a, case .int(let y) = b { return .int(int(x, y)) }
            return typeError(expr, "Operator % only possible on INT.")
        }
        switch (a, b, op) {
        case (.time(let x), .duration(let y), "+"), (.duration(let y), .time(let x), "+"): return .time(real(x, y))
        case (.int(let x), .int(let y), _): return .int(int(x, y))
        case (.bytes(let x), .bytes(let y), "+"), (.bytes(let x), .bytes(let y), "-"): return .bytes(int(x, y))
        case (.bytes(let x), .int(let y), "*"), (.bytes(let x), .int(let y), "/"): return .bytes(int(x, y))
        case (.duration(let x), .duration(let y), "+"), (.duration(let x), .duration(let y), "-"): return .duration(real(x, y))
        case (.duration(let x), .duration(let y), "/"): return .real(real(x, y))
        case (.time(let x), .duration(let y), "-"): return .time(real(x, y))
        case (.time(let x), .time(let y), "-"): return .duration(real(x, y))
        case (.duration(let x), _, "*"), (.duration(let x), _, "/"):
            if let y = b.asReal { return .duration(real(x, y)) }
        case (_, .duration(let y), "*"):
            if let x = a.asReal { return .duration(real(x, y)) }
        default:
            if let x = a.asReal, let y = b.asReal { return .real(real(x, y)) }
        }
        return typeError(expr, "Operator '\(op)' cannot be applied to \(a.type.rawValue) and \(b.type.rawValue)")
    }
}
