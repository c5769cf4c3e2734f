/// What VCL's purge functions reach (vmod purge's `hard()` and `soft()`, vmod xkey's
/// `purge()` and `softpurge()`): the server's store, which the VCL target knows nothing of.
/// Each returns how many objects it purged.
public protocol VCLPurger: AnyObject {
    /// Every variant of the object the request looked up (in `vcl_hit` and `vcl_miss`).
    func purgeLookedUpObject(soft: Bool, ttl: Double, grace: Double, keep: Double) -> Int
    /// Every object tagged with one of `keys`.
    func purge(surrogateKeys keys: [String], soft: Bool) -> Int
}

/// The stores' gauges VCL reads (`storage.NAME.used_space`, `storage.NAME.free_space`).
public protocol VCLStorageGauges: AnyObject {
    /// Bytes held and bytes left in the store called `name` (`s0`, `Transient`); nil for none.
    func space(ofStore name: String) -> (used: Int64, free: Int64)?
}

/// Where `std.cache_req_body()` keeps the request body: the server's stores.
public protocol VCLRequestBodyStore: AnyObject {
    /// Keeps the request's body (at most `limit` bytes) in the store `storage` names (nil:
    /// Transient); false when it is larger, or does not fit.
    func cacheRequestBody(limit: Int64, storage: String?) -> Bool
}

/// How the server reads request fields where VCL asks (`req.can_gzip`).
public protocol VCLFieldRules: AnyObject {
    func acceptsGzip(_ headers: HeaderList) -> Bool
}
