import Foundation

/// A loaded VCL: its declarations as plain data and its subroutines compiled to closures.
/// Immutable and `Sendable`: one program serves every request on every thread. A class, so
/// that handing it around per request costs one reference count, not one per field.
public final class VCLProgram: Sendable {
    /// The name the VCL was loaded under (the file name by default).
    public let name: String
    public let backends: [VCLBackend]
    /// Named probes (inline probes live on their backend).
    public let probes: [VCLProbe]
    public let acls: [String: VCLACL]
    /// Directors created in vcl_init, with their member backends.
    public let directors: [String: VCLDirector]
    /// The first declared backend (possibly a `none` backend, which `resolveBackend` does not
    /// resolve): the initial `req.backend_hint`.
    public let defaultBackend: String?
    /// Warnings from compiling (legacy translations, unused subs).
    public let warnings: [VCLDiagnostic]
    /// True when the file was read as the legacy 2.x/3.x dialect.
    public let isLegacy: Bool
    /// The built-in subroutines the user's file defines. For the others only the built-in VCL
    /// runs, so the server may apply its known effect directly on a hot path (vcl_hit and
    /// vcl_deliver just return deliver).
    public let userSubroutines: Set<VCLSubroutine>
    /// `userSubroutines` as bits of `VCLSubroutine.index`, for the per-request checks.
    private let userSubroutineBits: UInt64
    /// The compiled subroutines, indexed like `VCLSubroutine.allCases`.
    let subroutines: [Step]
    /// Whether any code reads `obj.http.*` or `obj.reason`: if none does, a hit need not make
    /// them (they are the only `obj` fields that cost more than a copy).
    public let readsObjectHeaders: Bool
    /// Whether the VCL calls `std.cache_req_body()`: request bodies are then read whole
    /// before `vcl_recv` (so that a retry or restart can send them again), not streamed.
    public let cachesRequestBody: Bool
    /// Whether the VCL imports vmod purge (whose `hard()` and `soft()` purge the key the
    /// request looked up): only then does a request keep its key for them.
    public let purgesLookedUpObjects: Bool
    /// Whether the VCL calls `std.rollback()`: only then does a request (and a fetch) keep a
    /// copy of itself as it arrived.
    public let rollsBack: Bool
    /// Each declared backend's health (probes and `backend.set_health` write it).
    public let health: BackendHealthBoard

    init(name: String, backends: [VCLBackend], defaultBackend: String?, probes: [VCLProbe], acls: [String: VCLACL],
         directors: [String: VCLDirector], warnings: [VCLDiagnostic], isLegacy: Bool,
         userSubroutines: Set<VCLSubroutine>, subroutines: [Step], readsObjectHeaders: Bool = true,
         cachesRequestBody: Bool = false, purgesLookedUpObjects: Bool = false, rollsBack: Bool = false) {
        self.purgesLookedUpObjects = purgesLookedUpObjects
        self.rollsBack = rollsBack
        self.readsObjectHeaders = readsObjectHeaders
        self.cachesRequestBody = cachesRequestBody
        self.name = name
        self.backends = backends
        self.probes = probes
        self.acls = acls
        self.directors = directors
        self.defaultBackend = defaultBackend
        self.warnings = warnings
        self.isLegacy = isLegacy
        self.userSubroutines = userSubroutines
        self.userSubroutineBits = userSubroutines.reduce(0) { $0 | 1 << UInt64($1.index) }
        self.subroutines = subroutines
        self.health = BackendHealthBoard(backends: backends, now: Date().timeIntervalSince1970)
    }

    /// Whether the user's VCL defines any built-in subroutine (otherwise the server's own
    /// policy, which is the built-in VCL's, applies).
    public var hasUserCode: Bool { userSubroutineBits != 0 }

    /// Whether the user's VCL defines `subroutine` (otherwise only the built-in VCL runs there).
    @inline(__always)
    public func defines(_ subroutine: VCLSubroutine) -> Bool {
        userSubroutineBits & (1 << UInt64(subroutine.index)) != 0
    }

    /// The same program with every backend passed through `transform` (for `-b`-style
    /// overrides of backend addresses, e.g. in tests).
    public func overridingBackends(_ transform: (VCLBackend) -> VCLBackend) -> VCLProgram {
        VCLProgram(name: name, backends: backends.map(transform), defaultBackend: defaultBackend, probes: probes, acls: acls, directors: directors,
                   warnings: warnings, isLegacy: isLegacy, userSubroutines: userSubroutines, subroutines: subroutines,
                   readsObjectHeaders: readsObjectHeaders, cachesRequestBody: cachesRequestBody,
                   purgesLookedUpObjects: purgesLookedUpObjects, rollsBack: rollsBack)
    }

    /// A fresh context for one request, with `req.backend_hint` set to the default backend.
    public func makeContext() -> VCLContext {
        let context = VCLContext()
        context.backendHealth = { [unowned self] name in self.isHealthy(name) }
        context.req.backendHint = defaultBackend
        context.bereq.backend = defaultBackend
        return context
    }

    /// Clears a used context for the next request and sets this program's default backend.
    public func resetContext(_ context: VCLContext, objectAndResponse: Bool = true) {
        context.reset(objectAndResponse: objectAndResponse, backend: defaultBackend)
    }

    /// Runs one built-in subroutine (the user's code, then the built-in VCL) and returns its action.
    ///
    /// A run-time failure returns `.fail` with `context.failure` set. `restart` once
    /// `req.restarts` has reached `maxRestarts` becomes `synth(503, "Too many restarts")`.
    /// A `synth`/`error` without a reason gets the standard reason phrase of its status.
    /// Running vcl_hash starts a fresh `hashData`; vcl_synth and vcl_backend_error start a
    /// fresh `syntheticBody`.
    public func run(_ subroutine: VCLSubroutine, _ context: VCLContext, maxRestarts: Int = 4) -> VCLAction {
        switch subroutine {
        case .hash: context.hashData.removeAll(keepingCapacity: true)
        case .synth, .backendError: context.syntheticBody = ""
        default: break
        }
        let action: VCLAction
        context.isInitializing = subroutine == .initialize
        defer { context.isInitializing = false }
        switch subroutines[subroutine.index](context) {
        case .exit(let result): action = result
        case .proceed, .leave: action = subroutine == .initialize || subroutine == .finalize ? .ok : .fail
        }
        // A failure while computing the action itself (e.g. its status) fails the request too.
        if context.failure != nil { return .fail }
        switch action {
        case .restart where context.req.restarts >= maxRestarts:
            return .synth(status: 503, reason: "Too many restarts")
        case .synth(let status, nil):
            return .synth(status: status, reason: HTTPReason.phrase(status))
        case .error(let status, nil):
            return .error(status: status, reason: HTTPReason.phrase(status))
        default:
            return action
        }
    }

    /// The backend a hint names: a backend directly, or the choice of a director.
    public func resolveBackend(_ hint: String?, context: VCLContext) -> VCLBackend? {
        resolveBackend(hint, context: context, depth: 0)
    }

    private func resolveBackend(_ hint: String?, context: VCLContext, depth: Int) -> VCLBackend? {
        guard let hint, depth < 16 else { return nil }
        if let backend = backends.first(where: { $0.name == hint }) { return backend }
        if let director = directors[hint], let chosen = director.pick(key: context.req.url, context: context) {
            return resolveBackend(chosen, context: context, depth: depth + 1)
        }
        return nil
    }

    /// Whether a backend (probe and admin state) or a director (any healthy member) may be
    /// used now. A `none` backend or an unknown name never is.
    public func isHealthy(_ name: String) -> Bool { isHealthy(name, depth: 0) }

    private func isHealthy(_ name: String, depth: Int) -> Bool {
        if let backend = health[name] { return backend.isHealthy }
        guard depth < 16, let director = directors[name] else { return false }
        return director.members.contains { isHealthy($0.name, depth: depth + 1) }
    }
}

/// Standard reason phrases, for `synth(status)` without a reason: Varnish's table (its
/// `http_response.h`), but for 413, 414 and 416, which have their RFC 9110 names. A status
/// above 999 is read modulo 1000, as Varnish does.
public enum HTTPReason {
    public static func phrase(_ status: Int) -> String {
        switch status % 1000 {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 102: "Processing"
        case 103: "Early Hints"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 203: "Non-Authoritative Information"
        case 204: "No Content"
        case 205: "Reset Content"
        case 206: "Partial Content"
        case 207: "Multi-Status"
        case 208: "Already Reported"
        case 226: "IM Used"
        case 300: "Multiple Choices"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 305: "Use Proxy"
        case 306: "(Unused)"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 421: "Misdirected Request"
        case 422: "Unprocessable Entity"
        case 423: "Locked"
        case 424: "Failed Dependency"
        case 425: "Too Early"
        case 426: "Upgrade Required"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 451: "Unavailable For Legal Reasons"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        case 506: "Variant Also Negotiates"
        case 507: "Insufficient Storage"
        case 508: "Loop Detected"
        case 510: "Not Extended"
        case 511: "Network Authentication Required"
        default: "Unknown HTTP Status"
        }
    }
}
