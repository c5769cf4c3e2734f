import NIOCore
import ShellacCache
import ShellacLog
import VCL

/// A VCL program with user code answers each step by running its subroutine. A subroutine
/// the user did not write is not run where the built-in one only says "go on" (hit, miss,
/// pass, pipe, deliver, hash): the answer is the built-in's, without entering VCL.
extension VCLSession: RequestPolicy {
    func receive(_ request: inout RequestHead, store: CacheStore) -> VCLAction {
        let action = run(.recv)
        applyBans(to: store)
        request = effectiveHead(request)
        return action
    }

    func hash(_ request: RequestHead, serverAddress: () -> String) -> CacheKey {
        let key: CacheKey
        if defines(.hash) {
            _ = run(.hash)
            key = cacheKey()
        } else {
            key = BuiltinPolicy.shared.hash(request, serverAddress: serverAddress)
        }
        // Kept only for vmod purge, so that other requests copy nothing more.
        if program.purgesLookedUpObjects { lookupKey = key }
        return key
    }

    var lookupOptions: LookupOptions {
        LookupOptions(
            ttl: context.req.ttl, grace: context.req.grace, alwaysMiss: context.req.hashAlwaysMiss,
            ignoreBusy: context.req.hashIgnoreBusy, ignoreVary: context.req.hashIgnoreVary)
    }

    func hit(_ object: CachedObject, now: Double) -> VCLAction {
        guard defines(.hit), let metadata = object.metadata else { return .deliver }
        setObject(object, metadata: metadata, now: now)
        return run(.hit)
    }

    func miss() -> VCLAction { defines(.miss) ? run(.miss) : .fetch }
    func pass() -> VCLAction { defines(.pass) ? run(.pass) : .fetch }
    func pipe() -> VCLAction { defines(.pipe) ? run(.pipe) : .pipe }
    func purge() -> VCLAction { run(.purge) }

    /// `resp` starts as Varnish's (status, reason, Date, Server, X-Varnish); `vcl_synth`
    /// changes it and writes the body.
    var continuesLate: Bool { context.req.late100Continue }

    func synthesize(status: Int, reason: String?, xid: UInt64, suggestingClose: Bool, into out: inout ByteBuffer) -> String? {
        let vcl = context
        vcl.resp = VCLResponse()
        vcl.resp.status = status
        vcl.resp.reason = reason ?? HTTPReason.phrase(status)
        vcl.resp.headers.add("Date", HTTPDate.format(Int64(HTTPDate.currentTime())))
        vcl.resp.headers.add("Server", "Shellac")
        vcl.resp.headers.add("X-Varnish", String(xid))
        // A body the client has not sent yet (it waits for a 100 Continue) is not read for a
        // synth: VCL may take the `Connection: close` away to have it read (and the 100 sent).
        if suggestingClose { vcl.resp.headers.add("Connection", "close") }
        vcl.syntheticBody = ""
        // Past max_restarts a restart from vcl_synth delivers what it made instead (as
        // Varnish: a restart is still taken at max_restarts; the one after it is refused).
        if case .restart = run(.synth), context.req.restarts <= maxRestarts { return nil }
        vcl.resp.headers.remove("Content-Length")
        // `set resp.http.Connection = "close"` closes the connection after the answer.
        synthClosesConnection = vcl.resp.headers["Connection"].map { $0.lowercased().contains("close") } ?? false
        vcl.resp.headers.remove("Connection")
        vcl.resp.headers.remove("Transfer-Encoding")
        Self.serialize(vcl.resp, into: &out)
        return vcl.syntheticBody
    }

    func writeDeliveryHead(
        _ object: CachedObject, metadata: ObjectMetadata, xid: UInt64, isHit: Bool, now: Double,
        into out: inout ByteBuffer
    ) -> VCLAction {
        deliverClosesConnection = false
        guard defines(.deliver) else {
            DeliveryHead.writeStored(object, metadata: metadata, xid: xid, isHit: isHit, now: now, into: &out)
            return .deliver
        }
        return writeDelivery(object, metadata: metadata, xid: xid, isHit: isHit, now: now, into: &out)
    }

    /// Counts the restart; past `max_restarts` the request ends in a 503 synth instead
    /// (`req.restarts` is then one over the limit, as in Varnish).
    func restart() -> Bool {
        context.req.restarts += 1
        context.hashData = []
        return context.req.restarts <= maxRestarts
    }

    func pipeBackend(default backend: Backend) -> Backend {
        self.backend(named: context.req.backendHint, fallback: backend)
    }

    /// The backend side gets its own context: the fetch may outlive this request.
    func backendPolicy(for request: BackendRequest, xid: UInt64, log: VSLBuffer) -> VCLBackendPolicy? {
        let policy = VCLBackendPolicy(program: program, xid: xid, log: log)
        let backendSide = policy.context
        backendSide.bereq.method = request.method
        backendSide.bereq.url = request.uri
        backendSide.bereq.headers = request.headers
        backendSide.bereq.backend = context.req.backendHint
        backendSide.bereq.uncacheable = request.isPass
        if program.rollsBack { backendSide.keepStartingBackendRequest() }
        backendSide.bereq.isHitMiss = context.req.isHitMiss
        backendSide.bereq.isHitPass = context.req.isHitPass
        backendSide.bereq.xid = String(xid)
        backendSide.req.url = context.req.url  // a hash director's key
        backendSide.req.sessionXID = context.req.sessionXID
        backendSide.storageGauges = self
        // The session's as the client side left them (`client.identity` set in vcl_recv is
        // what vcl_backend_fetch reads, as in Varnish's busyobj).
        backendSide.clientIP = context.clientIP
        backendSide.serverIP = context.serverIP
        backendSide.localIP = context.localIP
        backendSide.remoteIP = context.remoteIP
        backendSide.clientIdentity = context.clientIdentity
        backendSide.listener = context.listener
        return policy
    }
}
