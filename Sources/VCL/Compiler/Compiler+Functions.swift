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
        if name.hasPrefix("purge.") || name.hasPrefix("xkey.") {
            return compilePurge(name, arguments, expr)
        }
        if name == "directors.lookup" {
            // The backend (or director) of that name, as vmod_directors' lookup().
            guard let args = bind(arguments, ["name"], required: 1, function: name, at: expr),
                  let text = compileString(args[0]!, what: "backend name") else { return nil } // bound: required
            let known = backendNames.union(directors.keys)
            return .backend { context in
                // As vmod_directors: only while vcl_init runs.
                guard context.isInitializing else {
                    context.fail("directors.lookup() may only be called from vcl_init")
                    return nil
                }
                return text(context).flatMap { known.contains($0) ? $0 : nil }
            }
        }
        if name.hasPrefix("directors.") {
            let parts = name.split(separator: ".")
            if parts.count > 2 {
                // A constructor's name used as an object: vcc sees a syntax error.
                return typeError(expr, "Syntax error. (\(parts[0]).\(parts[1]) makes objects: 'new x = \(parts[0]).\(parts[1])();' in vcl_init, then x.\(parts[2...].joined(separator: "."))())")
            }
            return typeError(expr, "\(name)() creates an object: use it as 'new x = \(name)();' in vcl_init")
        }
        if name.hasSuffix(".lower") || name.hasSuffix(".upper"), arguments.isEmpty,
           Variables.lookup(String(name.dropLast(6))) != nil {
            // STRING methods: `req.http.host.lower()` (ASCII letters, as Varnish in the C locale).
            let target = Expr(.identifier(String(name.dropLast(6))), expr.location)
            guard let text = compileString(target, what: name) else { return nil }
            let upper = name.hasSuffix(".upper")
            return .string { context in text(context).map { ValueFormat.asciiCase($0, upper: upper) } }
        }
        return typeError(expr, "Symbol not found: '\(name)' (no such function)")
    }

    private func compileDirectorMethod(_ director: VCLDirector, _ method: String,
                                       _ arguments: [Expr.Argument], _ expr: Expr) -> CompiledExpr? {
        let name = director.name
        let function = "\(name).\(method)"
        switch method {
        case "backend":
            switch director.kind {
            case .hash:
                guard let args = bind(arguments, ["string"], required: 0, function: function, at: expr) else { return nil }
                let key = args[0].flatMap { compileString($0, what: "hash key") }
                return .backend { director.pick(key: key?($0) ?? "", context: $0) }
            case .shard:
                return compileShardBackend(name, arguments, expr)
            default:
                guard bind(arguments, [], required: 0, function: function, at: expr) != nil else { return nil }
                // As vmod_directors: round_robin, random and fallback give the director itself;
                // the fetch picks the member (`bereq.backend` is the director, `beresp.backend`
                // the backend it chose).
                return .backend { _ in name }
            }
        case "add_backend", "remove_backend", "clear", "set_warmup", "set_rampup", "associate", "debug":
            // Applied when vcl_init is compiled; nothing to do per request.
            return .void { _ in }
        case "reconfigure" where director.kind == .shard:
            return .bool { _ in true }
        case "key" where director.kind == .shard:
            guard let args = bind(arguments, ["string"], required: 1, function: function, at: expr),
                  let text = compileString(args[0]!, what: "shard key") else { return nil } // bound: required
            return .int { Int64(VCLDirector.hash32(text($0) ?? "")) }
        default:
            return typeError(expr, "Director '\(name)' has no method '\(method)' (it has add_backend, remove_backend, backend\(director.kind == .shard ? ", reconfigure, key" : ""))")
        }
    }

    /// `shard.backend(by=HASH|URL|KEY, key=INT, alt=INT, healthy=CHOSEN|IGNORE|ALL, ...)`.
    private func compileShardBackend(_ name: String, _ arguments: [Expr.Argument], _ expr: Expr) -> CompiledExpr? {
        let parameters = ["by", "key", "key_blob", "alt", "warmup", "rampup", "healthy", "param", "resolve"]
        guard let args = bind(arguments, parameters, required: 0, function: "\(name).backend", at: expr) else { return nil }
        func word(_ index: Int, _ allowed: [String], default value: String) -> String? {
            guard let argument = args[index] else { return value }
            guard let word = argument.identifierName, allowed.contains(word) else {
                sink.error(argument.location, "\(parameters[index]) must be one of \(allowed.joined(separator: ", "))")
                return nil
            }
            return word
        }
        guard let by = word(0, ["HASH", "URL", "KEY", "BLOB"], default: "HASH"),
              let healthText = word(6, ["CHOSEN", "IGNORE", "ALL"], default: "CHOSEN"),
              let health = VCLDirector.ShardHealth(rawValue: healthText),
              word(8, ["NOW", "LAZY"], default: "NOW") != nil else { return nil }
        let alternative: CompiledExpr.Fn<Int64>
        if let alt = args[3] {
            guard case .int(let f)? = compile(alt) else { return typeError(alt, "alt must be an INT") }
            alternative = f
        } else {
            alternative = { _ in 0 }
        }
        let key: VCLDirector.ShardKey
        switch by {
        case "KEY":
            guard let keyExpr = args[1] else { return typeError(expr, "by=KEY needs a key argument") }
            guard case .int(let f)? = compile(keyExpr) else { return typeError(keyExpr, "key must be an INT") }
            key = .key(f)
        case "BLOB": return typeError(expr, "by=BLOB is not supported (use by=KEY with .key())")
        case "URL": key = .url
        default: key = .hash
        }
        guard let director = directors[name] else { return nil }
        return .backend { director.shard(by: key, alternative: Int(alternative($0)), health: health, context: $0) }
    }

    /// vmod purge (`hard()`, `soft(ttl, grace, keep)`, in vcl_hit and vcl_miss) and vmod xkey
    /// (`purge(keys)`, `softpurge(keys)`): INT, how many objects went.
    private func compilePurge(_ name: String, _ arguments: [Expr.Argument], _ expr: Expr) -> CompiledExpr? {
        let vmod = String(name.prefix { $0 != "." })
        guard symbols.imports.contains(vmod) else { return typeError(expr, "'\(name)' is used without 'import \(vmod);'") }
        switch name {
        case "purge.hard":
            guard bind(arguments, [], required: 0, function: name, at: expr) != nil else { return nil }
            return .int { Int64($0.purger?.purgeLookedUpObject(soft: false, ttl: 0, grace: 0, keep: 0) ?? 0) }
        case "purge.soft":
            guard let args = bind(arguments, ["ttl", "grace", "keep"], required: 0, function: name, at: expr) else { return nil }
            var durations: [CompiledExpr.Fn<Double>] = []
            for (index, argument) in args.enumerated() {
                guard let argument else {
                    let fallback: Double = index == 0 ? 0 : -1
                    durations.append { _ in fallback }
                    continue
                }
                guard case .duration(let f)? = compile(argument, as: .duration, what: "\(name) argument") else { return nil }
                durations.append(f)
            }
            let (ttl, grace, keep) = (durations[0], durations[1], durations[2])
            return .int { context in
                Int64(context.purger?.purgeLookedUpObject(soft: true, ttl: ttl(context), grace: grace(context), keep: keep(context)) ?? 0)
            }
        case "xkey.purge", "xkey.softpurge":
            guard let args = bind(arguments, ["keys"], required: 1, function: name, at: expr),
                  let keys = compileString(args[0]!, what: "\(name) keys") else { return nil } // bound: required
            let soft = name == "xkey.softpurge"
            return .int { context in
                let list = (keys(context) ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
                return Int64(context.purger?.purge(surrogateKeys: list, soft: soft) ?? 0)
            }
        default:
            return typeError(expr, "Unknown function '\(name)' (vmod purge has hard, soft; vmod xkey has purge, softpurge)")
        }
    }
}
