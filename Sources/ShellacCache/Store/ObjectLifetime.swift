/// When an object was stored and how long it may be used: fresh for `ttl`, then served stale
/// for `grace` while a refetch runs, then kept for `keep` (for conditional refetches).
/// Times are seconds since the epoch as `Double`, like Varnish's `vtim_real`.
public struct ObjectLifetime: Sendable, Equatable {
    // Stored as Float except `entered` (a million objects: 16 bytes each saved). Float keeps
    // durations exact to a few milliseconds up to a day, to seconds up to a year.
    public var entered: Double
    public var ttl: Double {
        get { Double(storedTTL) }
        set { storedTTL = Float(newValue) }
    }
    public var grace: Double {
        get { Double(storedGrace) }
        set { storedGrace = Float(newValue) }
    }
    public var keep: Double {
        get { Double(storedKeep) }
        set { storedKeep = Float(newValue) }
    }
    private var storedTTL: Float
    private var storedGrace: Float
    private var storedKeep: Float
    private var storedOriginAge: Float
    /// The `Age` the response already had when it arrived from the backend.
    public var originAge: Double {
        get { Double(storedOriginAge) }
        set { storedOriginAge = Float(newValue) }
    }

    public init(entered: Double, ttl: Double, grace: Double, keep: Double, originAge: Double = 0) {
        self.entered = entered
        self.storedTTL = Float(ttl)
        self.storedGrace = Float(grace)
        self.storedKeep = Float(keep)
        self.storedOriginAge = Float(originAge)
    }

    public func isFresh(at now: Double) -> Bool { now < entered + ttl }
    public func isWithinGrace(at now: Double) -> Bool { now < entered + ttl + grace }
    public func isExpired(at now: Double) -> Bool { now >= entered + ttl + grace + keep }

    /// Stored with no time to live counted from the response's origin (its `Age` included):
    /// Varnish's `oc->ttl <= 0`, an object no lookup finds. A response 12 s old with
    /// max-age=10 does have one (it is found, and may be served in grace).
    public var hasNoTTL: Bool { ttl + originAge <= 0 }

    /// Remaining time to live, as VCL's `obj.ttl` shows it.
    public func remainingTTL(at now: Double) -> Double { entered + ttl - now }

    /// The `Age` header value to send at `now`, in whole seconds.
    public func age(at now: Double) -> Int {
        let origin = originAge.isFinite ? Int(min(max(originAge, 0), Double(DeltaSeconds.maximum))) : 0
        return AgeHeader.value(originAge: origin, storedAt: entered, now: now)
    }
}
