import VCL

/// The `default_ttl`, `default_grace` and `default_keep` parameters.
public struct FreshnessDefaults: Sendable, Equatable {
    /// Used when the response says nothing about its freshness (`default_ttl`, 120 s).
    public var ttl: Double
    /// How long a stale object may still be served while it is refetched (`default_grace`, 10 s).
    public var grace: Double
    /// How long an object is kept after ttl + grace for conditional refetches (`default_keep`, 0 s).
    public var keep: Double

    public init(ttl: Double = 120, grace: Double = 10, keep: Double = 0) {
        self.ttl = ttl
        self.grace = grace
        self.keep = keep
    }

    public static let varnish = FreshnessDefaults()
}

/// How long a backend response stays fresh, computed as Varnish does (RFC 9111 §4.2.1).
public struct FreshnessLifetime: Sendable, Equatable {
    /// Where the ttl came from, for logs.
    public enum Source: String, Sendable {
        case sMaxAge = "s-maxage"
        case maxAge = "max-age"
        case expires = "Expires"
        /// `Expires` was present but not a valid date, or not after `Date`: already expired (§5.3).
        case invalidExpires = "invalid Expires"
        case defaultTTL = "default_ttl"
        /// A status Varnish never caches, or a 302/307 without explicit freshness: ttl -1.
        case uncacheableStatus = "status"
    }

    /// Seconds the response stays fresh from now: the freshness lifetime minus the age the
    /// response already had at the backend. Zero or negative means stale (builtin VCL
    /// then makes it hit-for-miss); -1 for statuses that are never cached.
    public var ttl: Double
    /// Seconds past `ttl` a stale copy may be delivered while it is refetched.
    public var grace: Double
    /// Seconds past `ttl + grace` the object is kept for conditional refetches.
    public var keep: Double
    /// The backend's own `Age` (0 when absent or invalid): the age the response had
    /// when stored. Delivery sends `AgeHeader.value(originAge:storedAt:now:)`.
    public var originAge: Int
    public var source: Source

    public init(ttl: Double, grace: Double, keep: Double, originAge: Int, source: Source) {
        self.ttl = ttl
        self.grace = grace
        self.keep = keep
        self.originAge = originAge
        self.source = source
    }

    /// Computes the lifetime of a backend response received at `now` (seconds since the
    /// epoch), in the order of RFC 9111 §4.2.1 for a shared cache:
    /// 1. `s-maxage`, else `max-age` (an invalid value counts as 0; `Expires` is then ignored);
    /// 2. else `Expires - Date` (`now` when `Date` is missing or invalid; an invalid
    ///    `Expires` such as `0`, or one before `Date`, gives 0, §5.3);
    /// 3. else `defaults.ttl` — except for 302 and 307, which Varnish caches only with
    ///    explicit freshness (ttl -1 otherwise).
    /// Statuses other than 200, 203, 204, 300, 301, 302, 304, 307, 404, 410 and 414 get -1.
    /// When that lifetime is >= 0, `stale-while-revalidate` (RFC 5861) replaces the default
    /// grace. Finally the backend's `Age` (§5.1) is subtracted (so the ttl may be negative).
    public static func compute(
        status: Int,
        headers: HeaderList,
        now: Double,
        defaults: FreshnessDefaults = .varnish
    ) -> FreshnessLifetime {
        compute(status: status, headers: headers, cacheControl: CacheControl(headers), now: now, defaults: defaults)
    }

    /// As `compute(status:headers:now:defaults:)`, with the `Cache-Control` already parsed.
    public static func compute(
        status: Int,
        headers: HeaderList,
        cacheControl: CacheControl,
        now: Double,
        defaults: FreshnessDefaults = .varnish
    ) -> FreshnessLifetime {
        let age = AgeHeader.parse(headers) ?? 0
        var result = FreshnessLifetime(
            ttl: defaults.ttl, grace: defaults.grace, keep: defaults.keep, originAge: age, source: .defaultTTL)

        guard Cacheability.isCacheableStatus(status) else {
            result.ttl = -1
            result.source = .uncacheableStatus
            return result
        }

        if let sMaxAge = cacheControl.sMaxAge {
            result.ttl = Double(sMaxAge)
            result.source = .sMaxAge
        } else if let maxAge = cacheControl.maxAge {
            result.ttl = Double(maxAge)
            result.source = .maxAge
        } else if let expiresValue = headers.firstValue("expires") {
            if let expires = HTTPDate.parse(expiresValue, now: now) {
                let date = headers.firstValue("date").flatMap { HTTPDate.parse($0, now: now) }.map(Double.init) ?? now
                let lifetime = Double(expires) - date
                if lifetime > 0 {
                    result.ttl = min(lifetime, Double(DeltaSeconds.maximum))
                    result.source = .expires
                } else {
                    result.ttl = 0
                    result.source = .invalidExpires
                }
            } else {
                result.ttl = 0
                result.source = .invalidExpires
            }
        } else if status == 302 || status == 307 {
            // RFC 9110 §15.4.3/§15.4.8: not heuristically cacheable; Varnish agrees.
            result.ttl = -1
            result.source = .uncacheableStatus
            return result
        }

        if result.ttl >= 0, let swr = cacheControl.staleWhileRevalidate {
            result.grace = Double(swr)
        }
        result.ttl -= Double(age)
        return result
    }
}
