/// What the cache says about a request's key (Varnish's `HSH_Lookup` outcomes).
public enum LookupResult: Sendable {
    /// A fresh object: deliver it.
    case hit(CachedObject)
    /// A stale object inside its grace: deliver it; `refresh`, when set, is the busy object the
    /// caller must fetch in the background (nil when a refresh is already running).
    case graced(CachedObject, refresh: CachedObject?)
    /// Another client is fetching this object: read it as it streams in.
    case busy(CachedObject)
    /// Nothing usable: fetch into `busy`. When `hitForMiss` is set, the key is marked
    /// hit-for-miss: `busy` is private (nobody waits on it) and becomes visible only if its
    /// response turns out cacheable after all. `stale` is an expired object of the same
    /// variant still kept (`beresp.keep`), for a conditional fetch.
    case miss(busy: CachedObject, hitForMiss: Bool, stale: CachedObject?)
    /// The key is marked hit-for-pass: pass this request (no busy object was made).
    case hitForPass
}
