extension Compiler {
    /// The functions of `import std;` that Shellac provides.
    func compileStd(_ function: String, _ arguments: [Expr.Argument], _ expr: Expr) -> CompiledExpr? {
        let full = "std.\(function)"
        func args(_ names: [String], required: Int) -> [Expr?]? {
            bind(arguments, names, required: required, function: full, at: expr)
        }
        switch function {
        case "log":
            guard let a = args(["s"], required: 1), let text = compileString(a[0]!, what: full) else { return nil } // bound: required
            return .void { $0.logLines.append(text($0) ?? "") }
        case "syslog":
            guard let a = args(["priority", "s"], required: 2),
                  case .int(let priority)? = compile(a[0]!, as: .int, what: "\(full) priority"), // bound: required
                  let text = compileString(a[1]!, what: full) else { return nil } // bound: required
            return .void { $0.syslogLines.append((Int(priority($0)), text($0) ?? "")) }
        case "tolower", "toupper":
            guard let a = args(["s"], required: 1), let text = compileString(a[0]!, what: full) else { return nil } // bound: required
            let upper = function == "toupper"
            return .string { context in text(context).map { upper ? $0.uppercased() : $0.lowercased() } }
        case "integer":
            guard let a = args(["s", "fallback"], required: 0), let text = a[0].flatMap({ compileString($0, what: full) })
            else { return typeError(expr, "\(full) needs its 's' argument") }
            var fallback: CompiledExpr.Fn<Int64>?
            if let f = a[1] {
                guard case .int(let g)? = compile(f, as: .int, what: "\(full) fallback") else { return nil }
                fallback = g
            }
            let fallbackFn = fallback
            return .int { context in
                if let value = text(context).flatMap({ Int64($0.trimmingASCIISpaces) }) { return value }
                if let fallbackFn { return fallbackFn(context) }
                context.fail("std.integer: not an integer and no fallback")
                return 0
            }
        case "real":
            guard let a = args(["s", "fallback"], required: 1), let text = compileString(a[0]!, what: full) else { return nil } // bound: required
            var fallback: CompiledExpr.Fn<Double>?
            if let f = a[1] {
                guard case .real(let g)? = compile(f, as: .real, what: "\(full) fallback") else { return nil }
                fallback = g
            }
            let fallbackFn = fallback
            return .real { context in
                if let value = text(context).flatMap({ Double($0.trimmingASCIISpaces) }) { return value }
                if let fallbackFn { return fallbackFn(context) }
                context.fail("std.real: not a number and no fallback")
                return 0
            }
        case "duration":
            guard let a = args(["s", "fallback"], required: 1), let text = compileString(a[0]!, what: full) else { return nil } // bound: required
            var fallback: CompiledExpr.Fn<Double>?
            if let f = a[1] {
                guard case .duration(let g)? = compile(f, as: .duration, what: "\(full) fallback") else { return nil }
                fallback = g
            }
            let fallbackFn = fallback
            return .duration { context in
                if let value = text(context).flatMap(StdFunctions.parseDuration) { return value }
                if let fallbackFn { return fallbackFn(context) }
                context.fail("std.duration: not a duration and no fallback")
                return 0
            }
        case "ip":
            guard let a = args(["s", "fallback", "resolve", "p"], required: 1),
                  let text = compileString(a[0]!, what: full) else { return nil } // bound: required
            var fallback: CompiledExpr.Fn<VCLIP?>?
            if let f = a[1] {
                guard case .ip(let g)? = compile(f, as: .ip, what: "\(full) fallback") else { return nil }
                fallback = g
            }
            var portText: CompiledExpr.Fn<String?>?
            if let p = a[3] {
                guard let f = compileString(p, what: "\(full) port") else { return nil }
                portText = f
            }
            let fallbackFn = fallback, portFn = portText
            return .ip { context in
                // As vmod_std: an address without a port gets `p`, else 80.
                let port = portFn.flatMap { $0(context) }.flatMap { Int($0) } ?? 80
                if let value = text(context).flatMap({ VCLIP(addressAndPort: $0, defaultPort: port) }) { return value }
                if let fallbackFn { return fallbackFn(context) }
                context.fail("std.ip: not an address and no fallback")
                return nil
            }
        case "healthy":
            guard let a = args(["be"], required: 1),
                  case .backend(let backend)? = compile(a[0]!, as: .backend, what: full) else { return nil } // bound: required
            return .bool { context in backend(context).map(context.isHealthy) ?? false }
        case "querysort":
            guard let a = args(["url"], required: 1), let text = compileString(a[0]!, what: full) else { return nil } // bound: required
            return .string { text($0).map(StdFunctions.querysort) }
        case "collect":
            guard let a = args(["hdr", "sep"], required: 1), let header = a[0] else { return nil }
            guard let name = header.identifierName, Variables.isHeader(name), let spec = Variables.lookup(name),
                  case .string(let get)? = Optional(spec.getter), case .string(let set)? = spec.setter else {
                guard let value = compile(header) else { return nil }
                return typeError(header, "Expression has type \(value.type.rawValue), expected HEADER (\(full) takes a header such as req.http.Cookie)")
            }
            if name.hasPrefix("obj.http.") { readsObjectHeaders = true }
            var separator: CompiledExpr.Fn<String?> = { _ in ", " }
            if let given = a[1] {
                guard let f = compileString(given, what: "\(full) separator") else { return nil }
                separator = f
            }
            let separatorFn = separator
            let headerName = String(name.split(separator: ".", maxSplits: 2).last ?? "")
            return .void { context in
                guard get(context) != nil else { return }
                let values = StdFunctions.headerValues(name, headerName, context)
                set(context, values.joined(separator: separatorFn(context) ?? ", "))
            }
        case "timestamp":
            guard let a = args(["s"], required: 1), let text = compileString(a[0]!, what: full) else { return nil } // bound: required
            return .void { $0.timestamps.append((text($0) ?? "", $0.now)) }
        case "cache_req_body":
            cachesRequestBody = true
            guard let a = args(["size"], required: 1),
                  case .bytes(let size)? = compile(a[0]!, as: .bytes, what: full) else { return nil } // bound: required
            return .bool { context in
                let limit = size(context)
                context.cacheRequestBodyLimit = limit
                return context.requestBodyStore?.cacheRequestBody(limit: limit ?? 0, storage: context.req.storage) ?? true
            }
        case "late_100_continue":
            guard let a = args(["late"], required: 1),
                  case .bool(let late)? = compile(a[0]!, as: .bool, what: full) else { return nil } // bound: required
            return .void { $0.req.late100Continue = late($0) }
        case "strstr":
            guard let a = args(["s1", "s2"], required: 2), let haystack = compileString(a[0]!, what: full), // bound: required
                  let needle = compileString(a[1]!, what: full) else { return nil } // bound: required
            return .string { context in
                guard let text = haystack(context), let part = needle(context) else { return nil }
                if part.isEmpty { return text }
                return text.firstRange(of: part).map { String(text[$0.lowerBound...]) }
            }
        case "ban":
            guard let a = args(["spec"], required: 1), let text = compileString(a[0]!, what: full) else { return nil } // bound: required
            return .bool { context in
                guard let spec = text(context), !spec.isEmpty else {
                    context.banError = "No ban conditions found."
                    return false
                }
                do {
                    _ = try VCLBan(spec)
                } catch {
                    // As varnishd words it (without Shellac's offset).
                    context.banError = (error as? VCLBan.ParseError)?.message ?? "\(error)"
                    return false
                }
                context.banError = ""
                context.bans.append(spec)
                return true
            }
        case "ban_error":
            guard args([], required: 0) != nil else { return nil }
            return .string { $0.banError }
        case "real2time":
            guard let a = args(["r", "fallback"], required: 2),
                  let real = compile(a[0]!, as: .real, what: full)?.asReal, // bound: required
                  case .time(let fallback)? = compile(a[1]!, as: .time, what: full) else { return nil } // bound: required
            return .time { context in
                let value = real(context)
                return value.isFinite ? value : fallback(context)
            }
        case "time":
            guard let a = args(["s", "fallback"], required: 1),
                  let text = compileString(a[0]!, what: full) else { return nil } // bound: required
            var fallback: CompiledExpr.Fn<Double>?
            if let f = a[1] {
                guard case .time(let g)? = compile(f, as: .time, what: "\(full) fallback") else { return nil }
                fallback = g
            }
            let fallbackFn = fallback
            return .time { context in
                if let value = text(context).flatMap(ValueFormat.parseTime) { return value }
                if let fallbackFn { return fallbackFn(context) }
                context.fail("std.time: not a date and no fallback")
                return 0
            }
        case "rollback":
            // std.rollback(req | bereq): the request as it arrived (bereq: as vcl_backend_fetch
            // first saw it; in vcl_backend_response the fetch then fails, as in Varnish).
            guard let a = args(["h"], required: 1) else { return nil }
            guard case .identifier(let which) = a[0]!.kind, which == "req" || which == "bereq" else { // bound: required
                return typeError(a[0]!, "\(full): expected req or bereq") // bound: required
            }
            rollsBack = true
            return which == "req" ? .void { $0.rollBackRequest() } : .void { $0.rollBackBackendRequest() }
        case "port":
            guard let a = args(["ip"], required: 1), case .ip(let ip)? = compile(a[0]!, as: .ip, what: full) else { return nil } // bound: required
            return .int { Int64(ip($0)?.port ?? 0) }
        case "random":
            guard let a = args(["lo", "hi"], required: 2),
                  case .real(let low)? = compile(a[0]!, as: .real, what: full), // bound: required
                  case .real(let high)? = compile(a[1]!, as: .real, what: full) else { return nil } // bound: required
            return .real { context in
                context.randomState = context.randomState &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let unit = Double(context.randomState >> 11) / Double(UInt64(1) << 53)
                let (lo, hi) = (low(context), high(context))
                return lo + (hi - lo) * unit
            }
        default:
            return typeError(expr, "Unknown function 'std.\(function)' (Shellac has log, syslog, tolower, toupper, integer, real, duration, ip, port, healthy, querysort, collect, timestamp, cache_req_body, strstr, ban, ban_error, random, time, real2time, rollback)")
        }
    }
}
