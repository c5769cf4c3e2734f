/// The client request as VCL sees it (`req.*`).
public struct VCLClientRequest: Sendable {
    public var method = "GET"
    public var url = "/"
    public var proto = "HTTP/1.1"
    public var headers = HeaderList()
    /// The client's request an ESI include belongs to (`req_top.*`); nil for that request itself.
    public var top: VCLTopRequest?
    /// `req.backend_hint`: a backend or director name; nil for none.
    public var backendHint: String?
    public var restarts = 0
    /// `req.ttl` / `req.grace`: upper bounds on what a hit may use; nil when unset.
    public var ttl: Double?
    public var grace: Double?
    public var hashAlwaysMiss = false
    public var hashIgnoreBusy = false
    /// `req.is_hitmiss` / `req.is_hitpass`: the lookup found a hit-for-miss or hit-for-pass mark.
    public var isHitMiss = false
    public var isHitPass = false
    /// `req.hash_ignore_vary`: a lookup takes the first variant, whatever Vary says.
    public var hashIgnoreVary = false
    /// `req.storage`: the store a request body would be cached in (one memory store here).
    public var storage: String?
    public var esi = true
    public var esiLevel = 0
    /// `std.late_100_continue(true)`: a `100 Continue` goes out when the body is first
    /// read, not at the end of `vcl_recv`.
    public var late100Continue = false
    /// The transaction id; `req.xid` is its decimal text, made only when VCL reads it.
    public var xidNumber: UInt64 = 0
    public var xid: String { String(xidNumber) }
    /// The session's transaction id (`sess.xid`), from `Begin sess`.
    public var sessionXID: UInt64 = 0

    public init() {}
}

/// The backend request (`bereq.*`).
public struct VCLBackendRequest: Sendable {
    public var method = "GET"
    public var url = "/"
    public var proto = "HTTP/1.1"
    public var headers = HeaderList()
    public var backend: String?
    public var retries = 0
    public var uncacheable = false
    public var xid = "0"
    public var connectTimeout: Double?
    public var firstByteTimeout: Double?
    public var betweenBytesTimeout: Double?
    /// `bereq.is_bgfetch`: the fetch refreshes a graced object its client already has.
    public var isBackgroundFetch = false
    /// `bereq.is_hitmiss` / `bereq.is_hitpass`: the client's lookup found a hit-for-miss
    /// (or hit-for-pass) marker.
    public var isHitMiss = false
    public var isHitPass = false
    /// `unset bereq.body`: the client's body is not sent.
    public var bodyUnset = false

    public init() {}
}

/// The backend response (`beresp.*`), before it is stored.
public struct VCLBackendResponse: Sendable {
    public var status = 200
    public var reason = "OK"
    public var proto = "HTTP/1.1"
    public var headers = HeaderList()
    public var ttl: Double = 120
    public var grace: Double = 10
    public var keep: Double = 0
    public var age: Double = 0
    public var uncacheable = false
    public var doGzip = false
    public var doGunzip = false
    public var doESI = false
    public var doStream = true
    public var was304 = false
    /// `beresp.storage`: the store the object goes to (accepted; Shellac has one memory store).
    public var storage: String?
    /// The name of the backend that answered.
    public var backendName = ""
    /// Its address, when it is declared by number (`beresp.backend.ip`, VCL 4.0).
    public var backendIP: VCLIP?
    /// Set by `return (pass(DURATION))` (and legacy `return (pass)` in vcl_fetch): the object
    /// is a hit-for-pass marker rather than a hit-for-miss one.
    public var hitForPass = false
    /// `set beresp.filters = ...` (nil: the default list, see `VCLFilters.swift`).
    public var explicitFilters: String?

    public init() {}
}

/// The cached object on a hit or at deliver (`obj.*`); read-only in VCL.
public struct VCLObject: Sendable {
    public var status = 200
    public var reason = "OK"
    public var proto = "HTTP/1.1"
    public var headers = HeaderList()
    public var hits = 0
    public var ttl: Double = 0
    public var age: Double = 0
    public var grace: Double = 0
    public var keep: Double = 0
    public var uncacheable = false
    /// The object's body was read as ESI (`obj.can_esi`).
    public var canESI = false
    /// `obj.storage`: the store it is kept in.
    public var storage = "storage.s0"

    public init() {}
}

/// The response to the client (`resp.*`).
public struct VCLResponse: Sendable {
    public var status = 200
    public var reason = "OK"
    public var proto = "HTTP/1.1"
    public var headers = HeaderList()
    public var isStreaming = false
    /// The delivery filters that apply (set by the server before `vcl_deliver`; `resp.do_esi`
    /// turns ESI off), and a list VCL set (`resp.filters`).
    public var doESI = false
    public var gunzipFilter = false
    public var rangeFilter = false
    public var explicitFilters: String?

    public init() {}
}

/// `req_top.*`: the client's request at the top of an ESI tree, as its includes see it.
/// (A class: a request holds it, and it holds a request. Immutable, shared by the includes.)
public final class VCLTopRequest: Sendable {
    /// Its method, URL, protocol and fields.
    public let request: VCLClientRequest
    /// When it began (`req_top.time`).
    public let time: Double

    public init(request: VCLClientRequest, time: Double) {
        self.request = request
        self.time = time
    }
}

/// The parts `std.rollback()` restores, which client and backend requests share.
protocol VCLRequestParts {
    var method: String { get set }
    var url: String { get set }
    var proto: String { get set }
    var headers: HeaderList { get set }
}

extension VCLClientRequest: VCLRequestParts {}
extension VCLBackendRequest: VCLRequestParts {}
