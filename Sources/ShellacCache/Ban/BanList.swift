import VCL

/// The bans not yet tested against every object older than them (Varnish's ban list,
/// `cache_ban.c`). A ban is tested lazily: at lookup, against an object found for a request,
/// and only against the bans issued since the object was stored or last tested. Kept under
/// `CacheStore`'s lock.
///
/// `req.*` in a ban is read back from the object's cache key (URL and Host under the default
/// hash), so a ban means the same at lookup as in a sweep of the store.
public struct BanList: Sendable {
    public struct Entry: Sendable {
        let id: Int
        public let ban: VCLBan
        /// When the ban was issued (seconds since the epoch).
        public let created: Double
    }

    /// Oldest first.
    private(set) var entries: [Entry] = []
    /// The id of the newest ban ever issued (0: none). An object stored now is newer than it.
    private(set) var newestID = 0

    /// Past this many bans, the store tests them all against every object at once and
    /// empties the list, so the list stays bounded without a background lurker.
    static let sweepThreshold = 32

    var count: Int { entries.count }

    mutating func add(_ ban: VCLBan, now: Double) {
        newestID += 1
        entries.append(Entry(id: newestID, ban: ban, created: now))
    }

    /// Every object has been tested against every ban.
    mutating func removeAll() {
        entries.removeAll()
    }

    /// Whether a ban issued after ban `checked` matches `object`.
    func matches(_ object: CachedObject, after checked: Int, now: Double) -> Bool {
        var view: (object: VCLObject, request: VCLClientRequest)?
        for entry in entries where entry.id > checked {
            let target = view ?? (BanTarget.object(object, now: now), BanTarget.request(from: object.key))
            view = target
            if entry.ban.matches(object: target.object, request: target.request) { return true }
        }
        return false
    }
}

/// What a ban expression reads of a stored object.
enum BanTarget {
    /// The `req.*` a stored object was requested with, as far as its key tells.
    static func request(from key: CacheKey) -> VCLClientRequest {
        let parts = CacheKeyParts(key)
        var request = VCLClientRequest()
        request.url = parts.url ?? ""
        if let host = parts.host { request.headers.add("Host", host) }
        return request
    }

    /// The `obj.*` view of a stored object.
    static func object(_ object: CachedObject, now: Double) -> VCLObject {
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
