import VCL

/// Why builtin VCL's `vcl_backend_response` makes a response uncacheable (hit-for-miss).
public enum UncacheableReason: String, Sendable, CustomStringConvertible {
    /// `beresp.ttl <= 0s` (stale on arrival, or a status that is never cached).
    case notFresh = "ttl <= 0"
    /// A `Set-Cookie` field is present.
    case setCookie = "Set-Cookie"
    /// `Surrogate-Control: no-store` (then `Cache-Control` is not consulted).
    case surrogateControlNoStore = "Surrogate-Control: no-store"
    /// `Cache-Control: no-store`.
    case cacheControlNoStore = "Cache-Control: no-store"
    /// `Cache-Control: no-cache`, with or without a field list.
    case cacheControlNoCache = "Cache-Control: no-cache"
    /// `Cache-Control: private`, with or without a field list.
    case cacheControlPrivate = "Cache-Control: private"
    /// `Vary: *` (or a Vary that cannot be parsed).
    case varyAny = "Vary: *"

    public var description: String { rawValue }
}

/// Varnish's cacheability rules.
public enum Cacheability {
    /// How long a hit-for-miss marker lives (builtin VCL sets `beresp.ttl = 120s`).
    public static let hitForMissTTL: Double = 120

    /// The statuses Varnish caches by default (RFC 9110 §15.1 "heuristically cacheable"
    /// plus 302, 307 and 414): 200, 203, 204, 300, 301, 302, 304, 307, 404, 410, 414.
    public static func isCacheableStatus(_ status: Int) -> Bool {
        switch status {
        case 200, 203, 204, 300, 301, 302, 304, 307, 404, 410, 414: return true
        default: return false
        }
    }

    /// The rule of builtin VCL's `vcl_backend_response`, in its order: ttl <= 0, then
    /// `Set-Cookie`, then `Surrogate-Control: no-store` (or, only when there is no
    /// `Surrogate-Control`, `Cache-Control` `no-cache` / `no-store` / `private`), then
    /// `Vary: *`. Nil when the response may be cached.
    ///
    /// Directives are parsed rather than regex-matched, so `max-age=60, x="private"` is
    /// cacheable here (Varnish's `~ "private"` would not cache it).
    ///
    /// - Parameters:
    ///   - ttl: `beresp.ttl` after VCL ran (see `FreshnessLifetime.ttl`).
    ///   - cacheControl: the parsed `Cache-Control` of `headers`, if already at hand.
    public static func uncacheableReason(
        headers: HeaderList,
        ttl: Double,
        cacheControl: CacheControl? = nil
    ) -> UncacheableReason? {
        if !(ttl > 0) { return .notFresh }
        if headers.firstValue("set-cookie") != nil { return .setCookie }
        if headers.firstValue("surrogate-control") != nil {
            if surrogateControlForbidsStore(headers) { return .surrogateControlNoStore }
        } else {
            let cc = cacheControl ?? CacheControl(headers)
            if cc.noStore { return .cacheControlNoStore }
            if cc.noCache { return .cacheControlNoCache }
            if cc.isPrivate { return .cacheControlPrivate }
        }
        if case .any = VaryFields(headers) { return .varyAny }
        return nil
    }

    /// `Surrogate-Control` (W3C Edge Architecture) has a `no-store` or `no-store-remote`
    /// directive, targeted (`no-store;edge1`) or not.
    static func surrogateControlForbidsStore(_ headers: HeaderList) -> Bool {
        var found = false
        for field in headers where field.name.isFieldName("surrogate-control") {
            withBytes(field.value) { bytes in
                HTTPList.forEachElement(bytes) { element in
                    let name = DirectiveElement(element).name
                    if name.equalsLowercased("no-store") || name.equalsLowercased("no-store-remote") {
                        found = true
                        return false
                    }
                    return true
                }
            }
            if found { return true }
        }
        return false
    }
}
