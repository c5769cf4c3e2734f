import NIOCore
import ShellacCache
import VCL

/// One client connection's VCL state: the program a request started with and the reusable
/// context it runs in. Maps between the server's request, object and response values and
/// VCL's `req`, `obj` and `resp`.
///
/// Only used when the active VCL has user code: a program made of the built-in VCL alone is
/// what the Swift fast path already does.
final class VCLSession {
    let loaded: VCLRegistry.Loaded
    let program: VCLProgram
    let context: VCLContext

    init(loaded: VCLRegistry.Loaded) {
        self.loaded = loaded
        self.program = loaded.program
        self.context = loaded.program.makeContext()
    }

    /// Whether the user's VCL defines `subroutine` (the built-in ones of hit, miss, pass and
    /// deliver only say "go on", so they are skipped when the user has not written one).
    func defines(_ subroutine: VCLSubroutine) -> Bool { program.defines(subroutine) }

    func run(_ subroutine: VCLSubroutine) -> VCLAction { program.run(subroutine, context) }

    /// Starts a request: `req.*` from the client's head.
    func begin(_ head: RequestHead, xid: UInt64, client: SocketAddress?, local: SocketAddress?) {
        program.resetContext(context)
        context.req.method = head.method
        context.req.url = head.uri
        context.req.proto = head.proto
        context.req.headers = head.headers
        context.req.xidNumber = xid
        context.now = HTTPDate.currentTime()
        // The addresses are the connection's: converted once (inet_ntop formats with sprintf).
        if clientIP == nil, let ip = client?.ipAddress { clientIP = VCLIP(ip, port: client?.port ?? 0) }
        if localIP == nil, let ip = local?.ipAddress { localIP = VCLIP(ip, port: local?.port ?? 0) }
        if let clientIP {
            context.clientIP = clientIP
            context.remoteIP = clientIP
        }
        if let localIP {
            context.serverIP = localIP
            context.localIP = localIP
        }
    }

    private var clientIP: VCLIP?
    private var localIP: VCLIP?

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

    /// `obj.*` for `vcl_hit` and `vcl_deliver`. Its fields are the stored lines, decoded only
    /// if VCL reads them.
    func setObject(_ object: CachedObject, metadata: ObjectMetadata, now: Double) {
        let lifetime = object.lifetime
        var view = VCLObject()
        view.status = metadata.status
        view.reason = metadata.reason
        view.headers = HeaderList(raw: metadata.rawHeaderLines)
        view.hits = object.hits.load(ordering: .relaxed)
        view.ttl = lifetime.remainingTTL(at: now)
        view.age = Double(lifetime.age(at: now))
        view.grace = lifetime.grace
        view.keep = lifetime.keep
        context.obj = view
    }

    /// The backend `req.backend_hint` (or `bereq.backend`) names, through any director.
    func backend(named hint: String?, fallback: Backend) -> Backend {
        program.backend(named: hint, context: context, fallback: fallback)
    }

    /// Bans issued by `ban()` (or legacy `purge_url`) in the last subroutine, applied at once.
    func applyBans(to store: CacheStore) {
        guard !context.bans.isEmpty else { return }
        for expression in context.bans {
            if let ban = try? VCLBan(expression) { CacheBan.apply(ban, to: store) }
        }
        context.bans = []
    }

    /// Serialises `resp` (status line and every field) for a delivery VCL changed. Stored
    /// lines VCL left alone are copied out as they are.
    static func serialize(_ response: VCLResponse, into out: inout ByteBuffer) {
        out.writeStaticString("HTTP/1.1 ")
        out.writeDecimal(response.status)
        out.writeStaticString(" ")
        out.writeString(response.reason.isEmpty ? HTTPReason.phrase(response.status) : response.reason)
        out.writeStaticString("\r\n")
        response.headers.serialize(
            rawRun: { out.writeBytes(UnsafeRawBufferPointer($0)) },
            field: { field in writeField(field.name, field.value, into: &out) })
    }

    /// `name: value\r\n` in one write (one capacity check instead of four).
    private static func writeField(_ name: String, _ value: String, into out: inout ByteBuffer) {
        var name = name, value = value
        let size = name.utf8.count + value.utf8.count + 4
        name.withUTF8 { nameBytes in
            value.withUTF8 { valueBytes in
                out.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { target in
                    guard let base = target.baseAddress, target.count >= size else { return 0 }
                    if let source = nameBytes.baseAddress { base.copyMemory(from: source, byteCount: nameBytes.count) }
                    var offset = nameBytes.count
                    base.storeBytes(of: UInt8(ascii: ":"), toByteOffset: offset, as: UInt8.self)
                    base.storeBytes(of: UInt8(ascii: " "), toByteOffset: offset + 1, as: UInt8.self)
                    offset += 2
                    if let source = valueBytes.baseAddress {
                        (base + offset).copyMemory(from: source, byteCount: valueBytes.count)
                    }
                    offset += valueBytes.count
                    base.storeBytes(of: UInt8(ascii: "\r"), toByteOffset: offset, as: UInt8.self)
                    base.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: offset + 1, as: UInt8.self)
                    return offset + 2
                }
            }
        }
    }
}
