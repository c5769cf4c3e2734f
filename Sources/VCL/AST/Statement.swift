/// A statement inside a `sub`.
struct Statement: Sendable {
    indirect enum Kind: Sendable {
        /// `set target op value;` where op is `=`, `+=`, `-=`, `*=`, `/=`.
        case set(target: String, targetLocation: SourceLocation, op: String, value: Expr)
        case unset(target: String, targetLocation: SourceLocation)
        /// `if (c) {...} elseif (c) {...} else {...}`: the branches in order, then the else body.
        case ifElse(branches: [(condition: Expr, body: [Statement])], elseBody: [Statement]?)
        /// `return (action)`; nil action means plain `return;`.
        case returnAction(ReturnAction?)
        case call(name: String)
        case synthetic(Expr)
        case hashData(Expr)
        case ban(Expr)
        /// `new name = vmod.constructor(args);`
        case new(name: String, constructor: Expr)
        /// A call used as a statement (`std.log("x");`, `rr.add_backend(b);`).
        case expression(Expr)
        /// Legacy `error 750 "reason";`.
        case legacyError(status: Expr?, reason: Expr?)
        /// Legacy `esi;`.
        case legacyESI
        /// Legacy bare action statement (`pass;`, `lookup;`) of VCL 2.0.
        case legacyBareAction(String)
    }

    let kind: Kind
    let location: SourceLocation
}

/// The action of a `return`: a name with optional arguments (`synth(404, "Not found")`).
struct ReturnAction: Sendable {
    let name: String
    let arguments: [Expr]
    let location: SourceLocation
}
