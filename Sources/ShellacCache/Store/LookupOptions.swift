/// What a request's VCL asks of its lookup (Varnish's `req.ttl`, `req.grace`,
/// `req.hash_always_miss`, `req.hash_ignore_busy`). The default asks nothing special.
public struct LookupOptions: Sendable, Equatable {
    /// Upper bounds on the object's TTL and grace for this request; nil when unset.
    public var ttl: Double?
    public var grace: Double?
    /// Find nothing: fetch anew, and the new object replaces what is stored.
    public var alwaysMiss = false
    /// Do not wait on another request's fetch of the key.
    public var ignoreBusy = false
    /// Take any variant, whatever Vary says (`req.hash_ignore_vary`).
    public var ignoreVary = false

    public init(
        ttl: Double? = nil, grace: Double? = nil, alwaysMiss: Bool = false, ignoreBusy: Bool = false,
        ignoreVary: Bool = false
    ) {
        self.ignoreVary = ignoreVary
        self.ttl = ttl
        self.grace = grace
        self.alwaysMiss = alwaysMiss
        self.ignoreBusy = ignoreBusy
    }

    public static let standard = LookupOptions()

    /// Whether `lifetime` is fresh for this request at `now`.
    @inline(__always)
    func isFresh(_ lifetime: ObjectLifetime, at now: Double) -> Bool {
        guard let ttl else { return lifetime.isFresh(at: now) }
        return now < lifetime.entered + min(lifetime.ttl, ttl)
    }

    /// Whether `lifetime` may be served stale for this request at `now`.
    func isWithinGrace(_ lifetime: ObjectLifetime, at now: Double) -> Bool {
        let grace = self.grace.map { min($0, lifetime.grace) } ?? lifetime.grace
        return now < lifetime.entered + min(lifetime.ttl, ttl ?? lifetime.ttl) + grace
    }
}
