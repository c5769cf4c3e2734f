import NIOCore
import ShellacCache
import ShellacLog
import VCL

/// A request's VCL state: the program the request started with and the context it runs in,
/// borrowed from its loop's `VCLSessionPool` for the length of one request. Maps between the
/// server's request, object and response values and VCL's `req`, `obj` and `resp`.
///
/// Only used when the active VCL has user code: a program made of the built-in VCL alone is
/// what the Swift fast path already does.
final class VCLSession {
    let loaded: VCLRegistry.Loaded
    let program: VCLProgram
    let context: VCLContext
    /// For the records VCL produces outside its own log lines (a ban that does not parse).
    let log: VSLBuffer
    /// Where the purge functions purge.
    let store: CacheStore?
    /// The key this request looked up (`purge.hard()`, `purge.soft()` purge it).
    var lookupKey: CacheKey?
    /// The last `vcl_synth` asked for the connection to close.
    var synthClosesConnection = false
    /// The last `vcl_deliver` asked for the connection to close (`resp.http.Connection`).
    var deliverClosesConnection = false

    init(loaded: VCLRegistry.Loaded, log: VSLBuffer, store: CacheStore? = nil) {
        self.loaded = loaded
        self.log = log
        self.store = store
        self.program = loaded.program
        self.context = loaded.program.makeContext()
        context.fieldRules = self
        context.purger = self
        context.storageGauges = self
        context.requestBodyStore = self
    }

    /// The request body's length, when it was read whole (`std.cache_req_body` keeps it).
    var requestBodyLength: Int?
    /// What `std.cache_req_body` charged to a store, given back when the request is done.
    private var keptBody: (bytes: Int, area: Int)?

    /// Gives back the store bytes the request's cached body held.
    func releaseRequestBody() {
        guard let (bytes, area) = keptBody else { return }
        keptBody = nil
        store?.release(bytes, fromArea: area)
    }

    /// Whether the user's VCL defines `subroutine` (the built-in ones of hit, miss, pass and
    /// deliver only say "go on", so they are skipped when the user has not written one).
    func defines(_ subroutine: VCLSubroutine) -> Bool { program.defines(subroutine) }

    /// `max_restarts` for this request (the request steps count restarts, as Varnish's
    /// `cnt_restart` does, so the program is never asked to).
    var maxRestarts = 4

    func run(_ subroutine: VCLSubroutine) -> VCLAction { program.run(subroutine, context, maxRestarts: .max) }

    /// A connection's address as `client.ip`, `server.ip`, `local.ip` and `remote.ip` give it.
    /// Converted once per connection by the caller (inet_ntop formats with sprintf).
    static func vclAddress(_ address: SocketAddress?) -> VCLIP? {
        guard let address, let ip = address.ipAddress else { return nil }
        return VCLIP(ip, port: address.port ?? 0)
    }

    /// Starts a request: `req.*` from the client's head, the addresses from its connection.
    func begin(_ head: RequestHead, xid: UInt64, session: UInt64 = 0, client: VCLIP?, local: VCLIP?,
               listener: VCLListener = .none) {
        // `obj` and `resp` are filled in whole before any subroutine reads them (setObject,
        // writeDelivery, and vcl_synth's fresh response), so the reset leaves them be.
        program.resetContext(context, objectAndResponse: false)
        if lookupKey != nil { lookupKey = nil }
        context.req.method = head.method
        context.req.url = head.uri
        context.req.proto = head.proto
        context.req.headers = head.headers
        context.req.xidNumber = xid
        context.req.sessionXID = session
        if program.rollsBack { context.keepReceivedRequest() }
        // `now` is left unset: the context reads the clock if VCL asks for it.
        if let client {
            context.clientIP = client
            context.remoteIP = client
        }
        if let local {
            context.serverIP = local
            context.localIP = local
        }
        context.listener = listener
    }

    /// The request as VCL left it (methods, URL and headers may have been changed).
    func effectiveHead(_ original: RequestHead) -> RequestHead {
        var head = original
        head.method = context.req.method
        head.uri = context.req.url
        head.headers = context.req.headers
        return head
    }

    /// The cache key from `vcl_hash`'s `hash_data` calls.
    func cacheKey() -> CacheKey {
        var key = CacheKey()
        for part in context.hashData { key.append(part) }
        return key
    }

    /// `obj.*` for `vcl_hit` and `vcl_deliver`, every field set in place. Its fields are the
    /// stored lines, decoded only if VCL reads them.
    func setObject(_ object: CachedObject, metadata: ObjectMetadata, now: Double) {
        setObject(object, metadata: metadata, lifetime: object.lifetime, now: now, isHit: true)
    }

    /// `setObject` with the object's lifetime already read (reading it takes the object's lock).
    /// (`isHit`: the object was found in the store, so it is not private.)
    private func setObject(
        _ object: CachedObject, metadata: ObjectMetadata, lifetime: ObjectLifetime, now: Double, isHit: Bool
    ) {
        context.obj.status = metadata.status
        context.obj.proto = "HTTP/1.1"
        if program.readsObjectHeaders {
            context.obj.reason = metadata.reason
            context.obj.headers.reset(toStored: metadata.rawHeaderLines)
        }
        context.obj.hits = object.hits.load(ordering: .relaxed)
        context.obj.ttl = lifetime.remainingTTL(at: now)
        context.obj.age = Double(lifetime.age(at: now))
        context.obj.grace = lifetime.grace
        context.obj.keep = lifetime.keep
        // Varnish's obj.uncacheable: the object was fetched uncacheable (a pass, a
        // hit-for-miss or hit-for-pass fetch), which here is a private object not found by lookup.
        context.obj.uncacheable = !isHit && object.isPrivate
        context.obj.canESI = metadata.mayBeESI && object.esiDocument != nil
        if let store {
            // A pass's object is never published: Varnish keeps it in Transient. (A hit's is
            // published: no need to take the object's lock to ask.)
            let area = !isHit && object.isPrivate ? store.transientArea : object.storageAreaIndex
            context.obj.storage = store.storageSymbols[area]
        }
    }

    /// Runs `vcl_deliver` on a stored object's response and writes the head it leaves: the
    /// status line and every field but the framing ones (Content-Length, Transfer-Encoding,
    /// Connection), which the caller writes for the body it sends. VCL sees (and may change)
    /// the fields the server adds (Age, X-Varnish, Via) and the backend's Content-Length, as
    /// in Varnish. Returns what `vcl_deliver` returned; it writes nothing unless that is
    /// `.deliver`.
    @discardableResult
    func writeDelivery(
        _ object: CachedObject, metadata: ObjectMetadata, xid: UInt64, isHit: Bool, now: Double,
        into out: inout ByteBuffer
    ) -> VCLAction {
        let lifetime = object.lifetime
        setObject(object, metadata: metadata, lifetime: lifetime, now: now, isHit: isHit)
        let vcl = context
        let reason = metadata.reason
        vcl.resp.status = metadata.status
        vcl.resp.reason = reason
        vcl.resp.proto = "HTTP/1.1"
        vcl.resp.isStreaming = false
        vcl.resp.headers.reset(toStored: metadata.rawHeaderLines)
        // varnishd keeps the backend's Content-Length with the object, so vcl_deliver reads
        // it; what is sent is decided after (below, and by the caller for the body it sends).
        // (Not when a fetch filter changed the body: gzip and gunzip drop the declared length;
        // varnishd's ESI parse drops the field too.)
        if let length = metadata.declaredLength, !metadata.mayBeESI {
            vcl.resp.headers.add("Content-Length", String(decimal: length))
        }
        vcl.resp.headers.add("Age", String(decimal: lifetime.age(at: now)))
        vcl.resp.headers.add("X-Varnish", isHit ? String(decimal: xid, object.xid) : String(decimal: Int(xid)))
        vcl.resp.headers.add("Via", "1.1 shellac")
        let action = run(.deliver)
        guard action == .deliver else { return action }
        // Stored lines never hold framing fields, so only fields added here or by VCL can. In
        // place: a copy of `resp` would make these removals copy its fields.
        vcl.resp.headers.removeAdded("Content-Length")
        vcl.resp.headers.removeAdded("Transfer-Encoding")
        // `set resp.http.Connection = "close"` closes the connection after the answer (the
        // field itself is written with the framing ones).
        if let connection = vcl.resp.headers["Connection"] { deliverClosesConnection = connection.lowercased().contains("close") }
        vcl.resp.headers.removeAdded("Connection")
        if vcl.resp.status == metadata.status && vcl.resp.reason == reason {
            out.writeBytes(metadata.statusLine)
        } else {
            Self.writeStatusLine(vcl.resp, into: &out)
        }
        Self.writeFields(vcl.resp.headers, into: &out)
        return .deliver
    }

    /// The backend `req.backend_hint` (or `bereq.backend`) names, through any director.
    func backend(named hint: String?, fallback: Backend) -> Backend {
        program.backend(named: hint, context: context, fallback: fallback)
    }

    /// Bans issued by `ban()` (or legacy `purge_url`) in the last subroutine go to the
    /// store's ban list. One that does not parse is a `VCL_Error` record, as in Varnish, and
    /// the request goes on.
    func applyBans(to store: CacheStore) {
        guard !context.bans.isEmpty else { return }
        let now = HTTPDate.currentTime()
        for expression in context.bans {
            do {
                store.ban(try VCLBan(expression), now: now)
            } catch {
                log.vxid = context.req.xidNumber
                log.side = .client
                log.record(.vclError, "ban(): \(error)")
            }
        }
        context.bans = []
    }

    /// Serialises `resp` (status line and every field) for a delivery VCL changed. Stored
    /// lines VCL left alone are copied out as they are.
    static func serialize(_ response: VCLResponse, into out: inout ByteBuffer) {
        writeStatusLine(response, into: &out)
        writeFields(response.headers, into: &out)
    }

    private static func writeStatusLine(_ response: VCLResponse, into out: inout ByteBuffer) {
        // A status above 999 is VCL's own (synth(1333, ...)): it is sent modulo 1000, as Varnish does.
        let status = response.status >= 1000 ? response.status % 1000 : response.status
        out.writeStaticString("HTTP/1.1 ")
        out.writeDecimal(status)
        out.writeStaticString(" ")
        out.writeString(response.reason.isEmpty ? HTTPReason.phrase(status) : response.reason)
        out.writeStaticString("\r\n")
    }

    /// Every field in one write: one capacity check, then straight copies.
    private static func writeFields(_ headers: HeaderList, into out: inout ByteBuffer) {
        let count = headers.serializedCount
        guard count > 0 else { return }
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
            guard let base = target.baseAddress, target.count >= count else { return 0 }
            return headers.write(to: base)
        }
    }
}

extension VCLSession: VCLPurger {
    func purgeLookedUpObject(soft: Bool, ttl: Double, grace: Double, keep: Double) -> Int {
        guard let store, let lookupKey else { return 0 }
        if soft { return store.softPurge(key: lookupKey, now: HTTPDate.currentTime(), ttl: ttl, grace: grace, keep: keep) }
        return store.purge(key: lookupKey)
    }

    func purge(surrogateKeys keys: [String], soft: Bool) -> Int {
        store?.purge(surrogateKeys: keys, soft: soft, now: HTTPDate.currentTime()) ?? 0
    }
}

extension VCLSession: VCLStorageGauges {
    func space(ofStore name: String) -> (used: Int64, free: Int64)? {
        store?.space(ofArea: name).map { (used: Int64($0.used), free: Int64($0.free)) }
    }
}

extension VCLSession: VCLRequestBodyStore {
    func cacheRequestBody(limit: Int64, storage: String?) -> Bool {
        guard let length = requestBodyLength else { return true }  // no body: nothing to keep
        guard keptBody == nil else { return true }
        guard Int64(length) <= limit else {
            context.logLines.append("Request body too big to cache")
            return false
        }
        // Charged as an object of its own, as Varnish keeps it (its record included).
        let bytes = length + CachedObject.recordBytes
        guard let store, let area = store.reserve(bytes, inArea: storage?.replacingOccurrences(of: "storage.", with: "")) else {
            return store == nil
        }
        keptBody = (bytes, area)
        return true
    }
}

extension VCLSession: VCLFieldRules {
    func acceptsGzip(_ headers: HeaderList) -> Bool { AcceptEncoding.normalized(headers) != nil }
}
