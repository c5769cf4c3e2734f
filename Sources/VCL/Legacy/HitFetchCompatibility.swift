/// VCL 4.0/4.1 (and 3.x) let vcl_hit `return (fetch)`; Varnish 5 renamed it `miss`. Such files
/// are common (the grace recipes), so the action is read as `miss` with a warning.
enum HitFetchCompatibility {
    static func apply(_ declarations: [Declaration], sink: DiagnosticSink) -> [Declaration] {
        declarations.map { declaration in
            guard case .sub(var sub) = declaration, sub.name == VCLSubroutine.hit.name else { return declaration }
            sub.body = sub.body.map { rewrite($0, sink: sink) }
            return .sub(sub)
        }
    }

    private static func rewrite(_ statement: Statement, sink: DiagnosticSink) -> Statement {
        switch statement.kind {
        case .returnAction(let action?) where action.name == "fetch":
            sink.warning(action.location, "'return (fetch)' in vcl_hit is read as 'return (miss)' (renamed in Varnish 5)")
            let miss = ReturnAction(name: "miss", arguments: action.arguments, location: action.location)
            return Statement(kind: .returnAction(miss), location: statement.location)
        case .ifElse(let branches, let elseBody):
            let newBranches = branches.map { (condition: $0.condition, body: $0.body.map { rewrite($0, sink: sink) }) }
            return Statement(kind: .ifElse(branches: newBranches, elseBody: elseBody.map { $0.map { rewrite($0, sink: sink) } }),
                             location: statement.location)
        default:
            return statement
        }
    }
}
