import ShellacCache
import VCL

/// The backend side of a VCL-driven request: `vcl_backend_fetch` and `vcl_backend_response`
/// run in a context of their own, since a fetch may outlive the client request that began it.
final class VCLBackendPolicy {
    let program: VCLProgram
    let context: VCLContext

    init(program: VCLProgram) {
        self.program = program
        self.context = program.makeContext()
    }

    /// What `vcl_backend_response` made of a response.
    struct Decision {
        var status: Int
        var reason: String
        var headers: HeaderList
        var lifetime: ObjectLifetime
        var uncacheable: Bool
    }

    /// Runs `vcl_backend_response`; nil when VCL abandons the response (or fails).
    func backendResponse(
        status: Int, reason: String, headers: HeaderList, lifetime: ObjectLifetime, isPass: Bool
    ) -> Decision? {
        context.beresp = VCLBackendResponse()
        context.beresp.status = status
        context.beresp.reason = reason
        context.beresp.headers = headers
        context.beresp.ttl = lifetime.ttl
        context.beresp.grace = lifetime.grace
        context.beresp.keep = lifetime.keep
        context.beresp.age = lifetime.originAge
        context.beresp.uncacheable = isPass
        context.beresp.backendName = context.bereq.backend ?? ""
        context.now = lifetime.entered
        switch program.run(.backendResponse, context) {
        case .deliver, .ok:
            break
        default:
            return nil
        }
        let beresp = context.beresp
        var result = lifetime
        result.ttl = beresp.ttl
        result.grace = beresp.grace
        result.keep = beresp.keep
        return Decision(
            status: beresp.status, reason: beresp.reason, headers: beresp.headers, lifetime: result,
            uncacheable: beresp.uncacheable || isPass)
    }
}
