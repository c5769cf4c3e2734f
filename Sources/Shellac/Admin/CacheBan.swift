import ShellacCache
import Synchronization
import VCL

/// Applies a ban (`ban req.url ~ ^/a`) to the store at once: every complete object it
/// matches is removed. Varnish keeps a ban list tested lazily at lookup; here the admin `ban`
/// is tested against each stored object immediately, so `req.*` fields are read back from
/// the object's cache key (URL and Host under the default hash).
enum CacheBan {
    /// Removes the objects `ban` matches; returns how many.
    @discardableResult
    static func apply(_ ban: VCLBan, to store: CacheStore, now: Double = HTTPDate.currentTime()) -> Int {
        store.removeAll { object in
            guard !object.isMarker else { return false }
            return ban.matches(object: vclObject(object, now: now), request: request(from: object.key))
        }
    }

    /// The `req.*` a stored object was requested with, as far as its key tells.
    static func request(from key: CacheKey) -> VCLClientRequest {
        let parts = CacheKeyParts(key)
        var request = VCLClientRequest()
        request.url = parts.url ?? ""
        if let host = parts.host { request.headers.add("Host", host) }
        return request
    }

    /// The `obj.*` view of a stored object.
    static func vclObject(_ object: CachedObject, now: Double) -> VCLObject {
        var view = VCLObject()
        if let metadata = object.metadata {
            view.status = metadata.status
            view.reason = metadata.reason
            view.headers = metadata.headers
        }
        let lifetime = object.lifetime
        view.hits = object.hits.load(ordering: .relaxed)
        view.ttl = lifetime.remainingTTL(at: now)
        view.age = lifetime.originAge + max(0, now - lifetime.entered)
        view.grace = lifetime.grace
        view.keep = lifetime.keep
        return view
    }
}
