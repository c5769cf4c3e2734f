import Testing
import VCL

@testable import ShellacCache

/// The ban list as varnishd keeps it: the ban objects are checked up to stays listed (with
/// their count, `refs`), bans leave from the oldest end only, `ban_cutoff`, and the
/// `MAIN.bans*` figures (the sequence of varnishtest's c00049).
extension CacheStoreTests {
    /// Fills the busy object of a miss with a 200 carrying `Foo: foo`, and publishes it.
    func fillTagged(_ cache: CacheStore, _ busy: CachedObject, foo: String, now: Double) {
        let metadata = ObjectMetadata(
            status: 200, reason: "OK", headers: HeaderList([("Foo", foo)]), declaredLength: 0,
            variant: VariantKey(entries: []))
        busy.beginStreaming(metadata: metadata, lifetime: ObjectLifetime(entered: now, ttl: 60, grace: 10, keep: 0))
        #expect(cache.publish(busy, replacing: { _ in true }))
        busy.finish()
    }

    /// Stores `url` with `Foo: foo`, as a miss and its fetch do.
    func storeTagged(_ cache: CacheStore, _ url: String, foo: String, now: Double = 1000) {
        guard case .miss(let busy, _, _) = cache.lookup(key: key(url), xid: 1, now: now, matchesVary: { _ in true }) else {
            Issue.record("\(url) should be a miss")
            return
        }
        fillTagged(cache, busy, foo: foo, now: now)
    }

    @Test("the lurker tests obj bans against older objects, keeps the bans objects need, and counts as varnishd")
    func lurkerFigures() throws {
        let cache = CacheStore(capacity: 1 << 20)
        storeTagged(cache, "/1", foo: "bar1")
        storeTagged(cache, "/2", foo: "bar2")
        cache.ban(try VCLBan("obj.http.foo == bar1"), now: 1000)
        storeTagged(cache, "/3", foo: "bar3")
        cache.ban(try VCLBan("obj.http.foo == bar2 && obj.http.foo != foof"), now: 1000)
        storeTagged(cache, "/4", foo: "bar4")
        cache.ban(try VCLBan("req.http.kill == yes"), now: 1000)
        storeTagged(cache, "/5", foo: "bar5")
        cache.ban(try VCLBan("obj.http.foo == bar5"), now: 1000)
        storeTagged(cache, "/6", foo: "bar6")
        cache.ban(try VCLBan("obj.http.foo == bar6"), now: 1000)
        storeTagged(cache, "/7", foo: "bar7")

        // Five bans and the one the list starts with (complete, and still needed by /1 and /2).
        cache.trimBans()
        var figures = cache.banFigures
        #expect(figures.bans == 6 && figures.completed == 1 && figures.added == 6 && figures.deleted == 0)
        #expect(figures.requestBans == 1 && figures.objectBans == 4)
        #expect(cache.banList.map(\.refs) == [1, 1, 1, 1, 1, 2])

        // The lurker: /1, /2, /5 and /6 match; /3 and /4 stop below the req.* ban.
        #expect(cache.lurkBans(now: 1001, age: 0) == 4)
        figures = cache.banFigures
        #expect(figures.testedByLurker == 10 && figures.testsByLurker == 11 && figures.killedByLurker == 4)
        #expect(figures.bans == 4 && figures.completed == 3 && figures.deleted == 2)
        #expect(figures.requestBans == 1 && figures.objectBans == 3, "completed bans count until they go")
        #expect(cache.banList.map(\.completed) == [true, true, false, true])
        #expect(cache.banList.map(\.refs) == [1, 0, 0, 2])
        #expect(cache.banList.last?.spec == "obj.http.foo == bar2 && obj.http.foo != foof")
        #expect(cache.statistics.objects == 3)

        // A lookup of /3 tests the req.* ban (one condition) and moves it to the newest ban;
        // /4 still needs the oldest one.
        #expect(isHit(cache, "/3", now: 1002))
        cache.trimBans()
        figures = cache.banFigures
        #expect(figures.testedAtLookup == 1 && figures.testsAtLookup == 1 && figures.killedAtLookup == 0)
        #expect(figures.bans == 4 && figures.deleted == 2)
        #expect(cache.banList.map(\.refs) == [2, 0, 0, 1])
        #expect(cache.lurkBans(now: 1003, age: 0) == 0)
        #expect(cache.banFigures.testedByLurker == 10, "no ban is left for the lurker")

        // A lookup of /4 with the header kills it; its refetch is newer than every ban. Then
        // nothing needs the three oldest: they go, the newest stays.
        var kill = VCLClientRequest()
        kill.headers.add("kill", "yes")
        let found = cache.lookup(key: key("/4"), xid: 9, now: 1004, banRequest: { kill }, matchesVary: { _ in true })
        guard case .miss(let busy, _, _) = found else {
            Issue.record("the req.* ban should have killed /4")
            return
        }
        fillTagged(cache, busy, foo: "bar4.1", now: 1004)
        figures = cache.banFigures
        #expect(figures.testedAtLookup == 2 && figures.testsAtLookup == 2 && figures.killedAtLookup == 1)
        #expect(figures.bans == 4, "bans go when the lurker next trims the list")
        cache.trimBans()
        figures = cache.banFigures
        #expect(figures.bans == 1 && figures.completed == 1 && figures.deleted == 5 && figures.added == 6)
        #expect(figures.requestBans == 0 && figures.objectBans == 1)
        #expect(cache.banList.map(\.refs) == [3])
        #expect(cache.statistics.objects == 3)
        #expect(figures.testedByLurker == 10 && figures.testsByLurker == 11 && figures.killedByLurker == 4)
    }

    @Test("past ban_cutoff the lurker kills objects untested (bans_lurker_obj_killed_cutoff); every ban but the newest goes")
    func banCutoff() throws {
        let cache = CacheStore(capacity: 1 << 20)
        for url in ["/a", "/b", "/c"] { storeTagged(cache, url, foo: "x") }
        for number in 1...5 { cache.ban(try VCLBan("obj.http.nomatch == \(number)"), now: 1000) }
        #expect(cache.lurkBans(now: 1000.05, age: 0.1, cutoff: 4) == 0, "no ban is ban_lurker_age old yet")
        #expect(cache.banFigures.bans == 6)
        #expect(cache.lurkBans(now: 1001, age: 0.1, cutoff: 4) == 3)
        let figures = cache.banFigures
        #expect(figures.killedByCutoff == 3 && figures.killedByLurker == 0 && figures.testedByLurker == 0)
        #expect(figures.bans == 1 && figures.completed == 1 && figures.deleted == 5 && figures.added == 6)
        #expect(figures.named.contains { $0.0 == "MAIN.bans_lurker_obj_killed_cutoff" && $0.1 == 3 })
        #expect(cache.statistics.objects == 0 && cache.bannedObjects == 3)
    }

    @Test("within ban_cutoff objects are tested, and req.* bans hold them back")
    func withinCutoff() throws {
        let cache = CacheStore(capacity: 1 << 20)
        for url in ["/a", "/b", "/c"] { storeTagged(cache, url, foo: "x") }
        for number in 1...5 { cache.ban(try VCLBan("obj.http.nomatch == \(number)"), now: 1000) }
        #expect(cache.lurkBans(now: 1001, age: 0.1, cutoff: 5) == 0)
        var figures = cache.banFigures
        #expect(figures.killedByCutoff == 0 && figures.testedByLurker == 15 && figures.testsByLurker == 15)
        #expect(figures.bans == 1 && cache.banList.map(\.refs) == [3])

        // One object behind each of three req.* bans, then an obj ban that matches them all
        // (a missing header is not "0"). The req.* bans are within the cutoff: barriers the
        // objects are tested past, not moved past.
        let second = CacheStore(capacity: 1 << 20)
        storeTagged(second, "/r1", foo: "x")
        second.ban(try VCLBan("req.http.nevermatch == 1"), now: 1000)
        storeTagged(second, "/r2", foo: "x")
        second.ban(try VCLBan("req.http.nevermatch == 2"), now: 1000)
        storeTagged(second, "/r3", foo: "x")
        second.ban(try VCLBan("req.http.nevermatch == 3"), now: 1000)
        second.ban(try VCLBan("obj.http.status != 0"), now: 1000)
        #expect(second.lurkBans(now: 1001, age: 0, cutoff: 4) == 3)
        figures = second.banFigures
        #expect(figures.killedByLurker == 3 && figures.killedByCutoff == 0)
        #expect(second.statistics.objects == 0)
    }

    @Test("an object lets go of its ban exactly once when it goes: purge, expiry, replacement, eviction")
    func banReferencesDropOnce() throws {
        let cache = CacheStore(capacity: 3000)
        store(cache, "/evicted", body: 1000)  // the least recently used
        let purged = try #require(store(cache, "/purged", body: 100))
        store(cache, "/expires", body: 100, ttl: 1)
        store(cache, "/replaced", body: 100)
        #expect(cache.banList.map(\.refs) == [4])

        #expect(cache.purge(key: key("/purged")) == 1)
        cache.remove(purged)  // (gone already: nothing more to let go of)
        #expect(cache.banList.map(\.refs) == [3])

        #expect(cache.reapExpired(now: 1012) == 1)
        #expect(cache.banList.map(\.refs) == [2])

        // A ban, then a fetch that replaces /replaced: the new object is checked up to the ban.
        cache.ban(try VCLBan("obj.http.nomatch == 1"), now: 1001)
        let found = cache.lookup(
            key: key("/replaced"), xid: 2, now: 1001, options: LookupOptions(alwaysMiss: true), matchesVary: { _ in true })
        guard case .miss(let busy, _, _) = found else {
            Issue.record("an always-miss lookup should miss")
            return
        }
        fillTagged(cache, busy, foo: "new", now: 1001)
        #expect(cache.banList.map(\.refs) == [1, 1])

        // Room for a large object takes the least recently used one.
        store(cache, "/large", body: 1700, now: 1001)
        #expect(cache.statistics.evictions == 1)
        #expect(cache.banList.map(\.refs) == [2, 0])
        cache.trimBans()
        #expect(cache.banList.map(\.refs) == [2] && cache.banFigures.deleted == 1)
    }
}
