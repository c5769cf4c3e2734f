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
        guard case .duration(let f)? = constant(field, .duration, owner: owner) else { return nil }
        return f(VCLContext())
    }

    private func constantInt(_ field: FieldDecl, owner: String) -> Int? {
        guard case .int(let f)? = constant(field, .int, owner: owner) else { return nil }
        return Int(clamping: f(VCLContext()))
    }

    func compileProbe(_ declaration: ProbeDecl) -> VCLProbe {
        let owner = declaration.name.isEmpty ? "the probe" : "probe \(declaration.name)"
        var probe = VCLProbe(name: declaration.name)
        for field in declaration.fields {
            switch field.name {
            case "url": probe.url = constantString(field, owner: owner) ?? probe.url
            case "request":
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
            case "host_header": backend.hostHeader = constantString(field, owner: owner)
            case "connect_timeout": backend.connectTimeout = constantDuration(field, owner: owner)
            case "first_byte_timeout": backend.firstByteTimeout = constantDuration(field, owner: owner)
            case "between_bytes_timeout": backend.betweenBytesTimeout = constantDuration(field, owner: owner)
            case "max_connections": backend.maxConnections = constantInt(field, owner: owner)
            case "probe":
                switch field.value {
                case .probe(let inline): backend.probe = compileProbe(inline)
                case .expr(let expr):
                    if let name = expr.identifierName, let probe = probes[name] {
                        backend.probe = probe
                    } else {
                        sink.error(expr.location, "Unknown probe '\(expr.identifierName ?? "?")'")
                    }
                case .strings: sink.error(field.location, ".probe expects a probe name or { ... }")
                }
            default:
                sink.error(field.location, "Unknown backend field '.\(field.name)' (expected .host, .port, .host_header, .connect_timeout, .first_byte_timeout, .between_bytes_timeout, .max_connections, .probe)")
            }
        }
        if declaration.isNone { return nil }
        if !hasHost {
            sink.error(declaration.location, "Backend '\(declaration.name)' has no .host")
            return nil
        }
        return backend
    }

    func compileACL(_ declaration: ACLDecl) -> VCLACL {
        var entries: [VCLACL.Entry] = []
        for entry in declaration.entries {
            var addresses: [VCLIP] = []
            if let ip = VCLIP(entry.address) {
                addresses = [ip]
            } else {
                addresses = Compiler.resolve(entry.address)
                if addresses.isEmpty {
                    if !entry.optional {
                        sink.error(entry.location, "ACL entry \"\(entry.address)\" is not an address and does not resolve")
                    }
                    continue
                }
                if entry.maskBits != nil {
                    sink.error(entry.location, "A mask needs a numeric address, not the name \"\(entry.address)\"")
                }
            }
            for address in addresses {
                let width = address.isIPv6 ? 128 : 32
                let bits = entry.maskBits ?? width
                if bits < 0 || bits > width {
                    sink.error(entry.location, "Mask /\(bits) is out of range for \(address) (0-\(width))")
                    continue
                }
                entries.append(VCLACL.Entry(negated: entry.negated, network: address, bits: bits))
            }
        }
        return VCLACL(name: declaration.name, entries: entries)
    }

    /// Resolves a host name at load, as vcc does for ACL entries.
    static func resolve(_ host: String) -> [VCLIP] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [VCLIP] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var buffer = [CChar](repeating: 0, count: 64)
            if info.pointee.ai_family == AF_INET, let raw = info.pointee.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var address = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
                }
            } else if info.pointee.ai_family == AF_INET6, let raw = info.pointee.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var address = sin6.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
                }
            }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let ip = VCLIP(text), !addresses.contains(ip) { addresses.append(ip) }
            cursor = info.pointee.ai_next
        }
        return addresses
    }

    /// Creates the directors of vcl_init: `new` and top-level `x.add_backend(b[, weight])`.
    func compileDirectors() {
        for (name, entry) in symbols.directors {
            directors[name] = VCLDirector(name: name, kind: entry.kind, backends: [])
        }
        guard let initSub = symbols.subs["vcl_init"] else { return }
        for statement in initSub.body {
            guard case .expression(let expr) = statement.kind, case .call(let function, let arguments) = expr.kind,
                  let dot = function.lastIndex(of: "."), function[function.index(after: dot)...] == "add_backend",
                  var director = directors[String(function[..<dot])] else { continue }
            guard let first = arguments.first?.value, let backend = first.identifierName, backendNames.contains(backend) else {
                sink.error(expr.location, "add_backend needs a declared backend name")
                continue
            }
            var weight = 1.0
            if arguments.count > 1 {
                guard let value = compile(arguments[1].value)?.asReal else {
                    sink.error(arguments[1].value.location, "add_backend weight must be a number")
                    continue
                }
                weight = value(VCLContext())
            }
            director.backends.append((backend, weight))
            directors[director.name] = director
        }
        for statement in initSub.body {
            if case .ifElse(let branches, let elseBody) = statement.kind {
                let nested = branches.flatMap(\.body) + (elseBody ?? [])
                for inner in nested {
                    if case .expression(let expr) = inner.kind, case .call(let function, _) = expr.kind,
                       function.hasSuffix(".add_backend") {
                        sink.error(expr.location, "add_backend must be at the top level of vcl_init")
                    }
                }
            }
        }
    }
}
