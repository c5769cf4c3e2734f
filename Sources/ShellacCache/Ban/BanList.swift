import VCL

/// The bans some stored object may still be older than (Varnish's ban list, `cache_ban.c`).
/// Oldest first; ids are contiguous, because bans only ever leave from the oldest end.
///
/// Each stored object points at the ban it has been checked up to (`CachedObject.bansChecked`)
/// and holds a reference on it (`Entry.refs`, `refs` in ban.list). A lookup tests an object it
/// finds against the bans issued since and moves it to the newest; the lurker tests the
/// obj-only bans in the background (`CacheStore+BanLurker`). A ban leaves the list once no
/// object points at it or at an older one (`trimTail`); the newest never does, so the list
/// always holds at least one ban. It starts with one with no expression, complete, as
/// varnishd's. Kept under `CacheStore`'s lock.
public struct BanList: Sendable {
    public struct Entry: Sendable {
        let id: Int
        /// The expression (nil: the ban the list starts with, which tests nothing).
        public let ban: VCLBan?
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
        /// The stored objects checked up to this ban (varnishd's refcount).
        public internal(set) var refs = 0

        init(id: Int, ban: VCLBan?, created: Double, spec: String, completed: Bool = false) {
            self.id = id
            self.ban = ban
            self.created = created
            self.usesRequest = ban?.needsRequest ?? false
            self.spec = spec
            self.completed = completed
        }
    }

    /// What one lurker pass tests: the obj-only bans not completed up to `upTo`, the newest
    /// of them that is `ban_lurker_age` old (varnishd's `bd`: where the objects it tests go).
    /// `head` is the newest ban when the pass began; with a `cutoff` (`ban_cutoff`, 0: none),
    /// an object checked only up to a ban more than `cutoff` places below `head` is killed
    /// untested, and a `req.*` ban that far down no longer holds objects back.
    struct LurkerPass: Sendable {
        let upTo: Int
        let head: Int
        let cutoff: Int

        func isPastCutoff(_ id: Int) -> Bool { cutoff > 0 && head - id > cutoff }

        /// Whether the pass tests `entry` (and completes it when done).
        func tests(_ entry: Entry) -> Bool {
            !entry.completed && entry.id <= upTo && (!entry.usesRequest || isPastCutoff(entry.id))
        }
    }

    /// What the lurker made of one object.
    enum LurkResult: Equatable {
        /// A ban matched, or it was past the cutoff: it goes.
        case killed
        /// Checked up to this ban (where its reference moves).
        case kept(checkedUpTo: Int)
    }

    /// Oldest first; never empty.
    private(set) var entries: [Entry]
    /// The id of the newest ban (0: the list's first). An object stored now is newer than it.
    private(set) var newestID = 0

    /// Past this many bans not yet completed, the store has the lurker's pass run at once, so
    /// the list stays bounded without a background lurker.
    static let sweepThreshold = 32

    /// varnishstat's ban counters.
    var deleted = 0
    var duplicates = 0
    var killedAtLookup = 0
    var killedByLurker = 0
    var killedByCutoff = 0
    var testedAtLookup = 0
    var testsAtLookup = 0
    var testedByLurker = 0
    var testsByLurker = 0

    /// A list holding the one complete ban with no expression, issued at `now`.
    init(now: Double = HTTPDate.currentTime()) {
        entries = [Entry(id: 0, ban: nil, created: now, spec: "", completed: true)]
    }

    var count: Int { entries.count }
    var completedCount: Int { entries.reduce(0) { $0 + ($1.completed ? 1 : 0) } }
    /// Bans not completed yet: some object may still need testing against them.
    var pendingCount: Int { entries.count - completedCount }
    /// Bans on the list that read `req.*`, and those that read `obj.*`, completed or not (as
    /// varnishd counts them: by what they read, until they leave the list).
    var requestBans: Int { entries.reduce(0) { $0 + ($1.ban?.usesRequest == true ? 1 : 0) } }
    var objectBans: Int { entries.reduce(0) { $0 + ($1.ban?.readsObject == true ? 1 : 0) } }

    /// The bans issued after ban `id`, oldest first.
    func newer(than id: Int) -> ArraySlice<Entry> {
        entries[min(max(id - entries[0].id + 1, 0), entries.count)...]
    }

    /// Adds `ban`; an older ban with the same text is completed (Varnish's dedup), unless
    /// `ban` reads `obj.ttl` or `obj.age`: those are relative to when each ban was issued, so
    /// equal texts are not equal bans (varnishd's `BANS_FLAG_NODEDUP`).
    mutating func add(_ ban: VCLBan, now: Double) {
        newestID += 1
        let spec = ban.rendered
        let dedups = !ban.conditions.contains { $0.field == .ttl || $0.field == .age }
        for index in entries.indices where dedups && !entries[index].completed && entries[index].spec == spec {
            entries[index].completed = true
            duplicates += 1
        }
        entries.append(Entry(id: newestID, ban: ban, created: now, spec: spec))
    }

    // MARK: - References

    /// An object is now checked up to ban `id` (published, or moved there).
    mutating func retain(_ id: Int) {
        let at = id - entries[0].id
        guard entries.indices.contains(at) else {
            assertionFailure("ban \(id) is not on the list")
            return
        }
        entries[at].refs += 1
    }

    /// An object checked up to ban `id` went, or moved on.
    mutating func release(_ id: Int) {
        let at = id - entries[0].id
        guard entries.indices.contains(at), entries[at].refs > 0 else {
            assertionFailure("ban \(id) has no reference to release")
            return
        }
        entries[at].refs -= 1
    }

    /// Deletes the oldest bans no object points at, up to the first one that some object
    /// does; never the newest (varnishd's `ban_cleantail`). Costs the bans deleted.
    mutating func trimTail() {
        var removable = 0
        while removable < entries.count - 1 && entries[removable].refs == 0 { removable += 1 }
        guard removable > 0 else { return }
        entries.removeFirst(removable)
        deleted += removable
    }

    // MARK: - Testing objects

    /// Whether a ban issued after ban `checked` matches `object`, newest first (as varnishd
    /// tests at lookup); `request` is the lookup's (nil: read back from the object's key).
    mutating func matches(
        _ object: CachedObject, after checked: Int, now: Double, request: VCLClientRequest?, scratch: VCLRegex.Scratch
    ) -> Bool {
        var view: (object: VCLObject, request: VCLClientRequest)?
        testedAtLookup += 1
        for entry in newer(than: checked).reversed() where !entry.completed {
            guard let ban = entry.ban else { continue }
            let target = view ?? (BanTarget.object(object, now: now), request ?? BanTarget.request(from: object.key))
            view = target
            if ban.matches(object: target.object, request: target.request, scratch: scratch, tests: &testsAtLookup) {
                killedAtLookup += 1
                return true
            }
        }
        return false
    }

    /// The pass the lurker makes now, up to the newest ban it can test that was issued at
    /// `latest` or before; nil when there is none (varnishd's lurker then only trims).
    func lurkerPass(issuedBy latest: Double, cutoff: Int) -> LurkerPass? {
        for entry in entries.reversed() where entry.created <= latest {
            let pass = LurkerPass(upTo: entry.id, head: newestID, cutoff: cutoff)
            if pass.tests(entry) { return pass }
        }
        return nil
    }

    /// The lurker's test of `object`, checked up to ban `checked` (older than `pass.upTo`):
    /// the bans of the pass newer than it, oldest first. Kept, it is checked up to
    /// `pass.upTo`, or up to just below the oldest `req.*` ban in the way (only a lookup
    /// can take it past one).
    mutating func lurk(
        _ object: CachedObject, after checked: Int, pass: LurkerPass, now: Double, scratch: VCLRegex.Scratch
    ) -> LurkResult {
        var view: (object: VCLObject, request: VCLClientRequest)?
        var reached = checked
        var blocked = false
        for entry in newer(than: checked) {
            if entry.id > pass.upTo { break }
            if entry.completed {
                if !blocked { reached = entry.id }
                continue
            }
            guard pass.tests(entry) else {
                blocked = true  // a req.* ban within the cutoff
                continue
            }
            if pass.isPastCutoff(checked) {
                // Too far down the list: killed untested (varnishd's cutoff kill).
                killedByCutoff += 1
                return .killed
            }
            guard let ban = entry.ban else { continue }
            let target = view ?? (BanTarget.object(object, now: now), BanTarget.request(from: object.key))
            view = target
            // (varnishd counts each ban tested against an object, and each condition.)
            testedByLurker += 1
            if ban.matches(object: target.object, request: target.request, scratch: scratch, tests: &testsByLurker) {
                killedByLurker += 1
                return .killed
            }
            if !blocked { reached = entry.id }
        }
        return .kept(checkedUpTo: blocked ? reached : pass.upTo)
    }

    /// After a lurker pass: the bans it tested are completed. Every object older than them
    /// has been tested against them; one a `req.*` ban held back stays checked up to just
    /// below it, and its lookup skips the completed bans.
    mutating func finishPass(_ pass: LurkerPass) {
        for index in entries.indices where pass.tests(entries[index]) {
            entries[index].completed = true
        }
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
