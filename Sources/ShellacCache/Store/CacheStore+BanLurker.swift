import VCL

/// Bans in the store: issuing them, the references objects hold on them, the ban lurker
/// (Varnish's `cache_ban_lurker.c`) and the figures `ban.list` and varnishstat show.
///
/// The lurker tests the obj-only bans against the objects older than them, in batches of
/// `ban_lurker_batch` objects with the store's lock released between batches, and frees the
/// matches. A `req.*` ban waits for lookups (only they have a request): an object stays
/// checked up to just below it. A ban leaves the list once no object is checked up to it or
/// to an older one (`BanList.trimTail`).
extension CacheStore {
    /// The ban counters, as varnishstat names them (`MAIN.bans*`).
    public struct BanFigures: Sendable, Equatable {
        public var bans = 0, completed = 0, requestBans = 0, objectBans = 0
        public var added = 0, deleted = 0, duplicates = 0
        public var testedAtLookup = 0, testsAtLookup = 0, killedAtLookup = 0
        public var testedByLurker = 0, testsByLurker = 0, killedByLurker = 0, killedByCutoff = 0

        /// `(name, value)` pairs under Varnish's names.
        public var named: [(String, Int)] {
            [("MAIN.bans", bans), ("MAIN.bans_completed", completed), ("MAIN.bans_obj", objectBans),
             ("MAIN.bans_req", requestBans), ("MAIN.bans_added", added), ("MAIN.bans_deleted", deleted),
             ("MAIN.bans_tested", testedAtLookup), ("MAIN.bans_obj_killed", killedAtLookup),
             ("MAIN.bans_lurker_tested", testedByLurker), ("MAIN.bans_tests_tested", testsAtLookup),
             ("MAIN.bans_lurker_tests_tested", testsByLurker), ("MAIN.bans_lurker_obj_killed", killedByLurker),
             ("MAIN.bans_lurker_obj_killed_cutoff", killedByCutoff), ("MAIN.bans_dups", duplicates)]
        }
    }

    /// Bans every object stored before now that `ban` matches: each is tested when a lookup
    /// finds it, or by the lurker. Past `BanList.sweepThreshold` bans not completed, the
    /// lurker's pass runs at once (whatever their age), so the list stays bounded without
    /// a background lurker.
    public func ban(_ ban: VCLBan, now: Double) {
        index.withLock { index in
            index.bans.add(ban, now: now)
            guard index.bans.pendingCount > BanList.sweepThreshold,
                  let pass = index.bans.lurkerPass(issuedBy: .infinity, cutoff: 0) else { return }
            let objects = Self.lurkable(in: index, below: pass.upTo)
            lurk(objects, pass: pass, now: now, scratch: VCLRegex.Scratch(pairs: 1), in: &index)
            index.bans.finishPass(pass)
            index.bans.trimTail()
        }
    }

    /// One pass of the ban lurker: the bans it can test that are `age` old are tested
    /// against every object older than them, `batch` at a time under the lock. With a
    /// `cutoff` (`ban_cutoff`), objects more than that many bans behind are killed untested.
    /// The bans no object needs any more leave the list first and last. Returns how many
    /// objects went.
    @discardableResult
    public func lurkBans(now: Double, age: Double, cutoff: Int = 0, batch: Int = 1000) -> Int {
        let start = index.withLock { index -> (objects: [CachedObject], pass: BanList.LurkerPass, killed: Int)? in
            index.bans.trimTail()
            guard let pass = index.bans.lurkerPass(issuedBy: now - age, cutoff: max(cutoff, 0)) else { return nil }
            return (Self.lurkable(in: index, below: pass.upTo), pass, index.bans.killedByLurker + index.bans.killedByCutoff)
        }
        guard let start else { return 0 }
        var offset = 0
        // One regex scratch for the pass: testing an object allocates nothing for the regex.
        let scratch = VCLRegex.Scratch(pairs: 1)
        repeat {
            let slice = start.objects[offset..<min(offset + max(batch, 1), start.objects.count)]
            offset += slice.count
            index.withLock { index in
                lurk(slice, pass: start.pass, now: now, scratch: scratch, in: &index)
            }
        } while offset < start.objects.count
        return index.withLock { index in
            index.bans.finishPass(start.pass)
            index.bans.trimTail()
            return index.bans.killedByLurker + index.bans.killedByCutoff - start.killed
        }
    }

    /// Deletes the oldest bans no object is checked up to (what varnishd's lurker does even
    /// with `ban_lurker_sleep` 0). Costs the bans deleted.
    public func trimBans() {
        index.withLock { $0.bans.trimTail() }
    }

    /// The stored objects checked only up to a ban older than `upTo`.
    private static func lurkable(in index: borrowing Index, below upTo: Int) -> [CachedObject] {
        var objects: [CachedObject] = []
        for (_, head) in index.heads {
            var object: CachedObject? = head
            while let current = object {
                object = current.indexNextVariant
                if current.holdsBanReference, current.bansChecked < upTo { objects.append(current) }
            }
        }
        return objects
    }

    /// Tests `objects` (those still stored and still checked only up to a ban older than
    /// `pass.upTo`) against the bans of `pass`; removes the matches and moves the others on.
    private func lurk(
        _ objects: some Collection<CachedObject>, pass: BanList.LurkerPass, now: Double, scratch: VCLRegex.Scratch,
        in index: inout Index
    ) {
        for object in objects where object.isIndexed && object.holdsBanReference && object.bansChecked < pass.upTo {
            switch index.bans.lurk(object, after: object.bansChecked, pass: pass, now: now, scratch: scratch) {
            case .killed:
                unlink(object, from: &index)
                index.banned += 1
            case .kept(let checked):
                if checked != object.bansChecked { markBansChecked(object, upTo: checked, in: &index) }
            }
        }
    }

    // MARK: - References, called with the lock held

    /// `object` (indexed) has been checked against every ban up to `id`, or is newer than
    /// them: its reference moves to that ban.
    func markBansChecked(_ object: CachedObject, upTo id: Int, in index: inout Index) {
        guard object.isIndexed else { return }
        if object.holdsBanReference { index.bans.release(object.bansChecked) }
        index.bans.retain(id)
        object.bansChecked = id
        object.holdsBanReference = true
    }

    /// `object` leaves the store: it lets go of its ban (once, however often it is unlinked).
    func releaseBanReference(_ object: CachedObject, in index: inout Index) {
        guard object.holdsBanReference else { return }
        object.holdsBanReference = false
        index.bans.release(object.bansChecked)
    }

    /// The bans on the list, newest first (`ban.list`).
    public var banList: [BanList.Entry] { index.withLock { $0.bans.entries.reversed() } }

    /// The ban counters now.
    public var banFigures: BanFigures {
        index.withLock { index in
            let bans = index.bans
            return BanFigures(
                bans: bans.count, completed: bans.completedCount, requestBans: bans.requestBans,
                objectBans: bans.objectBans, added: bans.newestID + 1, deleted: bans.deleted,
                duplicates: bans.duplicates, testedAtLookup: bans.testedAtLookup, testsAtLookup: bans.testsAtLookup,
                killedAtLookup: bans.killedAtLookup, testedByLurker: bans.testedByLurker,
                testsByLurker: bans.testsByLurker, killedByLurker: bans.killedByLurker,
                killedByCutoff: bans.killedByCutoff)
        }
    }

    /// Bans not completed yet: some stored object may still have to be tested against them.
    public var pendingBans: Int { index.withLock { $0.bans.pendingCount } }

    /// Objects removed by bans so far (at lookup, by the lurker, and past `ban_cutoff`).
    public var bannedObjects: Int { index.withLock { $0.banned } }
}
