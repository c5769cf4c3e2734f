/// What VCL's purge functions reach (vmod purge's `hard()` and `soft()`, vmod xkey's
/// `purge()` and `softpurge()`): the server's store, which the VCL target knows nothing of.
/// Each returns how many objects it purged.
public protocol VCLPurger: AnyObject {
    /// Every variant of the object the request looked up (in `vcl_hit` and `vcl_miss`).
    func purgeLookedUpObject(soft: Bool, ttl: Double, grace: Double, keep: Double) -> Int
    /// Every object tagged with one of `keys`.
    func purge(surrogateKeys keys: [String], soft: Bool) -> Int
}

/// How the server reads request fields where VCL asks (`req.can_gzip`).
public protocol VCLFieldRules: AnyObject {
    func acceptsGzip(_ headers: HeaderList) -> Bool
}
