/// Writes a value into a variable of the request context.
enum Setter: Sendable {
    case string(@Sendable (VCLContext, String?) -> Void)
    case int(@Sendable (VCLContext, Int64) -> Void)
    case real(@Sendable (VCLContext, Double) -> Void)
    case duration(@Sendable (VCLContext, Double) -> Void)
    case bool(@Sendable (VCLContext, Bool) -> Void)
    case backend(@Sendable (VCLContext, String?) -> Void)
}

/// One VCL variable: its type, where it may be read, set and unset, and how.
struct VariableSpec: Sendable {
    let name: String
    let type: VCLType
    let readable: SubMask
    let writable: SubMask
    let unsettable: SubMask
    let getter: CompiledExpr
    let setter: Setter?
    let unsetter: (@Sendable (VCLContext) -> Void)?
}

/// The table of VCL variables, with Varnish 7's access rules.
enum Variables {
    private static let clientAndBackend = SubMask.client.union(.backend)
    private static let beresp = SubMask.of(.backendResponse, .backendError)
    private static let resp = SubMask.of(.deliver, .synth)
    private static let bereqWrite = SubMask.of(.pipe).union(.backend)

    private static func v(_ name: String, _ getter: CompiledExpr, read: SubMask, write: SubMask = .none,
                          _ setter: Setter? = nil) -> VariableSpec {
        VariableSpec(name: name, type: getter.type, readable: read, writable: write, unsettable: .none,
                     getter: getter, setter: setter, unsetter: nil)
    }

    private static let fixed: [String: VariableSpec] = {
        let specs: [VariableSpec] = [
            v("client.ip", .ip { $0.clientIP }, read: clientAndBackend),
            v("client.identity", .string { $0.clientIdentity ?? $0.clientIP.description }, read: clientAndBackend,
              write: .client, .string { $0.clientIdentity = $1 }),
            v("server.ip", .ip { $0.serverIP }, read: clientAndBackend),
            v("server.hostname", .string { $0.serverHostname }, read: .all),
            v("server.identity", .string { $0.serverIdentity }, read: .all),
            v("local.ip", .ip { $0.localIP }, read: clientAndBackend),
            v("remote.ip", .ip { $0.remoteIP }, read: clientAndBackend),
            v("local.endpoint", .string { $0.listener.endpoint }, read: clientAndBackend),
            v("local.socket", .string { $0.listener.name }, read: clientAndBackend),
            v("now", .time { $0.now }, read: .all),

            v("req.method", .string { $0.req.method }, read: .client, write: .client, .string { $0.req.method = $1 ?? "" }),
            v("req.url", .string { $0.req.url }, read: .client, write: .client, .string { context, value in
                // As Varnish: an unset value is a VCL failure, not an empty URL.
                if let value { context.req.url = value } else { context.fail("req.url cannot be set to an unset value") }
            }),
            v("req.proto", .string { $0.req.proto }, read: .client, write: .client, .string { $0.req.proto = $1 ?? "" }),
            // The transport the request came by: HTTP/1 only here (Varnish also has "HTTP/2").
            v("req.transport", .string { _ in "HTTP/1" }, read: .client),
            v("req.backend_hint", .backend { $0.req.backendHint }, read: .client, write: .client,
              .backend { $0.req.backendHint = $1 }),
            v("req.restarts", .int { Int64($0.req.restarts) }, read: .client),
            v("req.ttl", .duration { $0.req.ttl ?? -1 }, read: .client, write: .client, .duration { $0.req.ttl = $1 }),
            v("req.grace", .duration { $0.req.grace ?? -1 }, read: .client, write: .client, .duration { $0.req.grace = $1 }),
            v("req.hash_always_miss", .bool { $0.req.hashAlwaysMiss }, read: .client, write: .of(.recv),
              .bool { $0.req.hashAlwaysMiss = $1 }),
            v("req.hash_ignore_busy", .bool { $0.req.hashIgnoreBusy }, read: .client, write: .of(.recv),
              .bool { $0.req.hashIgnoreBusy = $1 }),
            v("req.esi", .bool { $0.req.esi }, read: .client, write: .of(.recv, .deliver, .synth), .bool { $0.req.esi = $1 }),
            v("req.esi_level", .int { Int64($0.req.esiLevel) }, read: .client),
            v("req.can_gzip", .bool { $0.requestAcceptsGzip }, read: .client),
            v("req.xid", .string { $0.req.xid }, read: .client),
            v("req_top.url", .string { $0.req.top?.request.url ?? $0.req.url }, read: .client),
            v("req_top.method", .string { $0.req.top?.request.method ?? $0.req.method }, read: .client),
            v("req_top.proto", .string { $0.req.top?.request.proto ?? $0.req.proto }, read: .client),
            v("req_top.time", .time { $0.req.top?.time ?? $0.now }, read: .client),
            v("req.is_hitmiss", .bool { $0.req.isHitMiss }, read: .client),
            v("req.hash_ignore_vary", .bool { $0.req.hashIgnoreVary }, read: .client, write: .of(.recv),
              .bool { $0.req.hashIgnoreVary = $1 }),
            v("req.storage", .string { $0.req.storage }, read: .client, write: .client, .string { $0.req.storage = $1 }),
            // By default a pass's object goes to Transient, the others to the default store.
            v("beresp.storage", .string { $0.beresp.storage ?? ($0.bereq.uncacheable ? "storage.Transient" : "storage.s0") },
              read: beresp, write: beresp,
              .string { $0.beresp.storage = $1 }),
            v("beresp.storage_hint", .string { $0.beresp.storage ?? "s0" }, read: beresp, write: beresp,
              .string { $0.beresp.storage = $1.map { "storage." + $0 } }),
            v("obj.storage", .string { $0.obj.storage }, read: .of(.hit, .deliver)),
            v("obj.can_esi", .bool { $0.obj.canESI }, read: .of(.hit, .deliver)),
            v("sess.xid", .string { String($0.req.sessionXID) }, read: clientAndBackend),
            v("req.is_hitpass", .bool { $0.req.isHitPass }, read: .client),
            v("sess.timeout_idle", .duration { $0.sessionTimeoutIdle }, read: .client, write: .client,
              .duration { context, value in
                  context.sessionTimeoutIdle = value
                  context.sessionTimeoutIdleChanged = true
              }),
            v("resp.body", .string { $0.syntheticBody }, read: .none, write: .of(.synth),
              .string { $0.syntheticBody = $1 ?? "" }),
            v("beresp.body", .string { $0.syntheticBody }, read: .none, write: .of(.backendError),
              .string { $0.syntheticBody = $1 ?? "" }),

            v("bereq.method", .string { $0.bereq.method }, read: bereqWrite, write: bereqWrite, .string { $0.bereq.method = $1 ?? "" }),
            // `unset bereq.body` (the built-in vcl_backend_fetch does it for a GET): the client's
            // body is not sent. Not readable.
            VariableSpec(
                name: "bereq.body", type: .string, readable: .none, writable: .none, unsettable: .of(.backendFetch),
                getter: .string { _ in nil }, setter: nil, unsetter: { $0.bereq.bodyUnset = true }),
            v("bereq.url", .string { $0.bereq.url }, read: bereqWrite, write: bereqWrite, .string { context, value in
                if let value { context.bereq.url = value } else { context.fail("bereq.url cannot be set to an unset value") }
            }),
            v("bereq.proto", .string { $0.bereq.proto }, read: bereqWrite, write: bereqWrite, .string { $0.bereq.proto = $1 ?? "" }),
            v("bereq.backend", .backend { $0.bereq.backend }, read: bereqWrite, write: bereqWrite, .backend { $0.bereq.backend = $1 }),
            v("bereq.retries", .int { Int64($0.bereq.retries) }, read: .backend),
            v("bereq.uncacheable", .bool { $0.bereq.uncacheable }, read: .backend),
            v("bereq.is_bgfetch", .bool { $0.bereq.isBackgroundFetch }, read: .backend),
            v("bereq.is_hitmiss", .bool { $0.bereq.isHitMiss }, read: .backend),
            v("bereq.is_hitpass", .bool { $0.bereq.isHitPass }, read: .backend),
            v("bereq.xid", .string { $0.bereq.xid }, read: bereqWrite),
            v("bereq.connect_timeout", .duration { $0.bereq.connectTimeout ?? -1 }, read: bereqWrite, write: bereqWrite,
              .duration { $0.bereq.connectTimeout = $1 }),
            v("bereq.first_byte_timeout", .duration { $0.bereq.firstByteTimeout ?? -1 }, read: bereqWrite, write: bereqWrite,
              .duration { $0.bereq.firstByteTimeout = $1 }),
            v("bereq.between_bytes_timeout", .duration { $0.bereq.betweenBytesTimeout ?? -1 }, read: bereqWrite,
              write: bereqWrite, .duration { $0.bereq.betweenBytesTimeout = $1 }),

            v("beresp.status", .int { Int64($0.beresp.status) }, read: beresp, write: beresp, .int { context, value in
                // As Varnish: a new status brings its own reason phrase.
                guard let status = context.checkedStatus(value, of: "beresp") else { return }
                context.beresp.status = status
                context.beresp.reason = HTTPReason.phrase(status)
            }),
            v("beresp.reason", .string { $0.beresp.reason }, read: beresp, write: beresp, .string { $0.beresp.reason = $1 ?? "" }),
            v("beresp.proto", .string { $0.beresp.proto }, read: beresp, write: beresp, .string { $0.beresp.proto = $1 ?? "" }),
            v("beresp.ttl", .duration { $0.beresp.ttl }, read: beresp, write: beresp, .duration { $0.beresp.ttl = $1 }),
            v("beresp.grace", .duration { $0.beresp.grace }, read: beresp, write: beresp, .duration { $0.beresp.grace = $1 }),
            v("beresp.keep", .duration { $0.beresp.keep }, read: beresp, write: beresp, .duration { $0.beresp.keep = $1 }),
            v("beresp.age", .duration { $0.beresp.age }, read: beresp),
            v("beresp.uncacheable", .bool { $0.beresp.uncacheable }, read: beresp, write: beresp,
              .bool { $0.beresp.uncacheable = $0.beresp.uncacheable || $1 }),
            // Once beresp.filters is set, the do_* flags no longer choose filters: setting one
            // is a VCL failure, as in Varnish.
            v("beresp.do_gzip", .bool { $0.beresp.doGzip }, read: beresp, write: beresp, .bool { context, value in
                if context.beresp.explicitFilters != nil { return context.fail(Self.filtersSet("beresp", "do_gzip")) }
                context.beresp.doGzip = value
            }),
            v("beresp.do_gunzip", .bool { $0.beresp.doGunzip }, read: beresp, write: beresp, .bool { context, value in
                if context.beresp.explicitFilters != nil { return context.fail(Self.filtersSet("beresp", "do_gunzip")) }
                context.beresp.doGunzip = value
            }),
            v("beresp.do_esi", .bool { $0.beresp.doESI }, read: beresp, write: beresp, .bool { context, value in
                if context.beresp.explicitFilters != nil { return context.fail(Self.filtersSet("beresp", "do_esi")) }
                context.beresp.doESI = value
            }),
            v("beresp.filters", .string { $0.beresp.filters }, read: .of(.backendResponse), write: .of(.backendResponse),
              .string { $0.beresp.explicitFilters = $1 ?? "" }),
            v("resp.do_esi", .bool { $0.resp.doESI }, read: .of(.deliver), write: .of(.deliver),
              .bool { context, value in
                  if context.resp.explicitFilters != nil { return context.fail(Self.filtersSet("resp", "do_esi")) }
                  context.resp.doESI = context.resp.doESI && value
              }),
            v("resp.filters", .string { $0.resp.filters }, read: .of(.deliver), write: .of(.deliver),
              .string { $0.resp.explicitFilters = $1 ?? "" }),
            v("beresp.do_stream", .bool { $0.beresp.doStream }, read: beresp, write: beresp, .bool { $0.beresp.doStream = $1 }),
            v("beresp.was_304", .bool { $0.beresp.was304 }, read: beresp),
            v("beresp.backend", .backend { $0.beresp.backendName }, read: beresp),
            v("beresp.backend.name", .string { $0.beresp.backendName }, read: beresp),
            v("beresp.backend.ip", .ip { $0.beresp.backendIP }, read: .of(.backendResponse)),

            v("obj.status", .int { Int64($0.obj.status) }, read: .of(.hit)),
            v("obj.reason", .string { $0.obj.reason }, read: .of(.hit)),
            v("obj.proto", .string { $0.obj.proto }, read: .of(.hit)),
            v("obj.hits", .int { Int64($0.obj.hits) }, read: .of(.hit, .deliver)),
            v("obj.ttl", .duration { $0.obj.ttl }, read: .of(.hit, .deliver)),
            v("obj.age", .duration { $0.obj.age }, read: .of(.hit, .deliver)),
            v("obj.grace", .duration { $0.obj.grace }, read: .of(.hit, .deliver)),
            v("obj.keep", .duration { $0.obj.keep }, read: .of(.hit, .deliver)),
            v("obj.uncacheable", .bool { $0.obj.uncacheable }, read: .of(.deliver)),

            v("resp.status", .int { Int64($0.resp.status) }, read: resp, write: resp, .int { context, value in
                guard let status = context.checkedStatus(value, of: "resp") else { return }
                context.resp.status = status
                context.resp.reason = HTTPReason.phrase(status)
            }),
            v("resp.reason", .string { $0.resp.reason }, read: resp, write: resp, .string { $0.resp.reason = $1 ?? "" }),
            v("resp.proto", .string { $0.resp.proto }, read: resp, write: resp, .string { $0.resp.proto = $1 ?? "" }),
            v("resp.is_streaming", .bool { $0.resp.isStreaming }, read: resp),
        ]
        return Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }()

    /// The header prefixes and where their headers may be read, set and unset.
    private static let headerScopes: [(prefix: String, read: SubMask, write: SubMask)] = [
        ("req.http.", .client, .client),
        ("req_top.http.", .client, .none),
        ("bereq.http.", bereqWrite, bereqWrite),
        ("beresp.http.", beresp, beresp),
        ("obj.http.", .of(.hit), .none),
        ("resp.http.", resp, resp),
    ]

    /// Variables that can be set in VCL 4.0 but are read-only from VCL 4.1 on (as in vcc).
    static let readOnlyFrom41: Set<String> = ["req.proto", "bereq.proto", "beresp.proto", "resp.proto"]

    /// Variables vcc knows only from VCL 4.1 on, and only up to VCL 4.0 (`vcl_var.rst`).
    static let onlyFrom41: Set<String> = ["sess.xid", "resp.do_esi", "local.endpoint", "local.socket"]
    static let onlyTo40: Set<String> = ["req.esi", "beresp.backend.ip"]

    /// True when `name` is a header variable such as `req.http.Host`.
    /// Varnish's words for a do_* flag set after the filters were named.
    static func filtersSet(_ object: String, _ flag: String) -> String {
        "\(object).filters are already set, \(object).\(flag) is not effective"
    }

    static func isHeader(_ name: String) -> Bool {
        headerScopes.contains { name.hasPrefix($0.prefix) && name.count > $0.prefix.count }
    }

    /// The variable called `name`, or nil when there is none.
    static func lookup(_ name: String) -> VariableSpec? {
        if let spec = fixed[name] { return spec }
        for scope in headerScopes where name.hasPrefix(scope.prefix) && name.count > scope.prefix.count {
            let header = String(name.dropFirst(scope.prefix.count))
            return headerSpec(name: name, prefix: scope.prefix, header: header, read: scope.read, write: scope.write)
        }
        return nil
    }

    /// A hint for a VCL 2.x/3.x name used in a 4.x file.
    static func legacyHint(_ name: String) -> String {
        let hints = [
            "req.request": "req.method", "bereq.request": "bereq.method", "req.backend": "req.backend_hint",
            "beresp.cacheable": "!beresp.uncacheable", "obj.cacheable": "!beresp.uncacheable", "req.hash": "hash_data()",
            "beresp.response": "beresp.reason", "obj.response": "resp.reason", "resp.response": "resp.reason",
        ]
        return hints[name].map { " (VCL 2.x/3.x name; in VCL 4 use \($0))" } ?? ""
    }

    private static func headerSpec(name: String, prefix: String, header: String,
                                   read: SubMask, write: SubMask) -> VariableSpec {
        let getter: CompiledExpr
        let setter: Setter
        let unsetter: @Sendable (VCLContext) -> Void
        let key = HeaderKey(header)
        switch prefix {
        case "req_top.http.":
            getter = .string { context in
                if let top = context.req.top { return top.request.headers.first(key) }
                return context.req.headers.first(key)
            }
            setter = .string { _, _ in }
            unsetter = { _ in }
        case "req.http.":
            getter = .string { $0.req.headers.first(key) }
            setter = .string { $0.req.headers.set(key, $1 ?? "") }
            unsetter = { $0.req.headers.remove(key) }
        case "bereq.http.":
            getter = .string { $0.bereq.headers.first(key) }
            setter = .string { $0.bereq.headers.set(key, $1 ?? "") }
            unsetter = { $0.bereq.headers.remove(key) }
        case "beresp.http.":
            getter = .string { $0.beresp.headers.first(key) }
            setter = .string { $0.beresp.headers.set(key, $1 ?? "") }
            unsetter = { $0.beresp.headers.remove(key) }
        case "obj.http.":
            getter = .string { $0.obj.headers.first(key) }
            setter = .string { $0.obj.headers.set(key, $1 ?? "") }
            unsetter = { $0.obj.headers.remove(key) }
        default:
            getter = .string { $0.resp.headers.first(key) }
            setter = .string { $0.resp.headers.set(key, $1 ?? "") }
            unsetter = { $0.resp.headers.remove(key) }
        }
        return VariableSpec(name: name, type: .string, readable: read, writable: write, unsettable: write,
                            getter: getter, setter: setter, unsetter: unsetter)
    }
}
