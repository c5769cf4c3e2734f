import ShellacCache
import ShellacLog
import VCL

/// The backend side of a VCL-driven request: `vcl_backend_fetch`, `vcl_backend_response` and
/// `vcl_backend_error` run in a context of their own, since a fetch may outlive the client
/// request that began it.
final class VCLBackendPolicy {
    let program: VCLProgram
    let context: VCLContext
    /// The transaction, for the records its subroutines log.
    private let xid: UInt64
    let log: VSLBuffer
    /// The backend `target` resolved `bereq.backend` to: `beresp.backend` and its address.
    private var resolved: VCLBackend?

    init(program: VCLProgram, xid: UInt64, log: VSLBuffer) {
        self.program = program
        self.context = program.makeContext()
        self.xid = xid
        self.log = log
    }

    /// Runs one backend subroutine and hands over what it logged.
    private func run(_ subroutine: VCLSubroutine) -> VCLAction {
        log.vxid = xid
        log.side = .backend
        log.record(.vclCall, subroutine.logName)
        let action = program.run(subroutine, context)
        context.flushLogs(xid: xid, side: .backend, to: log)
        log.record(.vclReturn, action.returnName)
        return action
    }

    /// A response VCL let through: fetched (`vcl_backend_response`) or made (`vcl_backend_error`).
    struct Decision {
        var status: Int
        var reason: String
        var headers: HeaderList
        var lifetime: ObjectLifetime
        var uncacheable: Bool
        /// `return (pass(DURATION))`: mark the key hit-for-pass (not hit-for-miss) for the TTL.
        var hitForPass = false
        /// `beresp.do_esi`: read the body as ESI when it is complete.
        var doESI = false
        /// `beresp.do_stream`: clients may read the body while it arrives.
        var doStream = true
        /// `beresp.do_gzip` and `beresp.do_gunzip`.
        var doGzip = false
        var doGunzip = false
        /// `set beresp.filters = ...`: the fetch filters VCL named (nil: the default ones).
        var filters: String?
        /// `beresp.storage`: the store VCL named (nil: the default choice).
        var storage: String?
    }

    /// Where a backend subroutine sends the fetch next (Varnish's `vbf_stp_*` steps).
    enum Step {
        /// Send `bereq` to the backend.
        case fetch
        case deliver(Decision)
        /// Run `vcl_backend_fetch` and the fetch again, `bereq.retries` one higher.
        case retry
        /// Go to `vcl_backend_error` with this status.
        case error(status: Int, reason: String)
        /// Give up: the object fails.
        case abandon
    }

    /// The backend `bereq.backend` names (through any director, chosen once), and the
    /// timeouts of a fetch from it. Each timeout is Varnish's: `bereq.*` when VCL set it,
    /// else the backend declaration's, else the parameter's.
    /// The backend is nil when none may be used: the hint names no backend, or a director
    /// with no healthy member, or a sick backend. Without declared backends (a VCL for `-b`)
    /// it is `fallback`.
    func target(fallback: Backend, parameters: FetchTimeouts) -> (Backend?, FetchTimeouts) {
        let declared = program.resolveBackend(context.bereq.backend, context: context)
        resolved = declared
        let bereq = context.bereq
        let timeouts = FetchTimeouts(
            connect: bereq.connectTimeout ?? declared?.connectTimeout ?? parameters.connect,
            firstByte: bereq.firstByteTimeout ?? declared?.firstByteTimeout ?? parameters.firstByte,
            betweenBytes: bereq.betweenBytesTimeout ?? declared?.betweenBytesTimeout ?? parameters.betweenBytes)
        guard let declared else { return (program.backends.isEmpty ? fallback : nil, timeouts) }
        guard program.isHealthy(declared.name), let backend = Backend(declared) else { return (nil, timeouts) }
        return (backend, timeouts)
    }

    /// Runs the user's `vcl_backend_fetch` (the built-in one only says fetch).
    func backendFetch() -> Step {
        guard program.defines(.backendFetch) else {
            // The built-in vcl_backend_fetch: a GET sends no body.
            if context.bereq.method == "GET" { context.bereq.bodyUnset = true }
            return .fetch
        }
        switch run(.backendFetch) {
        case .fetch, .deliver, .ok: return .fetch
        case .error(let status, let reason): return .error(status: status, reason: reason ?? HTTPReason.phrase(status))
        default: return .abandon
        }
    }

    /// Runs `vcl_backend_response` on a fetched response.
    func backendResponse(
        status: Int, reason: String, headers: HeaderList, lifetime: ObjectLifetime, isPass: Bool, was304: Bool = false
    ) -> Step {
        context.beresp = VCLBackendResponse()
        context.beresp.was304 = was304
        context.beresp.status = status
        context.beresp.reason = reason
        context.beresp.headers = headers
        context.beresp.ttl = lifetime.ttl
        context.beresp.grace = lifetime.grace
        context.beresp.keep = lifetime.keep
        context.beresp.age = lifetime.originAge
        context.beresp.uncacheable = isPass
        context.beresp.backendName = resolved?.name ?? context.bereq.backend ?? ""
        context.beresp.backendIP = resolved.flatMap { VCLIP($0.host, port: Int($0.port) ?? 0) }
        context.now = lifetime.entered
        let action = run(.backendResponse)
        if context.takeBackendRollback() {
            // The backend request was rolled back: this response is gone with it.
            return .error(status: 503, reason: "Backend fetch failed")
        }
        switch action {
        case .deliver, .ok:
            break
        case .pass:
            // A bare `return (pass)` (the checker refuses it in user code, so this is only a
            // safety net): hit-for-pass for the TTL the response already has.
            context.beresp.uncacheable = true
            context.beresp.hitForPass = true
        case .retry:
            return .retry
        case .error(let status, let reason):
            return .error(status: status, reason: reason ?? HTTPReason.phrase(status))
        default:
            return .abandon
        }
        return .deliver(decision(lifetime: lifetime, uncacheable: isPass))
    }

    /// Runs `vcl_backend_error` for a fetch that got no usable response. `beresp` starts as
    /// Varnish's: `status reason`, a Date, and a TTL of 0 (not cached unless VCL sets one).
    /// The body is `syntheticBody`.
    func backendError(status: Int, reason: String, now: Double) -> Step {
        context.beresp = VCLBackendResponse()
        context.beresp.status = status
        context.beresp.reason = reason
        context.beresp.headers.add("Date", HTTPDate.format(Int64(now)))
        context.beresp.headers.add("Server", "Shellac")
        context.beresp.ttl = 0
        context.beresp.grace = 0
        context.beresp.keep = 0
        context.beresp.backendName = resolved?.name ?? context.bereq.backend ?? ""
        context.now = now
        switch run(.backendError) {
        case .deliver, .ok:
            let lifetime = ObjectLifetime(entered: now, ttl: 0, grace: 0, keep: 0)
            return .deliver(decision(lifetime: lifetime, uncacheable: context.beresp.ttl <= 0))
        case .retry:
            return .retry
        default:
            return .abandon
        }
    }

    /// The response as `beresp` now says, over `lifetime`'s entry time.
    private func decision(lifetime: ObjectLifetime, uncacheable: Bool) -> Decision {
        let beresp = context.beresp
        var result = lifetime
        result.ttl = beresp.ttl
        result.grace = beresp.grace
        result.keep = beresp.keep
        return Decision(
            status: beresp.status, reason: beresp.reason, headers: beresp.headers, lifetime: result,
            uncacheable: beresp.uncacheable || uncacheable, hitForPass: beresp.hitForPass, doESI: beresp.doESI,
            doStream: beresp.doStream, doGzip: beresp.doGzip, doGunzip: beresp.doGunzip, filters: beresp.explicitFilters,
            storage: beresp.storage)
    }
}

extension VCLProgram {
    /// The backend a `req.backend_hint` or `bereq.backend` names, through any director;
    /// `fallback` when it names none that resolves.
    func backend(named hint: String?, context: VCLContext, fallback: Backend) -> Backend {
        guard let chosen = resolveBackend(hint, context: context), let backend = Backend(chosen) else { return fallback }
        return backend
    }
}
