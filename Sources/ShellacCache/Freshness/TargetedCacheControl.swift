import VCL

/// Targeted cache control (RFC 9213): fields such as `CDN-Cache-Control` that speak to a
/// class of caches. A cache with a list of target fields uses the first one the response
/// carries with a usable value, in place of `Cache-Control` and `Expires` (§2.1), for its own
/// freshness and storage; clients downstream still see `Cache-Control` as it was. Varnish
/// has no such fields; Shellac's list is the `targeted_cache_control` parameter.
public enum TargetedCacheControl {
    /// The directives of the first field of `targets` (in order) that `headers` carries with
    /// at least one directive this cache knows; nil when none does (then `Cache-Control` rules).
    public static func select(_ headers: HeaderList, targets: [String]) -> CacheControl? {
        for target in targets {
            let directives = CacheControl(headers, fieldName: target)
            if !directives.isEmpty { return directives }
        }
        return nil
    }

    /// `headers` as the freshness computation should read them once `select` chose a target:
    /// without `Expires`, which the target replaces along with `Cache-Control`.
    public static func withoutExpires(_ headers: HeaderList) -> HeaderList {
        guard headers.contains("Expires") else { return headers }
        var copy = headers
        copy.remove("Expires")
        return copy
    }
}
