/// Reads a VCL 2.x/3.x file (one without `vcl 4.x;`) as VCL 4.1, warning once per construct
/// translated, so old configurations load as their authors meant them.
struct LegacyTranslator {
    let sink: DiagnosticSink

    /// The built-in sub a legacy sub body is translated for.
    private enum Target: Equatable {
        case client(String)
        case backendResponse
        case synthFromError
        case backendErrorFromError
        case custom
        /// Statements of legacy vcl_miss / vcl_pass that touch bereq.*, moved to vcl_backend_fetch.
        case movedToBackendFetch
    }

    func translate(_ declarations: [Declaration]) -> [Declaration] {
        let backendOnly = subsReachedOnlyFromFetch(declarations)
        var output: [Declaration] = []
        for declaration in declarations {
            guard case .sub(var sub) = declaration else {
                output.append(declaration)
                continue
            }
            switch sub.name {
            case "vcl_fetch":
                sink.warning(sub.location, "Legacy vcl_fetch is read as vcl_backend_response")
                sub.name = VCLSubroutine.backendResponse.name
                sub.body = translate(sub.body, for: .backendResponse)
                output.append(.sub(sub))
            case "vcl_error":
                sink.warning(sub.location, "Legacy vcl_error is read as vcl_synth and vcl_backend_error (obj.* becomes resp.* / beresp.*)")
                var synth = sub, backend = sub
                synth.name = VCLSubroutine.synth.name
                synth.body = translate(sub.body, for: .synthFromError, warn: false)
                backend.name = VCLSubroutine.backendError.name
                backend.body = translate(sub.body, for: .backendErrorFromError)
                output.append(.sub(synth))
                output.append(.sub(backend))
            case "vcl_miss", "vcl_pass":
                let (kept, moved) = splitBackendRequestStatements(sub)
                sub.body = translate(kept, for: .client(sub.name))
                output.append(.sub(sub))
                if let moved { output.append(.sub(moved)) }
            case "vcl_timeout", "vcl_discard":
                sink.warning(sub.location, "Legacy \(sub.name) no longer exists; it is ignored")
            default:
                let target: Target = sub.name.hasPrefix("vcl_") ? .client(sub.name)
                    : backendOnly.contains(sub.name) ? .backendResponse : .custom
                sub.body = translate(sub.body, for: target)
                output.append(.sub(sub))
            }
        }
        return output
    }

    /// In 2.x/3.x, vcl_miss and vcl_pass could change `bereq`; in 4.x only the backend side can.
    /// Top-level statements that mention `bereq.*` move to a vcl_backend_fetch guarded by
    /// `bereq.uncacheable` (false for a miss, true for a pass), with `req.*` read as `bereq.*`.
    private func splitBackendRequestStatements(_ sub: SubDecl) -> (kept: [Statement], moved: SubDecl?) {
        var kept: [Statement] = [], moved: [Statement] = []
        for statement in sub.body {
            if mentionsBackendRequest(statement) {
                sink.warning(statement.location, "Legacy bereq.* in \(sub.name) moves to vcl_backend_fetch (when bereq.uncacheable is \(sub.name == "vcl_pass"))")
                moved += translate(statement, for: .movedToBackendFetch, warn: false)
            } else {
                kept.append(statement)
            }
        }
        guard let first = moved.first else { return (kept, nil) }
        let location = first.location
        var condition = Expr(.identifier("bereq.uncacheable"), location)
        if sub.name == "vcl_miss" { condition = Expr(.unary(op: "!", operand: condition), location) }
        let guarded = Statement(kind: .ifElse(branches: [(condition, moved)], elseBody: nil), location: location)
        return (kept, SubDecl(name: VCLSubroutine.backendFetch.name, body: [guarded], location: sub.location))
    }

    private func mentionsBackendRequest(_ statement: Statement) -> Bool {
        func inExpr(_ expr: Expr) -> Bool {
            switch expr.kind {
            case .identifier(let name): return name.hasPrefix("bereq.")
            case .call(_, let arguments): return arguments.contains { inExpr($0.value) }
            case .unary(_, let operand): return inExpr(operand)
            case .binary(_, let lhs, let rhs): return inExpr(lhs) || inExpr(rhs)
            default: return false
            }
        }
        switch statement.kind {
        case .set(let target, _, _, let value): return target.hasPrefix("bereq.") || inExpr(value)
        case .unset(let target, _): return target.hasPrefix("bereq.")
        case .ifElse(let branches, let elseBody):
            return branches.contains { inExpr($0.condition) || $0.body.contains(where: mentionsBackendRequest) }
                || (elseBody ?? []).contains(where: mentionsBackendRequest)
        case .expression(let expr), .synthetic(let expr), .hashData(let expr), .ban(let expr): return inExpr(expr)
        default: return false
        }
    }

    /// Custom subs called (directly or not) from vcl_fetch and from no client-side sub: their
    /// `req.*` means `bereq.*` as it does in vcl_fetch itself.
    private func subsReachedOnlyFromFetch(_ declarations: [Declaration]) -> Set<String> {
        var callees: [String: [String]] = [:]
        func calls(_ body: [Statement]) -> [String] {
            body.flatMap { statement -> [String] in
                switch statement.kind {
                case .call(let name): return [name]
                case .ifElse(let branches, let elseBody): return branches.flatMap { calls($0.body) } + calls(elseBody ?? [])
                default: return []
                }
            }
        }
        for case .sub(let sub) in declarations { callees[sub.name, default: []] += calls(sub.body) }
        func reach(from roots: [String]) -> Set<String> {
            var seen: Set<String> = []
            var stack = roots
            while let name = stack.popLast() {
                for callee in callees[name] ?? [] where seen.insert(callee).inserted { stack.append(callee) }
            }
            return seen
        }
        let fromFetch = reach(from: ["vcl_fetch"])
        let fromClient = reach(from: callees.keys.filter { $0.hasPrefix("vcl_") && $0 != "vcl_fetch" })
        return fromFetch.subtracting(fromClient).filter { !$0.hasPrefix("vcl_") }
    }

    private func translate(_ body: [Statement], for target: Target, warn: Bool = true) -> [Statement] {
        body.flatMap { translate($0, for: target, warn: warn) }
    }

    private func warning(_ warn: Bool, _ location: SourceLocation, _ message: String) {
        if warn { sink.warning(location, message) }
    }

    private func translate(_ statement: Statement, for target: Target, warn: Bool) -> [Statement] {
        let location = statement.location
        func make(_ kind: Statement.Kind) -> Statement { Statement(kind: kind, location: location) }
        switch statement.kind {
        case .set(let name, let nameLocation, let op, let value):
            let value = rewrite(value, for: target, warn: warn)
            if name == "req.hash" && op == "+=" {
                warning(warn, nameLocation, "Legacy 'set req.hash += x' is read as 'hash_data(x)'")
                return [make(.hashData(value))]
            }
            if name == "beresp.cacheable" || name == "obj.cacheable" {
                warning(warn, nameLocation, "Legacy '\(name)' is read as '!beresp.uncacheable'")
                let negated = Expr(.unary(op: "!", operand: value), value.location)
                return [make(.set(target: "beresp.uncacheable", targetLocation: nameLocation, op: "=", value: negated))]
            }
            if name == "obj.ttl", target == .client("vcl_hit") {
                warning(warn, nameLocation, "Legacy 'set obj.ttl' in vcl_hit (a purge) is read as a ban of this URL and host")
                return [make(.ban(purgeBan(at: location)))]
            }
            let renamed = rename(name, at: nameLocation, for: target, warn: warn)
            return [make(.set(target: renamed, targetLocation: nameLocation, op: op, value: value))]
        case .unset(let name, let nameLocation):
            return [make(.unset(target: rename(name, at: nameLocation, for: target, warn: warn), targetLocation: nameLocation))]
        case .ifElse(let branches, let elseBody):
            let newBranches = branches.map { (condition: rewrite($0.condition, for: target, warn: warn),
                                              body: translate($0.body, for: target, warn: warn)) }
            return [make(.ifElse(branches: newBranches, elseBody: elseBody.map { translate($0, for: target, warn: warn) }))]
        case .returnAction(let action):
            guard let action else { return [statement] }
            let arguments = action.arguments.map { rewrite($0, for: target, warn: warn) }
            return translateReturn(ReturnAction(name: action.name, arguments: arguments, location: action.location),
                                   for: target, warn: warn, at: location)
        case .legacyBareAction("purge") where target == .client("vcl_hit") || target == .client("vcl_miss"):
            warning(warn, location, "Legacy 'purge;' is read as a ban of this URL and host: ban(\"req.url == \" + req.url + \" && req.http.host == \" + req.http.host)")
            return [make(.ban(purgeBan(at: location)))]
        case .legacyBareAction(let name):
            warning(warn, location, "Legacy bare '\(name);' is read as 'return (\(name));'")
            return translateReturn(ReturnAction(name: name, arguments: [], location: location), for: target, warn: warn, at: location)
        case .legacyError(let status, let reason):
            let status = status.map { rewrite($0, for: target, warn: warn) }
            let reason = reason.map { rewrite($0, for: target, warn: warn) }
            let backend = target == .backendResponse || target == .backendErrorFromError
            let action = backend ? "error" : "synth"
            warning(warn, location, "Legacy 'error' is read as 'return (\(action)(...))'")
            let arguments = [status ?? Expr(.integer(503), location)] + (reason.map { [$0] } ?? [])
            return [make(.returnAction(ReturnAction(name: action, arguments: arguments, location: location)))]
        case .legacyESI:
            warning(warn, location, "Legacy 'esi;' is read as 'set beresp.do_esi = true;'")
            return [make(.set(target: "beresp.do_esi", targetLocation: location, op: "=", value: Expr(.bool(true), location)))]
        case .synthetic(let value):
            return [make(.synthetic(rewrite(value, for: target, warn: warn)))]
        case .hashData(let value):
            return [make(.hashData(rewrite(value, for: target, warn: warn)))]
        case .ban(let value):
            return [make(.ban(rewrite(value, for: target, warn: warn)))]
        case .expression(let expr):
            if case .call(let name, let arguments) = expr.kind, let first = arguments.first {
                let argument = rewrite(first.value, for: target, warn: warn)
                switch name {
                case "purge_url", "ban_url":
                    warning(warn, location, "Legacy '\(name)(x)' is read as 'ban(\"req.url ~ \" + x)'")
                    let prefix = Expr(.string("req.url ~ "), expr.location)
                    return [make(.ban(Expr(.binary(op: "+", lhs: prefix, rhs: argument), expr.location)))]
                case "purge":
                    warning(warn, location, "Legacy 'purge(expression)' is read as 'ban(expression)'")
                    return [make(.ban(argument))]
                default: break
                }
            }
            return [make(.expression(rewrite(expr, for: target, warn: warn)))]
        case .call, .new:
            return [statement]
        }
    }

    /// `"req.url == " + req.url + " && req.http.host == " + req.http.host`: what a legacy purge of the current object removes.
    private func purgeBan(at location: SourceLocation) -> Expr {
        func string(_ text: String) -> Expr { Expr(.string(text), location) }
        func variable(_ name: String) -> Expr { Expr(.identifier(name), location) }
        func plus(_ lhs: Expr, _ rhs: Expr) -> Expr { Expr(.binary(op: "+", lhs: lhs, rhs: rhs), location) }
        return plus(plus(plus(string("req.url == "), variable("req.url")), string(" && req.http.host == ")), variable("req.http.host"))
    }

    private func translateReturn(_ action: ReturnAction, for target: Target, warn: Bool,
                                 at location: SourceLocation) -> [Statement] {
        func make(_ name: String, _ arguments: [Expr] = []) -> [Statement] {
            [Statement(kind: .returnAction(ReturnAction(name: name, arguments: arguments, location: action.location)),
                       location: location)]
        }
        switch (target, action.name) {
        case (.client("vcl_recv"), "lookup"):
            warning(warn, action.location, "Legacy 'return (lookup)' in vcl_recv is read as 'return (hash)'")
            return make("hash")
        case (.client("vcl_hash"), "hash"):
            warning(warn, action.location, "Legacy 'return (hash)' in vcl_hash is read as 'return (lookup)'")
            return make("lookup")
        case (.client("vcl_pass"), "pass"):
            warning(warn, action.location, "Legacy 'return (pass)' in vcl_pass is read as 'return (fetch)'")
            return make("fetch")
        case (.backendResponse, "pass"), (.backendResponse, "hit_for_pass"):
            warning(warn, action.location, "Legacy 'return (\(action.name))' in vcl_fetch is read as hit-for-pass: 'return (pass(120s))' (uncacheable for 120s, response delivered)")
            return make("pass", [Expr(.duration(120), action.location)])
        case (.backendResponse, "restart"), (.backendErrorFromError, "restart"):
            warning(warn, action.location, "Legacy 'return (restart)' on the backend side is read as 'return (retry)'")
            return make("retry")
        case (_, "hit_for_pass"):
            warning(warn, action.location, "Legacy 'return (hit_for_pass)' is read as 'return (pass)'")
            return make("pass")
        default:
            return make(action.name, action.arguments)
        }
    }

    /// Renames a legacy variable for the target sub.
    private func rename(_ name: String, at location: SourceLocation, for target: Target, warn: Bool) -> String {
        var result = name
        var notes: [String] = []
        let backendSide = target == .backendResponse || target == .backendErrorFromError || target == .movedToBackendFetch
        if result == "req.request" {
            result = "req.method"
            notes.append("req.request is now req.method")
        }
        if result == "req.backend" {
            result = "req.backend_hint"
            notes.append("req.backend is now req.backend_hint")
        }
        if result == "bereq.request" { result = "bereq.method" }
        if result.hasSuffix(".response"), ["beresp.response", "obj.response", "resp.response"].contains(result) {
            result = String(result.dropLast("response".count)) + "reason"
            notes.append("'.response' is now '.reason'")
        }
        if backendSide, result.hasPrefix("req.") {
            result = "be" + result
            if result == "bereq.backend_hint" { result = "bereq.backend" }
            notes.append("req.* on the backend side means bereq.*")
        }
        if result.hasPrefix("obj.") {
            switch target {
            case .backendResponse:
                result = "beresp." + result.dropFirst(4)
                notes.append("obj.* in vcl_fetch means beresp.*")
            case .synthFromError:
                result = "resp." + result.dropFirst(4)
            case .backendErrorFromError:
                result = "beresp." + result.dropFirst(4)
                notes.append("obj.* in vcl_error means resp.* (vcl_synth) and beresp.* (vcl_backend_error)")
            case .client("vcl_deliver") where result.hasPrefix("obj.http.") || ["obj.status", "obj.reason", "obj.proto"].contains(result):
                result = "resp." + result.dropFirst(4)
                notes.append("the object's headers and status are the response's in vcl_deliver")
            default: break
            }
        }
        if result == "req.grace" {
            notes.append("req.grace in VCL 4.1 caps the grace a hit may use, as the legacy one did")
        }
        if !notes.isEmpty {
            warning(warn, location, "Legacy '\(name)' is read as '\(result)' (\(notes.joined(separator: "; ")))")
        }
        return result
    }

    private func rewrite(_ expr: Expr, for target: Target, warn: Bool) -> Expr {
        switch expr.kind {
        case .identifier(let name):
            if name == "beresp.cacheable" || name == "obj.cacheable" {
                let backendSide = target == .backendResponse || target == .backendErrorFromError
                if !backendSide && target != .client("vcl_deliver") {
                    warning(warn, expr.location, "Legacy '\(name)' outside vcl_fetch is read as 'true'")
                    return Expr(.bool(true), expr.location)
                }
                let replacement = target == .client("vcl_deliver") ? "obj.uncacheable" : "beresp.uncacheable"
                warning(warn, expr.location, "Legacy '\(name)' is read as '!\(replacement)'")
                return Expr(.unary(op: "!", operand: Expr(.identifier(replacement), expr.location)), expr.location)
            }
            return Expr(.identifier(rename(name, at: expr.location, for: target, warn: warn)), expr.location)
        case .call(let name, let arguments):
            let rewritten = arguments.map { Expr.Argument(name: $0.name, value: rewrite($0.value, for: target, warn: warn)) }
            return Expr(.call(name: name, arguments: rewritten), expr.location)
        case .unary(let op, let operand):
            return Expr(.unary(op: op, operand: rewrite(operand, for: target, warn: warn)), expr.location)
        case .binary(let op, let lhs, let rhs):
            return Expr(.binary(op: op, lhs: rewrite(lhs, for: target, warn: warn),
                                rhs: rewrite(rhs, for: target, warn: warn)), expr.location)
        default:
            return expr
        }
    }
}
