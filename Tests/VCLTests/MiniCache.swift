@testable import VCL

/// A toy cache that drives a `VCLProgram` through Varnish's request states, the way the server
/// will: enough to test the seed configurations end to end without sockets.
final class MiniCache {
    struct Stored {
        var status: Int
        var headers: HeaderList
        var ttl: Double
        var hits = 0
        /// Hit-for-pass / hit-for-miss markers instead of content.
        var marker: Marker?
    }

    enum Marker { case hitForPass, hitForMiss }

    struct Outcome {
        /// The states visited, e.g. ["recv", "hash", "miss", "backend_fetch", "backend_response", "deliver"].
        var path: [String] = []
        var response = VCLResponse()
        var body = ""
        var context: VCLContext
    }

    let program: VCLProgram
    var store: [String: Stored] = [:]
    var backendRequests: [VCLBackendRequest] = []
    /// The origin: answers a backend request with status, headers and an initial TTL.
    var origin: (VCLBackendRequest) -> (Int, HeaderList, Double) = { _ in (200, HeaderList(), 120) }

    init(program: VCLProgram) { self.program = program }

    func handle(_ method: String, _ url: String, _ headers: [(String, String)]) -> Outcome {
        let context = program.makeContext()
        context.req.method = method
        context.req.url = url
        context.req.headers = HeaderList(headers.map { (name: $0.0, value: $0.1) })
        var outcome = Outcome(context: context)
        while true {
            outcome.path.append("recv")
            switch program.run(.recv, context) {
            case .hash:
                outcome.path.append("hash")
                _ = program.run(.hash, context)
                let key = context.hashData.joined(separator: "\u{1}")
                if let found = store[key], found.marker == nil {
                    store[key]?.hits += 1
                    fillObject(context, from: store[key] ?? found)
                    outcome.path.append("hit")
                    if program.run(.hit, context) == .deliver {
                        return deliver(&outcome, status: found.status, headers: found.headers)
                    }
                    return outcome
                }
                if store[key]?.marker == .hitForPass {
                    outcome.path.append("pass")
                    _ = program.run(.pass, context)
                    return fetch(&outcome, key: nil)
                }
                outcome.path.append("miss")
                _ = program.run(.miss, context)
                return fetch(&outcome, key: key)
            case .pass:
                outcome.path.append("pass")
                _ = program.run(.pass, context)
                return fetch(&outcome, key: nil)
            case .pipe:
                outcome.path.append("pipe")
                _ = program.run(.pipe, context)
                return outcome
            case .purge:
                outcome.path.append("purge")
                _ = program.run(.hash, context)
                store[context.hashData.joined(separator: "\u{1}")] = nil
                let action = program.run(.purge, context)
                if case .synth(let status, let reason) = action { return synth(&outcome, status, reason) }
                return outcome
            case .synth(let status, let reason):
                return synth(&outcome, status, reason)
            case .restart:
                context.req.restarts += 1
            default:
                return outcome
            }
        }
    }

    private func fillObject(_ context: VCLContext, from stored: Stored) {
        context.obj.status = stored.status
        context.obj.headers = stored.headers
        context.obj.hits = stored.hits
        context.obj.ttl = stored.ttl
    }

    private func fetch(_ outcome: inout Outcome, key: String?) -> Outcome {
        let context = outcome.context
        context.bereq.method = context.req.method
        context.bereq.url = context.req.url
        context.bereq.headers = context.req.headers
        context.bereq.backend = context.req.backendHint
        context.bereq.uncacheable = key == nil
        outcome.path.append("backend_fetch")
        _ = program.run(.backendFetch, context)
        backendRequests.append(context.bereq)
        let (status, headers, ttl) = origin(context.bereq)
        context.beresp.status = status
        context.beresp.headers = headers
        context.beresp.ttl = ttl
        outcome.path.append("backend_response")
        _ = program.run(.backendResponse, context)
        if let key {
            let marker: Marker? = context.beresp.uncacheable ? (context.beresp.hitForPass ? .hitForPass : .hitForMiss) : nil
            store[key] = Stored(status: context.beresp.status, headers: context.beresp.headers,
                                ttl: context.beresp.ttl, marker: marker)
            if let stored = store[key] { fillObject(context, from: stored) }
        }
        return deliver(&outcome, status: context.beresp.status, headers: context.beresp.headers)
    }

    private func deliver(_ outcome: inout Outcome, status: Int, headers: HeaderList) -> Outcome {
        let context = outcome.context
        context.resp.status = status
        context.resp.headers = headers
        outcome.path.append("deliver")
        _ = program.run(.deliver, context)
        outcome.response = context.resp
        return outcome
    }

    private func synth(_ outcome: inout Outcome, _ status: Int, _ reason: String?) -> Outcome {
        let context = outcome.context
        context.resp.status = status
        context.resp.reason = reason ?? ""
        outcome.path.append("synth")
        _ = program.run(.synth, context)
        outcome.response = context.resp
        outcome.body = context.syntheticBody
        return outcome
    }

    func stored(_ url: String, host: String) -> Stored? { store[url + "\u{1}" + host] }
}
