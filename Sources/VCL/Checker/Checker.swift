/// Resolves names and enforces Varnish's rules on where variables, statements and return
/// actions may appear, following calls so that a custom sub is checked in every built-in
/// subroutine that reaches it (as vcc does). Types are checked later by the compiler.
struct Checker {
    let sink: DiagnosticSink
    var symbols = SymbolTable()
    /// The file's `vcl` version, 40 or 41 (legacy files are read as 4.0): some variables are
    /// read-only from 4.1 on.
    let syntax: Int
    /// `vcc_err_unref`: an unused backend, probe, ACL or sub is an error, not a warning.
    let unusedIsError: Bool

    init(sink: DiagnosticSink, syntax: Int = 41, unusedIsError: Bool = false) {
        self.sink = sink
        self.syntax = syntax
        self.unusedIsError = unusedIsError
    }

    static let builtinNames = Set(VCLSubroutine.allCases.map(\.name))

    /// Builds the symbol table from the declarations and checks every sub.
    mutating func check(_ declarations: [Declaration]) -> SymbolTable {
        collect(declarations)
        computeContexts()
        checkReferences(declarations)
        for name in symbols.subOrder {
            guard let sub = symbols.subs[name] else { continue }
            // A sub no built-in subroutine reaches runs nowhere (checkReferences reports it).
            let mask = symbols.contexts[name] ?? .none
            if mask.isEmpty { continue }
            checkBlock(sub.body, in: sub, mask: mask)
        }
        return symbols
    }

    private mutating func collect(_ declarations: [Declaration]) {
        var seen: [String: SourceLocation] = [:]
        func claim(_ name: String, _ location: SourceLocation, _ what: String) -> Bool {
            if let previous = seen[name] {
                sink.error(location, "\(what) '\(name)' redefined (first defined at \(previous))")
                return false
            }
            seen[name] = location
            return true
        }
        for declaration in declarations {
            switch declaration {
            case .version: break
            case .import(let name, let location):
                if !["std", "directors", "purge", "xkey"].contains(name) {
                    sink.error(location, "Unknown VMOD '\(name)' (available: std, directors, purge, xkey)")
                }
                symbols.imports.insert(name)
            case .backend(let backend):
                if claim(backend.name, backend.location, "Backend") { symbols.backends.append(backend) }
            case .probe(let probe):
                if claim(probe.name, probe.location, "Probe") { symbols.probes[probe.name] = probe }
            case .acl(let acl):
                if claim(acl.name, acl.location, "ACL") { symbols.acls[acl.name] = acl }
            case .sub(let sub):
                if sub.name.hasPrefix("vcl_") && !Checker.builtinNames.contains(sub.name)
                    && BuiltinVCL.helpers[sub.name] == nil {
                    sink.error(sub.location, "Unknown built-in subroutine '\(sub.name)' (names starting with vcl_ are reserved)")
                    continue
                }
                if var existing = symbols.subs[sub.name] {
                    // vcl_* subroutines are concatenated; the user's own may be defined once.
                    guard sub.name.hasPrefix("vcl_") else {
                        sink.error(sub.location, "Subroutine '\(sub.name)' redefined (first defined at \(existing.location))")
                        continue
                    }
                    existing.body += sub.body
                    symbols.subs[sub.name] = existing
                } else {
                    if seen[sub.name] != nil {
                        sink.error(sub.location, "'\(sub.name)' is already defined as something else")
                        continue
                    }
                    symbols.subs[sub.name] = sub
                    symbols.subOrder.append(sub.name)
                }
            }
        }
        if let initSub = symbols.subs["vcl_init"] { collectDirectors(initSub.body) }
    }

    private mutating func collectDirectors(_ body: [Statement]) {
        for statement in body {
            guard case .new(let name, let constructor) = statement.kind else { continue }
            guard case .call(let function, _) = constructor.kind, function.hasPrefix("directors."),
                  let kind = VCLDirector.Kind(rawValue: String(function.dropFirst("directors.".count))) else {
                sink.error(constructor.location, "Unknown constructor (available: directors.round_robin, directors.random, directors.hash, directors.fallback, directors.shard)")
                continue
            }
            if !symbols.imports.contains("directors") {
                sink.error(constructor.location, "'directors' is used without 'import directors;'")
            }
            if symbols.directors[name] != nil || symbols.isBackend(name) || symbols.acls[name] != nil {
                sink.error(statement.location, "'\(name)' is already defined")
                continue
            }
            symbols.directors[name] = (kind, statement.location)
        }
    }

    /// The calls a sub makes, with their locations.
    private func calls(in body: [Statement]) -> [(String, SourceLocation)] {
        var result: [(String, SourceLocation)] = []
        for statement in body {
            switch statement.kind {
            case .call(let name): result.append((name, statement.location))
            case .ifElse(let branches, let elseBody):
                for branch in branches { result += calls(in: branch.body) }
                if let elseBody { result += calls(in: elseBody) }
            default: break
            }
        }
        return result
    }

    private mutating func computeContexts() {
        var graph: [String: [(String, SourceLocation)]] = [:]
        for (name, sub) in symbols.subs {
            let callees = calls(in: sub.body)
            for (callee, location) in callees where symbols.subs[callee] == nil {
                sink.error(location, "Subroutine '\(callee)' is not defined")
            }
            graph[name] = callees.filter { symbols.subs[$0.0] != nil }
        }
        for name in symbols.subOrder {
            for (callee, location) in graph[name] ?? [] where Checker.builtinNames.contains(callee) {
                sink.error(location, "Built-in subroutine '\(callee)' cannot be called")
            }
        }
        // Recursion: a depth-first search for a back edge.
        var state: [String: Int] = [:]
        var recursive = false
        func visit(_ name: String) {
            state[name] = 1
            for (callee, location) in graph[name] ?? [] {
                if state[callee] == 1 {
                    recursive = true
                    sink.error(location, "Subroutine recursion: '\(callee)' calls itself (directly or through other subs)")
                } else if state[callee] == nil {
                    visit(callee)
                }
            }
            state[name] = 2
        }
        for name in symbols.subOrder where state[name] == nil { visit(name) }
        symbols.hasRecursion = recursive
        if recursive { return }
        for builtin in VCLSubroutine.allCases where symbols.subs[builtin.name] != nil {
            var stack = [builtin.name]
            var visited: Set<String> = []
            while let name = stack.popLast() {
                guard visited.insert(name).inserted else { continue }
                symbols.contexts[name, default: .none].insert(builtin.mask)
                stack += (graph[name] ?? []).map(\.0)
            }
        }
    }

    private func describe(_ mask: SubMask, sub: SubDecl) -> (VCLSubroutine, String)? {
        guard let first = mask.subroutines.first else { return nil }
        let via = Checker.builtinNames.contains(sub.name) ? "" : " (sub '\(sub.name)' is called from there)"
        return (first, via)
    }

    private func checkBlock(_ body: [Statement], in sub: SubDecl, mask: SubMask) {
        for statement in body { checkStatement(statement, in: sub, mask: mask) }
    }

    private func checkStatement(_ statement: Statement, in sub: SubDecl, mask: SubMask) {
        switch statement.kind {
        case .set(let target, let location, _, let value):
            checkExpr(value, in: sub, mask: mask)
            checkAccess(target, at: location, write: true, unset: false, in: sub, mask: mask)
        case .unset(let target, let location):
            checkAccess(target, at: location, write: true, unset: true, in: sub, mask: mask)
        case .ifElse(let branches, let elseBody):
            for branch in branches {
                checkExpr(branch.condition, in: sub, mask: mask)
                checkBlock(branch.body, in: sub, mask: mask)
            }
            if let elseBody { checkBlock(elseBody, in: sub, mask: mask) }
        case .returnAction(let action):
            checkReturn(action, at: statement.location, in: sub, mask: mask)
        case .call: break
        case .synthetic(let value):
            checkExpr(value, in: sub, mask: mask)
            requireContext(.of(.synth, .backendError), "synthetic()", action: true, at: statement.location, in: sub, mask: mask)
        case .hashData(let value):
            checkExpr(value, in: sub, mask: mask)
            requireContext(.of(.hash), "hash_data()", action: true, at: statement.location, in: sub, mask: mask)
        case .ban(let value):
            checkExpr(value, in: sub, mask: mask)
        case .new:
            requireContext(.of(.initialize), "'new'", action: true, at: statement.location, in: sub, mask: mask)
        case .expression(let value):
            checkExpr(value, in: sub, mask: mask)
            if case .call(let name, _) = value.kind, name.hasSuffix(".add_backend") {
                requireContext(.of(.initialize), "add_backend()", at: statement.location, in: sub, mask: mask)
            }
        case .legacyError:
            sink.error(statement.location, "Legacy (VCL 2.x/3.x) statement in a VCL 4.x file: use return (synth(status, reason)) instead of 'error'")
        case .legacyESI:
            sink.error(statement.location, "Legacy (VCL 2.x/3.x) statement in a VCL 4.x file: use set beresp.do_esi = true; instead of 'esi;'")
        case .legacyBareAction(let name):
            sink.error(statement.location, "Legacy (VCL 2.x/3.x) statement in a VCL 4.x file: use return (\(name)); instead of '\(name);'")
        }
    }

    /// `action`: one of vcc's statement actions (`synthetic`, `hash_data`, `new`), which it
    /// calls "Not a valid action" where they are not allowed.
    private func requireContext(_ allowed: SubMask, _ what: String, action: Bool = false, at location: SourceLocation,
                                in sub: SubDecl, mask: SubMask) {
        let bad = mask.subtracting(allowed)
        if let (where_, via) = describe(bad, sub: sub) {
            let vcc = action ? ". " + Checker.vccUse("Not a valid action", where_, via: via) : ""
            sink.error(location, "\(what) is not allowed in \(where_.name)\(via)\(vcc)")
        }
    }

    private func checkReturn(_ action: ReturnAction?, at location: SourceLocation, in sub: SubDecl, mask: SubMask) {
        guard let action else {
            if Checker.builtinNames.contains(sub.name) {
                sink.error(location, "Expected '(' got ';' (a built-in subroutine must return an action: return (action);)")
            }
            return
        }
        // A name that is no action at all is the compiler's to report ("Expected return action name.").
        guard VCLSubroutine.allActions.contains(action.name) else { return }
        if action.name == "vcl", let label = action.arguments.first?.identifierName, let kind = symbolKind(label) {
            // A label is looked up as vcc looks up symbols: another kind of symbol is refused.
            sink.error(action.arguments[0].location, syntax >= 41
                ? "Symbol '\(label)' has wrong type (\(kind)), expected vcl: (return (vcl(...)) takes a VCL label)"
                : "Symbol not found: '\(label)' (return (vcl(...)) takes a VCL label)")
            return
        }
        for argument in action.arguments { checkExpr(argument, in: sub, mask: mask) }
        if action.name == "pass" {
            let inResponse = mask.contains(VCLSubroutine.backendResponse.mask)
            if inResponse && action.arguments.isEmpty {
                sink.error(action.location, "In vcl_backend_response, pass needs a duration: return (pass(120s)) (hit-for-pass)")
                return
            }
            if !action.arguments.isEmpty && mask != VCLSubroutine.backendResponse.mask {
                sink.error(action.location, "pass(DURATION) is only allowed in vcl_backend_response")
                return
            }
        }
        for builtin in mask.subroutines where !builtin.legalActions.contains(action.name) {
            let legal = builtin.legalActions.filter { $0 != "fail" }.sorted().joined(separator: ", ")
            let via = Checker.builtinNames.contains(sub.name) ? "" : " (sub '\(sub.name)' is called from there)"
            sink.error(action.location, "Invalid return action '\(action.name)' in \(builtin.name)\(via); legal: \(legal)")
            return
        }
    }

    private func checkAccess(_ name: String, at location: SourceLocation, write: Bool, unset: Bool,
                             in sub: SubDecl, mask: SubMask) {
        if syntax < 41, Variables.onlyFrom41.contains(name) {
            sink.error(location, "Symbol not found: '\(name)' (Only available when 4.1 <= VCL syntax)")
            return
        }
        if syntax >= 41, Variables.onlyTo40.contains(name) {
            sink.error(location, "Symbol not found: '\(name)' (Only available when VCL syntax <= 4.0)")
            return
        }
        if syntax < 41, let root = Lexer.headerRoots.first(where: { name.hasPrefix($0 + ".") }) {
            // `req.http."X"`: vcc reads a quoted header name from VCL 4.1 on only.
            let file = location.file
            let start = file.offset(of: location)
            let after = start + root.utf8.count + 1
            if after < file.bytes.count, file.bytes[start...].starts(with: Array((root + ".").utf8)),
               file.bytes[after] == UInt8(ascii: "\"") || file.bytes[after] == UInt8(ascii: "{") {
                sink.error(location, "Quoted headers are available for VCL >= 4.1.")
                return
            }
        }
        guard let spec = Variables.lookup(name) else { return }
        let writable = syntax >= 41 && Variables.readOnlyFrom41.contains(name) ? SubMask.none : spec.writable
        let allowed = unset ? spec.unsettable : (write ? writable : spec.readable)
        let verb = unset ? "unset" : (write ? "set" : "read")
        // vcc's words follow ours: "Variable is read only.", "Not available in subroutine 'x'.", ...
        if allowed.isEmpty {
            if write && !unset && spec.readable.isEmpty {
                // Neither readable nor writable anywhere (`bereq.body`, which can only be unset).
                sink.error(location, "Variable '\(name)' is neither readable nor writable. Variable cannot be set.")
                return
            }
            if write && !unset, let (where_, via) = describe(mask.subtracting(spec.readable), sub: sub) {
                // Never writable, and not even readable where it is set: vcc calls it not available.
                sink.error(location, "Variable '\(name)' is read-only, and cannot be read in \(where_.name) either\(via). "
                    + Checker.vccUse("Not available", where_, via: via))
                return
            }
            let version = write && !unset && !spec.writable.isEmpty ? " in VCL 4.1" : ""
            let reason = unset
                ? (spec.writable.isEmpty ? "is read-only; it cannot be unset" : "cannot be unset") + ". Variable cannot be unset."
                : "is read-only\(version); it cannot be \(verb). Variable is read only."
            sink.error(location, "Variable '\(name)' \(reason)")
            return
        }
        if let (where_, via) = describe(mask.subtracting(allowed), sub: sub) {
            let vcc = Checker.vccUse(unset ? "Cannot be unset" : write ? "Cannot be set" : "Not available", where_, via: via)
            sink.error(location, "Variable '\(name)' cannot be \(verb) in \(where_.name)\(via). \(vcc)")
        }
    }

    /// What kind of symbol `name` is, in vcc's words, or nil for none.
    private func symbolKind(_ name: String) -> String? {
        if symbols.subs[name] != nil { return "sub" }
        if symbols.isBackend(name) { return "backend" }
        if symbols.acls[name] != nil { return "acl" }
        if symbols.probes[name] != nil { return "probe" }
        if symbols.directors[name] != nil { return "instance" }
        return nil
    }

    /// vcc's sentence for a use its subroutine does not allow: "... in subroutine 'vcl_recv'."
    /// in the subroutine itself, "... from subroutine 'vcl_recv'." through a call.
    static func vccUse(_ what: String, _ subroutine: VCLSubroutine, via: String) -> String {
        "\(what) \(via.isEmpty ? "in" : "from") subroutine '\(subroutine.name)'."
    }

    private func checkExpr(_ expr: Expr, in sub: SubDecl, mask: SubMask) {
        switch expr.kind {
        case .identifier(let name):
            checkAccess(name, at: expr.location, write: false, unset: false, in: sub, mask: mask)
        case .call(_, let arguments):
            for argument in arguments { checkExpr(argument.value, in: sub, mask: mask) }
        case .unary(_, let operand):
            checkExpr(operand, in: sub, mask: mask)
        case .binary(_, let lhs, let rhs):
            checkExpr(lhs, in: sub, mask: mask)
            checkExpr(rhs, in: sub, mask: mask)
        default: break
        }
    }
}
