extension Compiler {
    /// Binds positional and named arguments to parameter names; reports missing or extra ones.
    func bind(_ arguments: [Expr.Argument], _ parameters: [String], required: Int,
              function: String, at expr: Expr) -> [Expr?]? {
        var bound = [Expr?](repeating: nil, count: parameters.count)
        var position = 0
        for argument in arguments {
            if let name = argument.name {
                guard let index = parameters.firstIndex(of: name) else {
                    sink.error(argument.value.location, "\(function) has no argument named '\(name)'")
                    return nil
                }
                bound[index] = argument.value
            } else {
                guard position < parameters.count else {
                    sink.error(argument.value.location, "Too many arguments to \(function) (takes \(parameters.count))")
                    return nil
                }
                bound[position] = argument.value
                position += 1
            }
        }
        if let missing = (0..<required).first(where: { bound[$0] == nil }) {
            sink.error(expr.location, "\(function) needs its '\(parameters[missing])' argument")
            return nil
        }
        return bound
    }

    func compileCall(_ name: String, _ arguments: [Expr.Argument], _ expr: Expr) -> CompiledExpr? {
        if name == "regsub" || name == "regsuball" {
            guard let args = bind(arguments, ["str", "regex", "sub"], required: 3, function: name, at: expr),
                  let subject = compileString(args[0]!, what: "\(name) subject"), // bound: required
                  let regex = regex(args[1]!), // bound: required
                  let replacement = compileString(args[2]!, what: "\(name) replacement") else { return nil } // bound: required
            let all = name == "regsuball"
            return .string { context in
                let input = subject(context) ?? ""
                return regex.substitute(in: input, with: replacement(context) ?? "", all: all, scratch: context.scratch)
            }
        }
        if name.hasPrefix("std.") {
            if !symbols.imports.contains("std") {
                return typeError(expr, "'\(name)' is used without 'import std;'")
            }
            return compileStd(String(name.dropFirst(4)), arguments, expr)
        }
        if let dot = name.lastIndex(of: "."), let director = directors[String(name[..<dot])] {
            let method = String(name[name.index(after: dot)...])
            return compileDirectorMethod(director, method, arguments, expr)
        }
        if name.hasPrefix("directors.") {
            return typeError(expr, "\(name)() creates an object: use it as 'new x = \(name)();' in vcl_init")
        }
        return typeError(expr, "Unknown function '\(name)'")
    }

    private func compileDirectorMethod(_ director: VCLDirector, _ method: String,
                                       _ arguments: [Expr.Argument], _ expr: Expr) -> CompiledExpr? {
        switch method {
        case "backend":
            if director.kind == .hash {
                guard let args = bind(arguments, ["string"], required: 0, function: "\(director.name).backend", at: expr)
                else { return nil }
                let key = args[0].flatMap { compileString($0, what: "hash key") }
                return .backend { director.pick(key: key?($0) ?? "", context: $0) }
            }
            guard bind(arguments, [], required: 0, function: "\(director.name).backend", at: expr) != nil else { return nil }
            return .backend { director.pick(key: nil, context: $0) }
        case "add_backend", "remove_backend":
            // Applied when vcl_init is compiled; nothing to do per request.
            return .void { _ in }
        default:
            return typeError(expr, "Director '\(director.name)' has no method '\(method)' (it has add_backend, backend)")
        }
    }
}
