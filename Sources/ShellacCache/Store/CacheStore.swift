import NIOCore
import Synchronization
import VCL

/// The object index and the byte-bounded memory stores (`-s NAME=malloc,SIZE`, each a
/// `StorageArea`).
///
/// One lock guards the hash index, the areas' LRU lists and byte counts; each object guards its
/// own body. Lock order is always store, then object. Bytes charged are the stored header block
/// and body bytes, exactly; an area never holds more than its capacity: it evicts its least
/// recently used complete objects to make room, and refuses an object that cannot fit at all.
public final class CacheStore: Sendable {
    /// The largest area's capacity, Transient aside: what no object may exceed.
    public let capacity: Int
    /// The areas' names, in the order given; `Transient` among them.
    public let areaNames: [String]
    /// `storage.NAME` for each area, as VCL names it.
    public let storageSymbols: [String]
    /// Where Transient is in `areaNames`.
    public let transientArea: Int
    /// A hit moves its object to the front of the LRU list at most once in this many seconds
    /// (Varnish's `lru_interval`): a hot object is not relinked on every hit.
    public let lruInterval: Double

    struct Index: ~Copyable {
        var heads: [CacheDigest: CachedObject] = [:]
        var areas: [StorageArea]
        /// The area the next object without a store named goes to (round robin, as
        /// varnishd's default storage, over the areas other than Transient).
        var nextArea = 0
        var objectCount = 0
        var evictions = 0
        /// Hits that moved their object to the front of the LRU list (`n_lru_moved`).
        var lruMoves = 0
        /// Charges refused because `nuke_limit` evictions did not make room (`n_lru_limited`).
        var lruLimited = 0
        var bans = BanList()
        /// Objects a ban removed.
        var banned = 0
        /// Published objects by the time they expire for good.
        var expiry = ExpiryHeap()
        /// Objects reaped because they expired.
        var expired = 0
        /// Objects by surrogate key.
        var surrogates = SurrogateKeys()
    }

    /// (Internal for the store's extensions: the ban lurker.)
    let index: Mutex<Index>

    public convenience init(capacity: Int, lruInterval: Double = 2) {
        self.init(layout: StorageLayout(capacity: capacity), lruInterval: lruInterval)
    }

    public init(layout: StorageLayout, lruInterval: Double = 2) {
        let areas = layout.areas.map { StorageArea(name: $0.name, capacity: $0.capacity) }
        areaNames = areas.map(\.name)
        storageSymbols = areaNames.map { "storage." + $0 }
        transientArea = areaNames.firstIndex(of: StorageLayout.transient) ?? 0
        capacity = layout.areas.filter { $0.name != StorageLayout.transient }.map(\.capacity).max() ?? 0
        index = Mutex(Index(areas: areas))
        self.lruInterval = lruInterval
    }

    /// Where the area called `name` is, if there is one.
    public func area(named name: String) -> Int? {
        areaNames.firstIndex(of: name)
    }

    /// The area an object goes to, as Varnish picks its store: the one VCL named
    /// (`beresp.storage`, `storage.NAME`), else Transient when its TTL + grace + keep is under
    /// `shortlived`, else the next store in turn.
    public func area(for storage: String?, lifetime: ObjectLifetime, shortlived: Double) -> Int {
        if let storage {
            let name = storage.hasPrefix("storage.") ? String(storage.dropFirst(8)) : storage
            if let area = area(named: name) { return area }
        }
        if max(lifetime.ttl, 0) + lifetime.grace + lifetime.keep < shortlived { return transientArea }
        return index.withLock { Self.takeDefaultArea(&$0, transient: transientArea) }
    }

    /// Counts an allocation `area` could never satisfy (an object larger than the area).
    public func refuse(area: Int) {
        index.withLock {
            $0.areas[area].requests += 1
            $0.areas[area].failures += 1
        }
    }

    /// The bytes the area called `name` holds and has left (VCL's `storage.NAME.used_space`
    /// and `free_space`); nil when there is no such area.
    public func space(ofArea name: String) -> (used: Int, free: Int)? {
        guard let area = area(named: name) else { return nil }
        return index.withLock { (used: $0.areas[area].usedBytes, free: $0.areas[area].figures.freeBytes) }
    }

    /// Charges `bytes` held outside any object (a request body `std.cache_req_body` keeps) to
    /// the area called `name` (nil: Transient), without evicting for it: false, counted as a
    /// failure, when they do not fit. Returns the area charged, for `release`.
    public func reserve(_ bytes: Int, inArea name: String?) -> Int? {
        let area = name.flatMap { self.area(named: $0) } ?? transientArea
        return index.withLock { index in
            index.areas[area].requests += 1
            guard index.areas[area].usedBytes + bytes <= index.areas[area].capacity else {
                index.areas[area].failures += 1
                return nil
            }
            index.areas[area].usedBytes += bytes
            index.areas[area].allocatedBytes += bytes
            return area
        }
    }

    /// Gives back what `reserve` charged.
    public func release(_ bytes: Int, fromArea area: Int) {
        index.withLock { index in
            index.areas[area].usedBytes -= bytes
            index.areas[area].freedBytes += bytes
        }
    }

    /// The fields of the first stored variant in the chain from `head`: a miss's busy object
    /// expects this request's values of them (predictive Vary). Looked for on misses only,
    /// so that hits pay nothing for it.
    private static func variantTemplate(_ head: CachedObject?) -> VariantKey? {
        var object = head
        while let current = object {
            object = current.indexNextVariant
            if let variant = current.metadata?.variant, !variant.isEmpty { return variant }
        }
        return nil
    }

    /// The capacity of the area at `area`.
    public func capacity(ofArea area: Int) -> Int {
        index.withLock { $0.areas[area].capacity }
    }

    /// Each area's figures, in order.
    public var areaFigures: [StorageFigures] {
        index.withLock { $0.areas.map(\.figures) }
    }

    public struct Statistics: Sendable, Equatable {
        public var objects: Int
        public var usedBytes: Int
        public var evictions: Int
        public var lruMoves = 0
        public var lruLimited = 0
    }

    public var statistics: Statistics {
        index.withLock {
            Statistics(
                objects: $0.objectCount, usedBytes: $0.areas.reduce(0) { $0 + $1.usedBytes }, evictions: $0.evictions,
                lruMoves: $0.lruMoves, lruLimited: $0.lruLimited)
        }
    }

    /// Finds what the cache holds for `key`, creating the busy object of a miss in the same
    /// critical section, so that concurrent misses on one key coalesce onto one fetch.
    /// `matchesVary` says whether a stored variant fits this request. `xid` is asked for only
    /// when a busy object is made: it is the transaction id of the fetch that will fill it.
    /// `banRequest` gives the request's `req.*` for bans that read it (asked for only when a
    /// ban is pending for the object found).
    /// `requestVariant` gives this request's values of a variant's fields (Varnish's predictive
    /// Vary): a busy object whose expected variant is not this request's is not waited on, and
    /// the busy object a miss makes expects this request's variant of the first one seen.
    public func lookup(
        key: CacheKey, xid: @autoclosure () -> UInt64, now: Double, options: LookupOptions = .standard,
        banRequest: () -> VCLClientRequest? = { nil }, banned: (UInt64) -> Void = { _ in },
        requestVariant: (VariantKey) -> VariantKey? = { _ in nil },
        matchesVary: (ObjectMetadata) -> Bool
    ) -> LookupResult {
        index.withLock { index in
            var busy: CachedObject?
            var graceCandidate: CachedObject?
            var keepCandidate: CachedObject?
            // The fields of the first busy object's expected variant (see `variantTemplate`).
            var variantSeen: VariantKey?
            var hitForMiss = false
            var hitForPass = false
            var expiredHitForMiss = false
            var object = index.heads[key.digest]
            while let current = object {
                object = current.indexNextVariant
                let (phase, lifetime, metadata, sameKey) = current.state.withLock { state in
                    (state.phase, state.lifetime, state.metadata,
                     key.matches(state.metadata?.keyBytes ?? state.pendingKey[...]))
                }
                guard sameKey else { continue }  // a digest collision: not this key's object
                if let marker = current.marker {
                    if !lifetime.isFresh(at: now) {
                        if marker == .hitForMiss && lifetime.isWithinGrace(at: now) {
                            expiredHitForMiss = true
                        } else {
                            unlink(current, from: &index)
                        }
                    } else if marker == .hitForPass {
                        hitForPass = true
                    } else {
                        hitForMiss = true
                    }
                    continue
                }
                if options.alwaysMiss { continue }
                switch phase {
                case .busy:
                    if options.ignoreBusy { continue }
                    if !options.ignoreVary, let expected = current.expectedVariant {
                        if variantSeen == nil { variantSeen = expected }
                        // Predictive Vary: its response will not be this request's variant.
                        if let mine = requestVariant(expected), mine != expected { continue }
                    }
                    busy = current
                    continue
                case .failed, .abandoned:
                    unlink(current, from: &index)
                    continue
                case .streaming, .complete:
                    break
                }
                // As Varnish's lookup: an object stored with no TTL (`beresp.ttl = 0s` and some
                // grace or keep) is never found, not even as a stale candidate.
                if lifetime.hasNoTTL { continue }
                guard let metadata, options.ignoreVary || matchesVary(metadata) else {
                    if lifetime.isExpired(at: now) { unlink(current, from: &index) }
                    continue
                }
                // (An object not published yet holds no ban: publishing checks it up to the newest.)
                if current.holdsBanReference && current.bansChecked < index.bans.newestID {
                    // (Regex match data made here: only lookups that find a pending ban pay it.)
                    if index.bans.matches(
                        current, after: current.bansChecked, now: now, request: banRequest(), scratch: VCLRegex.Scratch(pairs: 1)) {
                        unlink(current, from: &index)
                        index.banned += 1
                        banned(current.xid)
                        continue
                    }
                    markBansChecked(current, upTo: index.bans.newestID, in: &index)
                }
                if options.isFresh(lifetime, at: now) {
                    current.hits.add(1, ordering: .relaxed)
                    if now - current.lruMovedAt >= lruInterval {
                        current.lruMovedAt = now
                        if touch(current, in: &index) { index.lruMoves += 1 }
                    }
                    return .hit(current)
                }
                if options.isWithinGrace(lifetime, at: now) {
                    if graceCandidate == nil { graceCandidate = current }
                } else if lifetime.isExpired(at: now) {
                    unlink(current, from: &index)
                } else if keepCandidate == nil {
                    // (Still streaming too: a 304 then waits for its body, as Varnish's condfetch.)
                    keepCandidate = current
                }
            }
            // A marker is newer than any object still beside it (publishing drops markers), so
            // a pass is preferred to a stale object or waiting on a busy one.
            if hitForPass { return .hitForPass }
            if let busy, !expiredHitForMiss {
                if let graceCandidate {
                    graceCandidate.hits.add(1, ordering: .relaxed)
                    return .graced(graceCandidate, refresh: nil)
                }
                return .busy(busy)
            }
            let fresh = CachedObject(key: key, xid: xid(), lifetime: ObjectLifetime(entered: now, ttl: 0, grace: 0, keep: 0))
            if !options.ignoreVary, let template = variantSeen ?? Self.variantTemplate(index.heads[key.digest]) {
                fresh.expectedVariant = requestVariant(template)
            }
            // (An expired hit-for-miss in grace does not wait on the busy object: it fetches alone.)
            if hitForMiss || (expiredHitForMiss && busy != nil) {
                return .miss(busy: fresh, hitForMiss: true, stale: graceCandidate ?? keepCandidate)
            }
            link(fresh, into: &index)
            if let graceCandidate {
                graceCandidate.hits.add(1, ordering: .relaxed)
                return .graced(graceCandidate, refresh: fresh)
            }
            return .miss(busy: fresh, hitForMiss: false, stale: keepCandidate)
        }
    }

    /// The fetch into `object` got a cacheable response: make it visible (if it was a private
    /// hit-for-miss fetch), drop older variants it replaces, and charge its stored bytes (the
    /// header section, and an inline body if it has one).
    /// It goes to `area` (an index in `areaNames`), or by default to the next area in turn.
    /// Returns false when even the headers do not fit: the object must then be delivered uncached.
    /// At most `nukeLimit` objects are evicted to make room for it (`nuke_limit`).
    public func publish(
        _ object: CachedObject, area: Int? = nil, nukeLimit: Int = .max, replacing isSameVariant: (ObjectMetadata) -> Bool
    ) -> Bool {
        let headerBytes = (object.metadata?.chargedBytes ?? 0) + CachedObject.recordBytes
        return index.withLock { index in
            object.storageArea = area ?? Self.takeDefaultArea(&index, transient: transientArea)
            // An object with no TTL is never found (see `lookup`): it hides nothing, so the
            // older variants it would replace stay findable (as in Varnish, where only the
            // fetch's own stale object goes, and `req.hash_always_miss` keeps even that).
            let replaces = !object.lifetime.hasNoTTL
            var other = index.heads[object.digest]
            while let current = other {
                other = current.indexNextVariant
                guard current !== object else { continue }
                if current.isMarker {
                    unlink(current, from: &index)
                } else if replaces, current.phase == .complete, let metadata = current.metadata, isSameVariant(metadata) {
                    unlink(current, from: &index)
                }
            }
            if !object.isIndexed { link(object, into: &index) }
            markBansChecked(object, upTo: index.bans.newestID, in: &index)  // newer than every ban so far
            index.objectCount += 1
            insertInLRU(object, in: &index)
            let lifetime = object.lifetime
            index.expiry.insert(object, expires: lifetime.entered + max(lifetime.ttl, 0) + lifetime.grace + lifetime.keep)
            if let metadata = object.metadata { index.surrogates.add(object, keys: SurrogateKeys.keys(in: metadata)) }
            guard charge(object, bytes: headerBytes, nukeLimit: nukeLimit, in: &index) else {
                unlink(object, from: &index)
                return false
            }
            return true
        }
    }

    /// Charges `bytes` more of body to `object`, evicting LRU objects as needed. False when the
    /// object cannot fit: it has then been removed from the cache (readers already on it go on).
    public func charge(_ object: CachedObject, bytes: Int, nukeLimit: Int = .max) -> Bool {
        index.withLock { index in
            guard object.isIndexed else { return false }
            if charge(object, bytes: bytes, nukeLimit: nukeLimit, in: &index) { return true }
            unlink(object, from: &index)
            return false
        }
    }

    /// Links a new `kind` marker for `key` in place of `busy` and of any older marker of the key.
    /// A hit-for-miss mark past its TTL but within `grace` still keeps requests from waiting on
    /// a busy object of the key (as Varnish's expired hit-for-miss objects do).
    public func mark(
        _ kind: LookupMarker, key: CacheKey, replacing busy: CachedObject, xid: UInt64, now: Double, ttl: Double,
        grace: Double = 0
    ) {
        let grace = max(grace, 0)
        let marker = CachedObject(
            key: key, xid: xid, lifetime: ObjectLifetime(entered: now, ttl: ttl, grace: grace, keep: 0), marker: kind)
        index.withLock { index in
            unlink(busy, from: &index)
            var other = index.heads[key.digest]
            while let current = other {
                other = current.indexNextVariant
                if current.isMarker && current.key == key { unlink(current, from: &index) }
            }
            link(marker, into: &index)
            index.expiry.insert(marker, expires: now + max(ttl, 0) + grace)
        }
    }

    /// Removes the objects whose TTL, grace and keep have all run out by `now` (and the
    /// expired markers among them), at most `limit` at a time; returns how many went.
    /// Memory comes back without a request for them, as Varnish's expiry thread does it.
    @discardableResult
    public func reapExpired(now: Double, limit: Int = 1000, expired: (UInt64) -> Void = { _ in }) -> Int {
        index.withLock { index in
            var reaped = 0
            while reaped < limit, let object = index.expiry.popExpired(now: now) {
                if object.isMarker {
                    unlink(object, from: &index)
                    continue
                }
                guard object.phase == .complete, object.lifetime.isExpired(at: now) else { continue }
                unlink(object, from: &index)
                expired(object.xid)
                reaped += 1
            }
            index.expired += reaped
            return reaped
        }
    }

    /// Objects reaped so far because they expired.
    public var expiredObjects: Int { index.withLock { $0.expired } }

    /// Removes `object` from the cache (failed fetch, abandoned response, purge of one variant).
    public func remove(_ object: CachedObject) {
        index.withLock { unlink(object, from: &$0) }
    }

    /// Removes every variant stored under `key` (Varnish's `return (purge)`), but `kept`.
    /// Returns how many.
    @discardableResult
    public func purge(key: CacheKey, keeping kept: CachedObject? = nil) -> Int {
        index.withLock { index in
            var removed = 0
            var object = index.heads[key.digest]
            while let current = object {
                object = current.indexNextVariant
                if current.phase == .busy || current.phase == .streaming || current === kept { continue }
                guard current.key == key else { continue }
                if !current.isMarker { removed += 1 }
                unlink(current, from: &index)
            }
            return removed
        }
    }

    /// Expires every variant stored under `key` now, keeping it for grace and keep (as vmod
    /// purge's `soft()`; negative `grace` or `keep` leaves them as they are). Returns how many.
    @discardableResult
    public func softPurge(key: CacheKey, now: Double, ttl: Double = 0, grace: Double = -1, keep: Double = -1) -> Int {
        index.withLock { index in
            var expired: [CachedObject] = []
            var object = index.heads[key.digest]
            while let current = object {
                object = current.indexNextVariant
                if current.isMarker || current.phase != .complete || current.key != key { continue }
                expired.append(current)
            }
            for object in expired { reschedule(object, now: now, ttl: ttl, grace: grace, keep: keep, in: &index) }
            return expired.count
        }
    }

    /// Purges the objects tagged with any of `keys` (vmod xkey's `purge`, or `softpurge` when
    /// `soft`: expired now but kept for grace). Costs the objects tagged. Returns how many.
    @discardableResult
    public func purge(surrogateKeys keys: [String], soft: Bool, now: Double) -> Int {
        index.withLock { index in
            let objects = index.surrogates.objects(for: keys)
            for object in objects {
                if soft {
                    reschedule(object, now: now, ttl: 0, grace: -1, keep: -1, in: &index)
                } else {
                    unlink(object, from: &index)
                }
            }
            return objects.count
        }
    }

    private func reschedule(_ object: CachedObject, now: Double, ttl: Double, grace: Double, keep: Double, in index: inout Index) {
        let lifetime = object.expire(now: now, ttl: ttl, grace: grace, keep: keep)
        index.expiry.insert(object, expires: lifetime.entered + max(lifetime.ttl, 0) + lifetime.grace + lifetime.keep)
    }

    // MARK: - Index and LRU, called with the lock held

    private func link(_ object: CachedObject, into index: inout Index) {
        object.indexNextVariant = index.heads[object.digest]
        index.heads[object.digest] = object
        object.isIndexed = true
    }

    func unlink(_ object: CachedObject, from index: inout Index) {
        if object.isIndexed {
            object.isIndexed = false
            if index.heads[object.digest] === object {
                index.heads[object.digest] = object.indexNextVariant
            } else {
                var previous = index.heads[object.digest]
                while let current = previous, current.indexNextVariant !== object {
                    previous = current.indexNextVariant
                }
                previous?.indexNextVariant = object.indexNextVariant
            }
            object.indexNextVariant = nil
        }
        if object.isInLRU {
            removeFromLRU(object, in: &index)
            index.objectCount -= 1
        }
        index.expiry.remove(object)
        releaseBanReference(object, in: &index)
        if object.surrogateKeys != nil { index.surrogates.remove(object) }
        index.areas[object.storageArea].usedBytes -= object.chargedBytes
        index.areas[object.storageArea].freedBytes += object.chargedBytes
        object.chargedBytes = 0
    }

    /// The next area other than Transient, in turn (Transient when it is the only one).
    private static func takeDefaultArea(_ index: inout Index, transient: Int) -> Int {
        let count = index.areas.count
        for _ in 0..<count {
            let area = index.nextArea % count
            index.nextArea = (area + 1) % count
            if area != transient { return area }
        }
        return transient
    }

    private func charge(_ object: CachedObject, bytes: Int, nukeLimit: Int = .max, in index: inout Index) -> Bool {
        let area = object.storageArea
        index.areas[area].requests += 1
        let capacity = index.areas[area].capacity
        guard object.chargedBytes + bytes <= capacity else {
            index.areas[area].failures += 1
            return false
        }
        var candidate = index.areas[area].lruTail
        var nuked = 0
        while index.areas[area].usedBytes + bytes > capacity, nuked < nukeLimit, let victim = candidate {
            candidate = victim.lruPrevious
            guard victim !== object, victim.phase == .complete else { continue }
            unlink(victim, from: &index)
            index.evictions += 1
            nuked += 1
        }
        guard index.areas[area].usedBytes + bytes <= capacity else {
            index.areas[area].failures += 1
            if nuked >= nukeLimit { index.lruLimited += 1 }
            return false
        }
        index.areas[area].usedBytes += bytes
        index.areas[area].allocatedBytes += bytes
        object.chargedBytes += bytes
        return true
    }

    private func insertInLRU(_ object: CachedObject, in index: inout Index) {
        guard !object.isInLRU else { return }
        let area = object.storageArea
        object.isInLRU = true
        object.lruNext = index.areas[area].lruHead
        index.areas[area].lruHead?.lruPrevious = object
        index.areas[area].lruHead = object
        if index.areas[area].lruTail == nil { index.areas[area].lruTail = object }
        index.areas[area].objects += 1
    }

    private func removeFromLRU(_ object: CachedObject, in index: inout Index) {
        let area = object.storageArea
        object.isInLRU = false
        if let previous = object.lruPrevious {
            previous.lruNext = object.lruNext
        } else {
            index.areas[area].lruHead = object.lruNext
        }
        if let next = object.lruNext {
            next.lruPrevious = object.lruPrevious
        } else {
            index.areas[area].lruTail = object.lruPrevious
        }
        object.lruPrevious = nil
        object.lruNext = nil
        index.areas[area].objects -= 1
    }

    /// Moves `object` to the front of the LRU list; false when it was not in the list.
    @discardableResult
    private func touch(_ object: CachedObject, in index: inout Index) -> Bool {
        guard object.isInLRU else { return false }
        guard index.areas[object.storageArea].lruHead !== object else { return true }
        removeFromLRU(object, in: &index)
        insertInLRU(object, in: &index)
        return true
    }
}
