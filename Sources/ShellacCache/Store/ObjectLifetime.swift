/// When an object was stored and how long it may be used: fresh for `ttl`, then served stale
/// for `grace` while a refetch runs, then kept for `keep` (for conditional refetches).
/// Times are seconds since the epoch as `Double`, like Varnish's `vtim_real`.
public struct ObjectLifetime: Sendable, Equatable {
    public var entered: Double
    public var ttl: Double
    public var grace: Double
    public var keep: Double
    /// The `Age` the response already had when it arrived from the backend.
    public var originAge: Double

    public init(entered: Double, ttl: Double, grace: Double, keep: Double, originAge: Double = 0) {
        self.entered = entered
        self.ttl = ttl
        self.grace = grace
        self.keep = keep
        self.originAge = originAge
    }

    public func isFresh(at now: Double) -> Bool { now < entered + ttl }
    public func isWithinGrace(at now: Double) -> Bool { now < entered + ttl + grace }
    public func isExpired(at now: Double) -> Bool { now >= entered + ttl + grace + keep }

    /// Remaining time to live, as VCL's `obj.ttl` shows it.
    public func remainingTTL(at now: Double) -> Double { entered + ttl - now }

    /// The `Age` header value to send at `now`, in whole seconds.
    public func age(at now: Double) -> Int {
        let age = originAge + max(0, now - entered)
        return age >= Double(Int32.max) ? Int(Int32.max) : Int(age)
    }
}
