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

/// How the server reads request fields where VCL asks (`req.can_gzip`).
public protocol VCLFieldRules: AnyObject {
    func acceptsGzip(_ headers: HeaderList) -> Bool
}
