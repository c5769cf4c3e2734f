#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Compiler {
    /// A constant field value, evaluated at load (fields may not read request state).
    private func constant(_ field: FieldDecl, _ type: VCLType, owner: String) -> CompiledExpr? {
        guard case .expr(let expr) = field.value else {
            sink.error(field.location, ".\(field.name) of \(owner) expects a \(type.rawValue) value")
            return nil
        }
        return compile(expr, as: type, what: ".\(field.name) of \(owner)")
    }

    private func constantString(_ field: FieldDecl, owner: String) -> String? {
        if case .expr(let expr) = field.value, case .integer(let number) = expr.kind { return String(number) }
        guard case .string(let f)? = constant(field, .string, owner: owner) else { return nil }
        return f(VCLContext()) ?? ""
    }

    private func constantDuration(_ field: FieldDecl, owner: String) -> Double? {
        if notANumber(field, owner: owner, example: "5s") { return nil }
        guard case .duration(let f)? = constant(field, .duration, owner: owner) else { return nil }
        return f(VCLContext())
    }

    private func constantInt(_ field: FieldDecl, owner: String) -> Int? {
        if notANumber(field, owner: owner, example: "5") { return nil }
        guard case .int(let f)? = constant(field, .int, owner: owner) else { return nil }
        return Int(clamping: f(VCLContext()))
    }

    /// vcc reads the numbers and durations of backends and probes as number tokens: a string
    /// or a name there is "Expected CNUM got ...". True when that was reported.
    private func notANumber(_ field: FieldDecl, owner: String, example: String) -> Bool {
        guard case .expr(let expr) = field.value else { return false }
        let shown: String
        switch expr.kind {
        case .string(let text): shown = Token(kind: .string(text), location: expr.location).vccText
        case .identifier(let name), .call(let name, _): shown = "'\(name)'"
        case .bool(let value): shown = "'\(value)'"
        default: return false
        }
        sink.error(expr.location, "Expected CNUM got \(shown) (.\(field.name) of \(owner) takes a number such as \(example))")
        return true
    }

    func compileProbe(_ declaration: ProbeDecl) -> VCLProbe {
        let owner = declaration.name.isEmpty ? "the probe" : "probe \(declaration.name)"
        var probe = VCLProbe(name: declaration.name)
        var sawRequest = false
        for field in declaration.fields {
            switch field.name {
            case _ where sawRequest && (field.name == "url" || field.name == "request"):
                sink.error(field.location, "Probe request redefinition at: .\(field.name) (a probe has either .url or .request)")
            case "url":
                sawRequest = true
                probe.url = constantString(field, owner: owner) ?? probe.url
            case "request":
                sawRequest = true
                if case .strings(let lines) = field.value {
                    probe.request = lines
                } else if let line = constantString(field, owner: owner) {
                    probe.request = [line]
                }
            case "expected_response": probe.expectedResponse = constantInt(field, owner: owner) ?? probe.expectedResponse
            case "timeout": probe.timeout = constantDuration(field, owner: owner) ?? probe.timeout
            case "interval": probe.interval = constantDuration(field, owner: owner) ?? probe.interval
            case "window": probe.window = constantInt(field, owner: owner) ?? probe.window
            case "threshold": probe.threshold = constantInt(field, owner: owner) ?? probe.threshold
            case "initial": probe.initial = constantInt(field, owner: owner)
            default:
                sink.error(field.location, "Unknown probe field '.\(field.name)' (expected .url, .request, .expected_response, .timeout, .interval, .window, .threshold, .initial)")
            }
        }
        if probe.threshold > probe.window {
            sink.error(declaration.location, "Probe .threshold (\(probe.threshold)) must not exceed .window (\(probe.window))")
        }
        return probe
    }

    func compileBackend(_ declaration: BackendDecl, probes: [String: VCLProbe]) -> VCLBackend? {
        let owner = "backend \(declaration.name)"
        var backend = VCLBackend(name: declaration.name, host: "")
        var hasHost = false
        for field in declaration.fields {
            switch field.name {
            case "host":
                backend.host = constantString(field, owner: owner) ?? ""
                hasHost = true
            case "port": backend.port = constantString(field, owner: owner) ?? backend.port
            case "path":
                guard let path = constantString(field, owner: owner) else { continue }
                if !path.hasPrefix("/") {
                    sink.error(field.location, "Backend '\(declaration.name)': .path must be an absolute path to a Unix domain socket")
                }
                backend.path = path
            case "host_header": backend.hostHeader = constantString(field, owner: owner)
            case "connect_timeout": backend.connectTimeout = constantDuration(field, owner: owner)
            case "first_byte_timeout": backend.firstByteTimeout = constantDuration(field, owner: owner)
            case "between_bytes_timeout": backend.betweenBytesTimeout = constantDuration(field, owner: owner)
            case "max_connections": backend.maxConnections = constantInt(field, owner: owner)
            case "preamble":
                // Bytes sent first on every new connection to the backend.
                guard case .blob(let bytes) = field.value else {
                    sink.error(field.location, ".preamble of \(owner) expects a BLOB literal (:base64:)")
                    continue
                }
                backend.preamble = bytes
            case "proxy_header":
                guard let version = constantInt(field, owner: owner) else { continue }
                guard version == 1 || version == 2 else {
                    sink.error(field.location, "Unsupported .proxy_header version \(version) (1 or 2)")
                    continue
                }
                backend.proxyHeader = version
            case "probe":
                switch field.value {
                case .probe(let inline): backend.probe = compileProbe(inline)
                case .expr(let expr):
                    if let name = expr.identifierName, let probe = probes[name] {
                        backend.probe = probe
                    } else {
                        sink.error(expr.location, "Unknown probe '\(expr.identifierName ?? "?")'")
                    }
                case .strings, .blob: sink.error(field.location, ".probe expects a probe name or { ... }")
                }
            default:
                sink.error(field.location, "Unknown backend field '.\(field.name)' (expected .host, .port, .path, .host_header, .connect_timeout, .first_byte_timeout, .between_bytes_timeout, .max_connections, .preamble, .proxy_header, .probe)")
            }
        }
        if declaration.isNone { return nil }
        // A backend without a probe of its own gets the one named `default`, as vcc does.
        if backend.probe == nil, let fallback = probes["default"] { backend.probe = fallback }
        // `.host = "addr:port"` (or `"[v6]:port"`) carries its own port, as Varnish resolves it.
        if let colon = backend.host.lastIndex(of: ":"), let port = Int(backend.host[backend.host.index(after: colon)...]) {
            let address = backend.host[..<colon]
            if address.hasPrefix("[") && address.hasSuffix("]") {
                backend.host = String(address.dropFirst().dropLast())
                backend.port = String(port)
            } else if !address.contains(":") {
                backend.host = String(address)
                backend.port = String(port)
            }
        }
        if hasHost && backend.path != nil {
            sink.error(declaration.location, "Backend '\(declaration.name)': .host and .path are mutually exclusive")
            return nil
        }
        if !hasHost && backend.path == nil {
            sink.error(declaration.location, "Backend '\(declaration.name)' has no .host (or .path)")
            return nil
        }
        return backend
    }

    /// Creates the directors of vcl_init from `new` and the top-level calls that configure
    /// them: `add_backend`, `remove_backend`, `clear`, `reconfigure` (shard).
    func compileDirectors() {
        for (name, entry) in symbols.directors {
            directors[name] = VCLDirector(name: name, kind: entry.kind)
        }
        guard let initSub = symbols.subs["vcl_init"] else { return }
        for statement in initSub.body {
            switch statement.kind {
            case .new(let name, let constructor):
                guard case .call(_, let arguments) = constructor.kind, var director = directors[name] else { continue }
                for argument in arguments {
                    if director.kind == .fallback, argument.name == nil || argument.name == "sticky",
                       case .bool(let sticky) = argument.value.kind {
                        director.sticky = sticky
                    } else {
                        sink.error(argument.value.location, "directors.\(director.kind.rawValue)() takes no such argument")
                    }
                }
                directors[name] = director
            case .expression(let expr):
                configureDirector(expr)
            case .ifElse(let branches, let elseBody):
                for inner in branches.flatMap(\.body) + (elseBody ?? []) {
                    if case .expression(let expr) = inner.kind, case .call(let function, _) = expr.kind,
                       function.hasSuffix(".add_backend") {
                        sink.error(expr.location, "add_backend must be at the top level of vcl_init")
                    }
                }
            default: break
            }
        }
        for name in directors.keys where directors[name]?.kind == .shard { directors[name]?.reconfigure() }
        for name in directors.keys.sorted() where nestsItself(name, via: name, depth: 0) {
            sink.error(symbols.directors[name]?.location ?? initSub.location, "Director '\(name)' contains itself")
        }
    }

    /// Applies one top-level vcl_init call to its director.
    private func configureDirector(_ expr: Expr) {
        guard case .call(let function, let arguments) = expr.kind, let dot = function.lastIndex(of: "."),
              var director = directors[String(function[..<dot])] else { return }
        let method = function[function.index(after: dot)...]
        let owner = "\(director.name).\(method)"
        switch method {
        case "add_backend":
            let names = director.kind == .shard ? ["backend", "ident", "rampup", "weight"] : ["backend", "weight"]
            guard let args = bind(arguments, names, required: 1, function: owner, at: expr) else { return }
            guard let backend = args[0], let member = memberName(backend) else {
                sink.error(args[0]?.location ?? expr.location, "add_backend needs a declared backend or a director's .backend()")
                return
            }
            // As vmod_directors: a hash or shard director's .backend() picks its member as
            // vcl_init runs; with no healthy member it gives none, which cannot be added.
            if case .call(let function, _) = backend.kind, function.hasSuffix(".backend"),
               let source = directors[String(function.dropLast(".backend".count))],
               source.kind == .hash || source.kind == .shard, !startsHealthy(source.name, depth: 0) {
                sink.error(backend.location, "\(director.name): None backend cannot be added")
                return
            }
            var weight = 1.0
            if let weightExpr = args[names.count - 1] {
                guard let value = compile(weightExpr)?.asReal else {
                    sink.error(weightExpr.location, "add_backend weight must be a number")
                    return
                }
                weight = value(VCLContext())
            }
            var ident = member
            if director.kind == .shard, let identExpr = args[1] {
                guard let text = identExpr.stringLiteral else {
                    sink.error(identExpr.location, "The shard ident must be a string literal")
                    return
                }
                ident = text
            }
            director.add(.init(name: member, weight: weight, ident: ident))
        case "remove_backend":
            guard let args = bind(arguments, ["backend", "ident"], required: 0, function: owner, at: expr) else { return }
            let member = args[0].flatMap(memberName)
            let ident = args[1]?.stringLiteral
            director.members.removeAll { ($0.name == member && member != nil) || ($0.ident == ident && ident != nil) }
        case "clear":
            director.members.removeAll()
        case "reconfigure":
            guard director.kind == .shard,
                  let args = bind(arguments, ["replicas"], required: 0, function: owner, at: expr) else { return }
            if let replicas = args[0] {
                guard case .integer(let value) = replicas.kind, value > 0, value <= 1000 else {
                    sink.error(replicas.location, "replicas must be an integer from 1 to 1000")
                    return
                }
                director.replicas = Int(value)
            }
        default:
            return
        }
        directors[director.name] = director
    }

    /// The member a director's `add_backend` argument names: a backend, a director, or a
    /// director's `.backend()`.
    private func memberName(_ expr: Expr) -> String? {
        if let name = expr.identifierName, backendNames.contains(name) || directors[name] != nil { return name }
        if case .call(let function, _) = expr.kind, function.hasSuffix(".backend"),
           directors[String(function.dropLast(".backend".count))] != nil {
            return String(function.dropLast(".backend".count))
        }
        // `directors.lookup("name")` with a literal name (vcl_init is the one place it runs).
        if case .call("directors.lookup", let arguments) = expr.kind, arguments.count == 1,
           case .string(let name) = arguments[0].value.kind, backendNames.contains(name) || directors[name] != nil {
            return name
        }
        return nil
    }

    /// Whether a backend, or any member of a director, is healthy when the VCL is loaded.
    private func startsHealthy(_ name: String, depth: Int) -> Bool {
        if initiallyHealthy.contains(name) { return true }
        guard depth < 16, let director = directors[name] else { return false }
        return director.members.contains { startsHealthy($0.name, depth: depth + 1) }
    }

    private func nestsItself(_ target: String, via name: String, depth: Int) -> Bool {
        guard depth < 16, let director = directors[name] else { return depth >= 16 }
        for member in director.members where directors[member.name] != nil {
            if member.name == target || nestsItself(target, via: member.name, depth: depth + 1) { return true }
        }
        return false
    }
}
