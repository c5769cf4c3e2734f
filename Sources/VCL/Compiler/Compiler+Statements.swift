extension Compiler {
    /// Compiles a sub body (calls into custom subs are compiled on first use and shared).
    func compileBody(_ body: [Statement]) -> Step {
        Steps.block(body.compactMap(compileStatement))
    }

    func compileSub(named name: String) -> Step? {
        if let done = compiledSubs[name] { return done }
        guard let sub = symbols.subs[name] else { return nil }
        let step: Step
        // The built-in VCL's statements come last (appended after the user's).
        let userPart = sub.body.prefix { $0.location.file.name != BuiltinVCL.name }
        if nativeBuiltins, userPart.count < sub.body.count, !userChangedHelpers(of: name),
           let native = NativeBuiltin.step(for: name) {
            step = userPart.isEmpty ? native : Steps.block([compileBody(Array(userPart)), native])
        } else {
            step = compileBody(sub.body)
        }
        compiledSubs[name] = step
        return step
    }

    /// Whether user code went into a built-in helper that method `name` calls (then the
    /// method's built-in part runs as compiled VCL, not as `NativeBuiltin`).
    private func userChangedHelpers(of name: String) -> Bool {
        guard let method = VCLSubroutine(rawValue: name) else { return false }
        for (helper, owner) in BuiltinVCL.helpers where owner == method {
            if let sub = symbols.subs[helper], sub.body.contains(where: { $0.location.file.name != BuiltinVCL.name }) {
                return true
            }
        }
        return false
    }

    func compileStatement(_ statement: Statement) -> Step? {
        switch statement.kind {
        case .set(let target, let location, let op, let value):
            return compileSet(target, at: location, op: op, value)
        case .unset(let target, let location):
            guard let spec = Variables.lookup(target) else {
                sink.error(location, "Unknown variable '\(target)'\(Variables.legacyHint(target))")
                return nil
            }
            guard let unsetter = spec.unsetter else {
                sink.error(location, "Variable '\(target)' cannot be unset")
                return nil
            }
            return { context in
                unsetter(context)
                return .proceed
            }
        case .ifElse(let branches, let elseBody):
            var compiled: [(CompiledExpr.Fn<Bool>, Step)] = []
            for branch in branches {
                let body = compileBody(branch.body)
                guard let condition = compileBool(branch.condition, what: "Condition") else { continue }
                compiled.append((condition, body))
            }
            let otherwise = elseBody.map(compileBody)
            let branchSteps = compiled
            if branchSteps.count == 1 {
                let (condition, body) = compiled[0]
                if let otherwise { return { condition($0) ? body($0) : otherwise($0) } }
                return { condition($0) ? body($0) : .proceed }
            }
            return { context in
                for (condition, body) in branchSteps where condition(context) { return body(context) }
                return otherwise?(context) ?? .proceed
            }
        case .returnAction(let action):
            guard let action else { return { _ in .leave } }
            return compileReturn(action)
        case .call(let name):
            guard let callee = compileSub(named: name) else { return nil }
            return { context in
                let flow = callee(context)
                if case .leave = flow { return .proceed }
                return flow
            }
        case .synthetic(let value):
            guard let text = compileString(value, what: "synthetic()") else { return nil }
            return { context in
                // As VRT_synth_strands: an unset string is written as "(null)".
                context.syntheticBody += text(context) ?? "(null)"
                return .proceed
            }
        case .hashData(let value):
            guard let text = compileString(value, what: "hash_data()") else { return nil }
            return { context in
                context.hashData.append(text(context) ?? "")
                return .proceed
            }
        case .ban(let value):
            guard let text = compileString(value, what: "ban()") else { return nil }
            return { context in
                context.bans.append(text(context) ?? "")
                return .proceed
            }
        case .new:
            return nil
        case .expression(let value):
            if let name = value.identifierName {
                // vcc reads a bare name as a statement: an object needs a method, and nothing
                // else is an action.
                if directors[name] != nil {
                    sink.error(value.location, "Expected '.' got ';' ('\(name)' is an object: call one of its methods)")
                } else if compile(value) != nil {
                    sink.error(value.location, "Symbol cannot be used here. ('\(name)' is not an action)")
                }
                return nil
            }
            guard let compiled = compile(value) else { return nil }
            switch compiled {
            case .void(let f):
                return { context in
                    f(context)
                    return .proceed
                }
            case .bool(let f):
                return { context in
                    _ = f(context)
                    return .proceed
                }
            default:
                sink.error(value.location, "The value of this \(compiled.type.rawValue) expression is unused")
                return nil
            }
        case .legacyError, .legacyESI, .legacyBareAction:
            return nil
        }
    }

    private func compileSet(_ target: String, at location: SourceLocation, op: String, _ value: Expr) -> Step? {
        guard let spec = Variables.lookup(target) else {
            sink.error(location, "Unknown variable '\(target)'\(Variables.legacyHint(target))")
            return nil
        }
        guard let setter = spec.setter else {
            sink.error(location, "Variable '\(target)' is read-only")
            return nil
        }
        var rhs = value
        if op != "=" {
            let arithmetic = String(op.dropLast())
            rhs = Expr(.binary(op: arithmetic, lhs: Expr(.identifier(target), location), rhs: value), value.location)
        }
        let what = "Value assigned to \(target)"
        switch setter {
        case .string(let set):
            guard let f = compileString(rhs, what: what) else { return nil }
            return { set($0, f($0)); return .proceed }
        case .int(let set):
            guard case .int(let f)? = compile(rhs, as: .int, what: what) else { return nil }
            return { set($0, f($0)); return .proceed }
        case .real(let set):
            guard case .real(let f)? = compile(rhs, as: .real, what: what) else { return nil }
            return { set($0, f($0)); return .proceed }
        case .duration(let set):
            guard case .duration(let f)? = compile(rhs, as: .duration, what: what) else { return nil }
            return { set($0, f($0)); return .proceed }
        case .bool(let set):
            guard let f = compileBool(rhs, what: what) else { return nil }
            return { set($0, f($0)); return .proceed }
        case .backend(let set):
            guard case .backend(let f)? = compile(rhs, as: .backend, what: what) else { return nil }
            return { set($0, f($0)); return .proceed }
        }
    }

    private func compileReturn(_ action: ReturnAction) -> Step? {
        let simple: [String: VCLAction] = [
            "hash": .hash, "pipe": .pipe, "purge": .purge, "restart": .restart,
            "lookup": .lookup, "deliver": .deliver, "fetch": .fetch, "miss": .miss, "retry": .retry,
            "abandon": .abandon, "ok": .ok, "fail": .fail,
        ]
        if action.name == "fail", let reason = action.arguments.first {
            // return (fail("why")): VRT_fail with that message.
            if action.arguments.count > 1 {
                sink.error(action.arguments[1].location, "return (fail) takes one argument")
                return nil
            }
            guard let message = compileString(reason, what: "fail() reason") else { return nil }
            return { context in
                context.fail(message(context) ?? "")
                return .exit(.fail)
            }
        }
        if let fixed = simple[action.name] {
            if let extra = action.arguments.first {
                sink.error(extra.location, "Arguments not allowed. (return (\(action.name)) takes none)")
                return nil
            }
            return { _ in .exit(fixed) }
        }
        switch action.name {
        case "pass":
            guard let duration = action.arguments.first else { return { _ in .exit(.pass) } }
            // return (pass(DURATION)) in vcl_backend_response: deliver this response and keep a
            // hit-for-pass marker for DURATION (beresp.hitForPass tells it from hit-for-miss).
            guard case .duration(let ttl)? = compile(duration, as: .duration, what: "pass() duration") else { return nil }
            return { context in
                context.beresp.uncacheable = true
                context.beresp.hitForPass = true
                context.beresp.ttl = ttl(context)
                return .exit(.deliver)
            }
        case "synth", "error":
            let isSynth = action.name == "synth"
            if isSynth && action.arguments.isEmpty {
                sink.error(action.location, "Missing argument. (synth needs a status: return (synth(404, \"Not Found\")))")
                return nil
            }
            var status: CompiledExpr.Fn<Int64> = { _ in 503 }
            if let first = action.arguments.first {
                guard case .int(let f)? = compile(first, as: .int, what: "\(action.name) status") else { return nil }
                status = f
            }
            var reason: CompiledExpr.Fn<String?>?
            if action.arguments.count > 1 {
                guard let f = compileString(action.arguments[1], what: "\(action.name) reason") else { return nil }
                reason = f
            }
            if action.arguments.count > 2 {
                sink.error(action.arguments[2].location, "Too many arguments to \(action.name)")
                return nil
            }
            let statusFn = status, reasonFn = reason
            return { context in
                let code = Int(clamping: statusFn(context))
                let text = reasonFn?(context)
                return .exit(isSynth ? .synth(status: code, reason: text) : .error(status: code, reason: text))
            }
        case "vcl":
            guard action.arguments.count == 1, let label = action.arguments[0].identifierName else {
                let missing = action.arguments.isEmpty ? "Missing argument. " : ""
                sink.error(action.location, "\(missing)return (vcl(LABEL)) needs one VCL label name")
                return nil
            }
            return { _ in .exit(.vcl(label)) }
        default:
            sink.error(action.location, "Expected return action name. ('\(action.name)' is none)")
            return nil
        }
    }
}
