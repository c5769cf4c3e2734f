import NIOCore
import VCL

/// pipe: the connection is handed to the backend (`vcl_pipe`), bytes relayed both ways.
extension RequestStateMachine {
    func pipe() -> RequestStep {
        let action = policy.pipe()
        logCall("PIPE", action)
        handling = .pipe
        if case .synth(let status, let reason) = action { return .synth(status: status, reason: reason) }
        if parameters.pipeSessionLimit > 0, server.statistics.value(.pipesOpen) >= parameters.pipeSessionLimit {
            // pipe_sess_max: no more pipes at once (the sum over every loop, read under a lock;
            // pipes are rare).
            counters.increment(.pipesLimited)
            keepAlive = false
            return .synth(status: 503, reason: "Service Unavailable")
        }
        counters.increment(.pipes)
        if let body, !body.isComplete {
            // The body goes to the backend whole, with its length: wait for the rest of it.
            let loopBound = NIOLoopBound(self, eventLoop: channel.eventLoop)
            body.whenComplete { complete in
                // (A body that fails closes the connection: no pipe then.)
                if complete { loopBound.value.startPipe() }
            }
            return .waiting
        }
        startPipe()
        return .waiting
    }

    /// Connects to the backend and relays: the request head, its body, then bytes both ways.
    private func startPipe() {
        var headers = HopByHop.endToEnd(request.headers, alsoDropping: ["content-length"])
        BackendRequest.appendForwardedFor(&headers, clientIP: clientAddress?.ipAddress)
        headers.set("X-Varnish", String(xid))
        headers.set("Connection", "close")
        let backend = policy.pipeBackend(default: server.vcl.current.defaultBackend ?? server.backend)
        if headers["Host"] == nil { headers.add("Host", backend.defaultHost) }
        var out = channel.channel.allocator.buffer(capacity: 512)
        if let version = backend.proxyHeader,
           var header = ProxyHeaderWriter.header(version: version, client: clientAddress, server: localAddress)
        {
            out.writeBuffer(&header)
        }
        out.writeString("\(request.method) \(request.uri) \(request.proto)\r\n")
        for field in headers { out.writeString("\(field.name): \(field.value)\r\n") }
        // The body has been read (and a chunked one decoded): it goes with its length.
        if var whole = body?.wholeBuffer {
            out.writeStaticString("Content-Length: ")
            out.writeDecimal(whole.readableBytes)
            out.writeStaticString("\r\n\r\n")
            out.writeBuffer(&whole)
        } else {
            out.writeStaticString("\r\n")
        }
        let pipe = PipeSession(client: channel.channel)
        if var pending = owner.startPiping(pipe) { out.writeBuffer(&pending) }
        let loopBound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        pipe.connect(
            to: backend, sending: out, connectTimeout: parameters.connectTimeout,
            pool: backend.proxyHeader == nil ? server.pools.value(on: channel.eventLoop) : nil
        ) {
            // No backend: as Varnish, the connection closes with no answer (the request's
            // bytes may already be on their way: a response now could not be framed).
            let machine = loopBound.value
            machine.keepAlive = false
            machine.owner.pipeFailed()
        }
    }
}
