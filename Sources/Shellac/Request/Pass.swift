import ShellacCache
import ShellacLog
import VCL

/// pass, and the backend fetch a miss or a pass starts.
extension RequestStateMachine {
    /// `vcl_pass`: fetch into a private object that only this client reads.
    func pass() -> RequestStep {
        let action = policy.pass()
        logCall("PASS", action)
        handling = .pass
        guard action == .fetch else { return otherwise(action) }
        counters.increment(.passes)
        let object = CachedObject(
            key: CacheKey(), xid: makeXID(), lifetime: ObjectLifetime(entered: 0, ttl: 0, grace: 0, keep: 0))
        startFetch(into: object, mode: .pass)
        return .deliver(object, isHit: false, isOwner: true)
    }

    /// Starts the backend transaction that fills `object`, under the object's transaction id
    /// (the fetch's own, as Varnish numbers a bereq apart from its req). It runs on this loop
    /// but owns itself: it goes on if the client leaves, so waiters on a miss still get the
    /// object. `stale` is the expired object this fetch may revalidate (a 304 refreshes it);
    /// a background fetch refreshes a graced object while the client has it already.
    func startFetch(
        into object: CachedObject, mode: ObjectFetcher.Mode, stale: CachedObject? = nil, isBackground: Bool = false
    ) {
        let fetchXID = object.xid
        counters.increment(.fetches)
        if isBackground { counters.increment(.backgroundFetches) }
        var backendRequest = BackendRequest(
            client: request, body: body, mode: mode, clientIP: clientAddress?.ipAddress, xid: fetchXID,
            stale: stale?.metadata, gzipSupport: parameters.httpGzipSupport)
        backendRequest.addresses = (clientAddress, localAddress)
        logLink("bereq", xid: fetchXID, reason: isBackground ? "bgfetch" : mode == .pass ? "pass" : "fetch")
        if !isBackground { logTimestamp("Fetch") }
        let fetchLog = VSLBuffer(
            ring: server.logRing, capacity: 4_096, recordLimit: parameters.vslRecordLimit, mask: parameters.vslMask)
        fetchLog.vxid = fetchXID
        fetchLog.side = .backend
        let vcl = policy.backendPolicy(for: backendRequest, xid: fetchXID, log: fetchLog)
        vcl?.context.bereq.isBackgroundFetch = isBackground
        BackendTransaction(
            object: object, mode: mode, server: server, xid: fetchXID, clientHeaders: request.headers,
            pool: server.pools.value(on: channel.eventLoop), request: backendRequest, stale: stale,
            vcl: vcl, counters: counters, log: fetchLog, parentXID: xid,
            reason: isBackground ? "bgfetch" : mode == .pass ? "pass" : "fetch"
        ).start()
    }
}
