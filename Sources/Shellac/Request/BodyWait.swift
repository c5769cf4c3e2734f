import NIOCore

/// An answer held until the client's body is in. Varnish reads a body that nobody sends to
/// its end before it answers from the cache or with a synth (`VRB_Ignore`), so that the
/// connection is ready for its next request when the answer goes out; when that read fails
/// (the client stalls past `timeout_idle`, bad chunking) the answer still goes, with
/// `Connection: close`. A graced hit whose background fetch may send the body waits until
/// the body is all in, kept for that fetch (Varnish waits until the fetch is done with the
/// request).
extension RequestStateMachine {
    /// `next` once the request's body is settled, or at once when there is nothing to wait
    /// for. `discarding`: nobody sends the rest of the body, it is read and dropped (and not
    /// waited for when the connection closes after this answer anyway); otherwise it is kept
    /// whole for the fetch that sends it.
    func afterRequestBody(discarding: Bool, _ next: @escaping () -> RequestStep) -> RequestStep {
        guard esiLevel == 0, let body, !body.isSettled else { return next() }
        if discarding && (!keepAlive || owner.isDraining) { return next() }
        afterBody = next
        let loopBound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        let eventLoop = channel.eventLoop
        let settled: (Bool) -> Void = { arrived in
            // A turn of the loop later: the body settles inside the connection's own read.
            eventLoop.execute {
                let machine = loopBound.value
                guard let next = machine.afterBody else { return }  // the client went away
                machine.afterBody = nil
                if !arrived { machine.keepAlive = false }
                machine.run(next())
            }
        }
        if discarding { body.drain(settled) } else { body.whenComplete(settled) }
        return .waiting
    }
}
