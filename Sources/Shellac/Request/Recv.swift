import ShellacCache
import VCL

/// recv, hash, purge and restart: what the request is and which key it has.
extension RequestStateMachine {
    /// `vcl_recv`: classify the request (it may also be rewritten, and bans issued).
    func recv() -> RequestStep {
        passedFromHit = false
        let action = policy.receive(&request, store: server.store)
        logCall("RECV", action)
        // `Expect: 100-continue`: the client is told to send its body now, unless VCL asked
        // for it late (when the body is first read) or failed.
        if action != .fail, !policy.continuesLate { body?.sendContinue() }
        if parameters.httpGzipSupport, action != .pass, action != .pipe {
            // Accept-Encoding washed for lookup and Vary, as Varnish does after vcl_recv.
            if let gzip = AcceptEncoding.normalized(request.headers) {
                if let sent = request.headers["Accept-Encoding"], sent != gzip {
                    logAsRequest()
                    vsl.header(.reqUnset, name: "Accept-Encoding", value: sent)
                    vsl.header(.reqHeader, name: "Accept-Encoding", value: gzip)
                    request.headers.set("Accept-Encoding", gzip)
                }
            } else if let sent = request.headers["Accept-Encoding"] {
                logAsRequest()
                vsl.header(.reqUnset, name: "Accept-Encoding", value: sent)
                request.headers.remove("Accept-Encoding")
            }
        }
        switch action {
        case .hash, .lookup: return .hash
        case .pass: return .pass
        case .pipe: return .pipe
        case .purge: return .purge
        case .vcl(let label): return switchVCL(to: label)
        case let other: return otherwise(other)
        }
    }

    /// `vcl_hash`: the key to look up.
    func hash() -> RequestStep {
        let key = policy.hash(request) { serverAddress }
        logHash(key)
        logCall("HASH", .lookup)
        return .lookup(key)
    }

    /// `return (purge)`: every object of the key goes, then `vcl_purge` answers.
    func purge() -> RequestStep {
        server.store.purge(key: policy.hash(request) { serverAddress })
        let action = policy.purge()
        logCall("PURGE", action)
        switch action {
        case .synth(let status, let reason): return .synth(status: status, reason: reason)
        case .restart: return .restart
        default: return .synth(status: 200, reason: "Purged")
        }
    }

    /// `return (restart)`: back to `vcl_recv` with the request as VCL left it; past
    /// `max_restarts`, a 503 synth.
    func restart() -> RequestStep {
        delivery = nil
        deliveryGeneration += 1
        logTimestamp("Restart")
        guard policy.restart() else { return .synth(status: 503, reason: "Too many restarts") }
        return .recv
    }
}
