import VCL

/// Bans in the store: issuing them, the ban lurker (Varnish's `cache_ban_lurker.c`) and the
/// figures `ban.list` and varnishstat show.
///
/// The lurker tests the obj-only bans against every object older than them, in batches of
/// `ban_lurker_batch` objects with the store's lock released between batches, and frees the
/// matches. A `req.*` ban waits for lookups (only they have a request); an object stays
/// marked before it, and the ban leaves the list once no stored object is older.
extension CacheStore {
    /// The ban counters, as varnishstat names them (`MAIN.bans*`).
    public struct BanFigures: Sendable, Equatable {
        public var bans = 0, completed = 0, requestBans = 0, objectBans = 0
        public var added = 0, deleted = 0, duplicates = 0
        public var testedAtLookup = 0, testsAtLookup = 0, killedAtLookup = 0
        public var testedByLurker = 0, testsByLurker = 0, killedByLurker = 0

        /// `(name, value)` pairs under Varnish's names.
        public var named: [(String, Int)] {
            [("MAIN.bans", bans), ("MAIN.bans_completed", completed), ("MAIN.bans_obj", objectBans),
             ("MAIN.bans_req", requestBans), ("MAIN.bans_added", added), ("MAIN.bans_deleted", deleted),
             ("MAIN.bans_tested", testedAtLookup), ("MAIN.bans_obj_killed", killedAtLookup),
             ("MAIN.bans_lurker_tested", testedByLurker), ("MAIN.bans_tests_tested", testsAtLookup),
             ("MAIN.bans_lurker_tests_tested", testsByLurker), ("MAIN.bans_lurker_obj_killed", killedByLurker),
             ("MAIN.bans_dups", duplicates)]
        }
    }

    /// Bans every object stored before now that `ban` matches: each is tested when a lookup
    /// finds it, or by the lurker. Past `BanList.sweepThreshold` bans the lurker's pass runs
    /// at once, so the list stays bounded without a background lurker.
    public func ban(_ ban: VCLBan, now: Double) {
        index.withLock { index in
            index.bans.add(ban, now: now)
            if index.bans.count > BanList.sweepThreshold {
                let objects = Self.lurkable(in: index)
                let passed = index.bans.newestID
                let oldest = lurk(objects, passedID: passed, now: now, scratch: VCLRegex.Scratch(pairs: 1), in: &index)
                index.bans.finishPass(upTo: passed, oldestChecked: oldest)
            }
        }
    }

    /// One pass of the ban lurker, once the oldest obj-only ban not yet tested everywhere is
    /// `age` old: every object older than the newest ban is tested, `batch` at a time under
    /// the lock. Returns how many objects went.
    @discardableResult
    public func lurkBans(now: Double, age: Double, batch: Int = 1000) -> Int {
        let start = index.withLock { index -> (objects: [CachedObject], passed: Int, killed: Int)? in
            guard let oldest = index.bans.oldestLurkable, now - oldest.created >= age else { return nil }
            return (Self.lurkable(in: index), index.bans.newestID, index.bans.killedByLurker)
        }
        guard let start else { return 0 }
        var oldestChecked = start.passed
        var offset = 0
        // One regex scratch for the pass: testing an object allocates nothing for the regex.
        let scratch = VCLRegex.Scratch(pairs: 1)
        repeat {
            let slice = start.objects[offset..<min(offset + max(batch, 1), start.objects.count)]
            offset += slice.count
            index.withLock { index in
                oldestChecked = min(oldestChecked, lurk(slice, passedID: start.passed, now: now, scratch: scratch, in: &index))
            }
        } while offset < start.objects.count
        return index.withLock { index in
            index.bans.finishPass(upTo: start.passed, oldestChecked: oldestChecked)
            return index.bans.killedByLurker - start.killed
        }
    }

    /// The stored objects some ban is newer than.
    private static func lurkable(in index: borrowing Index) -> [CachedObject] {
        var objects: [CachedObject] = []
        for (_, head) in index.heads {
            var object: CachedObject? = head
            while let current = object {
                object = current.indexNextVariant
                if !current.isMarker, current.bansChecked < index.bans.newestID { objects.append(current) }
            }
        }
        return objects
    }

    /// Tests `objects` (those still stored, with their metadata) against the obj-only bans up
    /// to `passedID`; removes the matches. Returns the least mark left on any of them.
    private func lurk(
        _ objects: some Collection<CachedObject>, passedID: Int, now: Double, scratch: VCLRegex.Scratch,
        in index: inout Index
    ) -> Int {
        var oldest = passedID
        for object in objects where object.isIndexed && object.bansChecked < passedID {
            // Still busy: its response is newer than these bans (publishing marks it so).
            guard object.metadata != nil else { continue }
            let (matched, checked) = index.bans.lurk(object, after: object.bansChecked, now: now, scratch: scratch)
            if matched {
                unlink(object, from: &index)
                index.banned += 1
            } else {
                object.bansChecked = checked
                oldest = min(oldest, checked)
            }
        }
        return oldest
    }

    /// The bans on the list, newest first (`ban.list`).
    public var banList: [BanList.Entry] { index.withLock { $0.bans.entries.reversed() } }

    /// The ban counters now.
    public var banFigures: BanFigures {
        index.withLock { index in
            let bans = index.bans
            return BanFigures(
                // varnishd's list always holds at least its newest ban; Shellac's drops it
                // once no object is older, so one is counted for it (as varnishstat shows).
                bans: bans.count + 1, completed: bans.completedCount + 1, requestBans: bans.requestBans,
                objectBans: bans.objectBans, added: bans.newestID + 1, deleted: bans.deleted,
                duplicates: bans.duplicates, testedAtLookup: bans.testedAtLookup, testsAtLookup: bans.testsAtLookup,
                killedAtLookup: bans.killedAtLookup, testedByLurker: bans.testedByLurker,
                testsByLurker: bans.testsByLurker, killedByLurker: bans.killedByLurker)
        }
    }

    /// Bans some stored object is still older than.
    public var pendingBans: Int { index.withLock { $0.bans.count } }

    /// Objects removed by bans so far.
    public var bannedObjects: Int { index.withLock { $0.banned } }
}
