import VCL

/// The bans some stored object is still older than (Varnish's ban list, `cache_ban.c`). A ban
/// is tested at lookup, against an object found for a request, and only against the bans
/// issued since the object was stored or last tested; the lurker tests the obj-only bans
/// against every object in the background (`CacheStore+BanLurker`). Kept under `CacheStore`'s
/// lock.
public struct BanList: Sendable {
    public struct Entry: Sendable {
        let id: Int
        public let ban: VCLBan
        /// When the ban was issued (seconds since the epoch).
        public let created: Double
        /// Reads a `req.*` field the object's key does not hold: only a lookup, with its
        /// request, can test it (the lurker skips it). `req.url` and `req.http.host` are read
        /// back from the key (under the default hash), so the lurker tests those bans too.
        let usesRequest: Bool
        /// The ban as `ban.list` prints it (equal bans print alike).
        public let spec: String
        /// Tested against every object older than it (by the lurker), or made redundant by an
        /// identical newer ban: no object needs testing against it any more (`C` in ban.list).
        public internal(set) var completed = false
    }

    /// Oldest first.
    private(set) var entries: [Entry] = []
    /// The id of the newest ban ever issued (0: none). An object stored now is newer than it.
    private(set) var newestID = 0

    /// Past this many bans, the store has the lurker's pass run at once, so the list stays
    /// bounded without a background lurker.
    static let sweepThreshold = 32

    /// varnishstat's ban counters.
    var deleted = 0
    var duplicates = 0
    var killedAtLookup = 0
    var killedByLurker = 0
    var testedAtLookup = 0
    var testsAtLookup = 0
    var testedByLurker = 0
    var testsByLurker = 0

    var count: Int { entries.count }
    var completedCount: Int { entries.reduce(0) { $0 + ($1.completed ? 1 : 0) } }
    var requestBans: Int { entries.reduce(0) { $0 + ($1.usesRequest && !$1.completed ? 1 : 0) } }
    var objectBans: Int { entries.reduce(0) { $0 + (!$1.usesRequest && !$1.completed ? 1 : 0) } }

    /// Adds `ban`; an older ban with the same text is completed (Varnish's dedup).
    mutating func add(_ ban: VCLBan, now: Double) {
        newestID += 1
        let spec = ban.rendered
        for index in entries.indices where !entries[index].completed && entries[index].spec == spec {
            entries[index].completed = true
            duplicates += 1
        }
        entries.append(Entry(id: newestID, ban: ban, created: now, usesRequest: ban.needsRequest, spec: spec))
    }

    /// Whether a ban issued after ban `checked` matches `object`; `request` is the request of
    /// a lookup (nil: the lurker's, read back from the object's key).
    mutating func matches(
        _ object: CachedObject, after checked: Int, now: Double, request: VCLClientRequest?, scratch: VCLRegex.Scratch
    ) -> Bool {
        var view: (object: VCLObject, request: VCLClientRequest)?
        testedAtLookup += 1
        for entry in entries where entry.id > checked && !entry.completed {
            let target = view ?? (BanTarget.object(object, now: now), request ?? BanTarget.request(from: object.key))
            view = target
            testsAtLookup += 1
            if entry.ban.matches(object: target.object, request: target.request, scratch: scratch) {
                killedAtLookup += 1
                return true
            }
        }
        return false
    }

    /// The lurker's test of `object`: the obj-only bans newer than `checked`. Returns whether
    /// one matches, and how far the object may be marked checked (not past a `req.*` ban,
    /// which only a lookup can test).
    mutating func lurk(
        _ object: CachedObject, after checked: Int, now: Double, scratch: VCLRegex.Scratch
    ) -> (matched: Bool, checked: Int) {
        var view: (object: VCLObject, request: VCLClientRequest)?
        var reached = checked
        var blocked = false
        testedByLurker += 1
        for entry in entries where entry.id > checked {
            if entry.completed {
                if !blocked { reached = entry.id }
                continue
            }
            if entry.usesRequest {
                blocked = true
                continue
            }
            let target = view ?? (BanTarget.object(object, now: now), BanTarget.request(from: object.key))
            view = target
            testsByLurker += 1
            if entry.ban.matches(object: target.object, request: target.request, scratch: scratch) {
                killedByLurker += 1
                return (true, checked)
            }
            if !blocked { reached = entry.id }
        }
        return (false, blocked ? reached : newestID)
    }

    /// The oldest obj-only ban not yet completed, if any.
    var oldestLurkable: Entry? { entries.first { !$0.completed && !$0.usesRequest } }

    /// After a lurker pass: its obj-only bans are completed, and the bans no object is older
    /// than (`oldestChecked` is the least mark of any stored object) are dropped.
    mutating func finishPass(upTo passedID: Int, oldestChecked: Int) {
        for index in entries.indices where entries[index].id <= passedID && !entries[index].usesRequest {
            // (Tested against every object older than it: no lookup needs to test it again.)
            entries[index].completed = true
        }
        let before = entries.count
        entries.removeAll { $0.id <= oldestChecked }
        deleted += before - entries.count
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
