import NIOCore
import VCL

/// pipe: the connection is handed to the backend (`vcl_pipe`), bytes relayed both ways.
extension RequestStateMachine {
    func pipe() -> RequestStep {
        if case .synth(let status, let reason) = policy.pipe() { return .synth(status: status, reason: reason) }
        counters.increment(.pipes)
        var headers = HopByHop.endToEnd(request.headers, alsoDropping: ["content-length"])
        BackendRequest.appendForwardedFor(&headers, clientIP: channel.channel.remoteAddress?.ipAddress)
        headers.set("X-Varnish", String(xid))
        headers.set("Connection", "close")
        var out = channel.channel.allocator.buffer(capacity: 512)
        out.writeString("\(request.method) \(request.uri) \(request.proto)\r\n")
        for field in headers { out.writeString("\(field.name): \(field.value)\r\n") }
        // The body was read (and a chunked one decoded) before vcl_recv: it goes with its length.
        if let body {
            out.writeStaticString("Content-Length: ")
            out.writeDecimal(body.readableBytes)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("\r\n")
        if var body { out.writeBuffer(&body) }
        let pipe = PipeSession(client: channel.channel)
        if var pending = owner.startPiping(pipe) { out.writeBuffer(&pending) }
        let loopBound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        pipe.connect(
            to: policy.pipeBackend(default: server.backend), sending: out, connectTimeout: parameters.connectTimeout
        ) {
            // No backend: the error page, and the connection closes.
            let machine = loopBound.value
            machine.keepAlive = false
            machine.policy = BuiltinPolicy.shared
            machine.run(.synth(status: 503, reason: "Backend fetch failed"))
        }
        return .waiting
    }
}
