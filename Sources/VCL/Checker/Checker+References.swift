/// vcc's cross-reference checks (`vcc_CheckReferences`): a backend, probe, ACL or sub that is
/// declared and never used is reported as vcc reports it, an error with `vcc_err_unref` on
/// (varnishd's default) and a warning with it off; and a probe must be declared before the
/// backend that names it (vcc resolves `.probe = name` as it reads the backend).
extension Checker {
    func checkReferences(_ declarations: [Declaration]) {
        var names: Set<String> = []
        var called: Set<String> = []
        for sub in symbols.subs.values { Checker.references(in: sub.body, names: &names, called: &called) }

        var probesSoFar: Set<String> = []
        var probesUsed: Set<String> = []
        for declaration in declarations {
            switch declaration {
            case .probe(let probe): probesSoFar.insert(probe.name)
            case .backend(let backend):
                for field in backend.fields where field.name == "probe" {
                    guard case .expr(let expr) = field.value, let name = expr.identifierName else { continue }
                    probesUsed.insert(name)
                    if !probesSoFar.contains(name) && symbols.probes[name] != nil {
                        sink.error(expr.location, "Symbol not found: '\(name)' (a probe must be declared before the backend that uses it)")
                    }
                }
            default: break
            }
        }

        // The default backend (the one called `default`, else the first) is used implicitly.
        let defaultBackend = symbols.isBackend("default") ? "default" : symbols.backends.first?.name
        for declaration in declarations {
            switch declaration {
            case .backend(let backend) where backend.name != defaultBackend && !names.contains(backend.name):
                reportUnused("backend", backend.name, at: backend.location)
            case .probe(let probe) where probe.name != "default" && !probesUsed.contains(probe.name):
                reportUnused("probe", probe.name, at: probe.location)
            case .acl(let acl) where !names.contains(acl.name):
                reportUnused("acl", acl.name, at: acl.location)
            case .sub(let sub) where !sub.isBuiltin && !sub.name.hasPrefix("vcl_") && !called.contains(sub.name):
                reportUnused("sub", sub.name, at: sub.location)
            default: break
            }
        }
    }

    private func reportUnused(_ kind: String, _ name: String, at location: SourceLocation) {
        let message = "Unused \(kind) \(name), defined:"
        if unusedIsError {
            sink.error(location, message + " (set vcc_err_unref off to accept it)")
        } else {
            sink.warning(location, message)
        }
    }

    /// The names a body uses in expressions, and the subs it calls.
    static func references(in body: [Statement], names: inout Set<String>, called: inout Set<String>) {
        for statement in body {
            switch statement.kind {
            case .set(_, _, _, let value), .synthetic(let value), .hashData(let value), .ban(let value),
                 .new(_, let value), .expression(let value):
                references(in: value, names: &names)
            case .ifElse(let branches, let elseBody):
                for branch in branches {
                    references(in: branch.condition, names: &names)
                    references(in: branch.body, names: &names, called: &called)
                }
                if let elseBody { references(in: elseBody, names: &names, called: &called) }
            case .returnAction(let action):
                for argument in action?.arguments ?? [] { references(in: argument, names: &names) }
            case .call(let name):
                called.insert(name)
            case .legacyError(let status, let reason):
                for expr in [status, reason].compactMap({ $0 }) { references(in: expr, names: &names) }
            case .unset, .legacyESI, .legacyBareAction:
                break
            }
        }
    }

    static func references(in expr: Expr, names: inout Set<String>) {
        switch expr.kind {
        case .identifier(let name): names.insert(name)
        case .call(_, let arguments): for argument in arguments { references(in: argument.value, names: &names) }
        case .unary(_, let operand): references(in: operand, names: &names)
        case .binary(_, let lhs, let rhs):
            references(in: lhs, names: &names)
            references(in: rhs, names: &names)
        case .string, .integer, .real, .duration, .bytes, .bool: break
        }
    }
}
