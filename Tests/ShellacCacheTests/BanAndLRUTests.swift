import NIOCore
import Testing
import VCL

@testable import ShellacCache

/// Bans tested at lookup (and swept when too many wait), and LRU moves rate-limited per object.
extension CacheStoreTests {
    func isHit(_ cache: CacheStore, _ url: String, now: Double) -> Bool {
        if case .hit = cache.lookup(key: key(url), xid: 9, now: now, matchesVary: { _ in true }) { return true }
        return false
    }

    @Test("a ban removes the objects stored before it when a lookup finds them, not newer ones")
    func banAtLookup() throws {
        let cache = CacheStore(capacity: 1 << 20)
        store(cache, "/a/1", body: 10)
        store(cache, "/b/1", body: 10)
        cache.ban(try VCLBan("req.url ~ ^/a/"), now: 1000)
        #expect(cache.pendingBans == 1)
        #expect(cache.statistics.objects == 2, "a ban waits for the lookup")
        #expect(!isHit(cache, "/a/1", now: 1001))
        #expect(cache.bannedObjects == 1)
        #expect(isHit(cache, "/b/1", now: 1001))
        // Stored after the ban: untouched by it.
        store(cache, "/a/2", body: 10, now: 1002)
        #expect(isHit(cache, "/a/2", now: 1003))
        #expect(cache.bannedObjects == 1)
    }

    @Test("obj.* bans test the stored response")
    func banOnObject() throws {
        let cache = CacheStore(capacity: 1 << 20)
        store(cache, "/s", body: 10)
        cache.ban(try VCLBan("obj.status == 404"), now: 1000)
        #expect(isHit(cache, "/s", now: 1001))
        cache.ban(try VCLBan("obj.status == 200 && req.url == /s"), now: 1001)
        #expect(!isHit(cache, "/s", now: 1002))
    }

    @Test("past 32 bans not completed every object is tested at once; the list keeps only the newest")
    func banSweep() throws {
        let cache = CacheStore(capacity: 1 << 20)
        store(cache, "/keep", body: 10)
        store(cache, "/drop", body: 10)
        cache.ban(try VCLBan("req.url == /drop"), now: 1000)
        for index in 0..<BanList.sweepThreshold {
            cache.ban(try VCLBan("req.url == /none/\(index)"), now: 1000)
        }
        #expect(cache.pendingBans == 0)
        #expect(cache.banFigures.bans == 1, "only the newest, which /keep is checked up to")
        #expect(cache.banList.map(\.refs) == [1])
        #expect(cache.statistics.objects == 1)
        #expect(cache.bannedObjects == 1)
        #expect(isHit(cache, "/keep", now: 1001))
    }

    /// A store with two objects, stored at 1000 for 600 s.
    func twoObjects(_ first: String, _ second: String) -> CacheStore {
        let cache = CacheStore(capacity: 1 << 20)
        store(cache, first, body: 10, ttl: 600)
        store(cache, second, body: 10, ttl: 600)
        return cache
    }

    @Test("the ban lurker tests bans once they are ban_lurker_age old: matches go without a lookup, the list empties")
    func banLurker() throws {
        let cache = twoObjects("/keep", "/drop")
        cache.ban(try VCLBan("req.url == /drop"), now: 1000)
        #expect(cache.lurkBans(now: 1030, age: 60) == 0 && cache.pendingBans == 1)
        #expect(cache.lurkBans(now: 1061, age: 60) == 1)
        #expect(cache.pendingBans == 0 && cache.statistics.objects == 1)
        #expect(isHit(cache, "/keep", now: 1062))
    }

    @Test("a ban on a request header waits for lookups (the lurker cannot test it), then leaves the list")
    func requestHeaderBan() throws {
        let cache = twoObjects("/a", "/b")
        cache.ban(try VCLBan("req.http.foo == barcheck"), now: 1000)
        cache.ban(try VCLBan("obj.status == 404"), now: 1000)
        #expect(cache.lurkBans(now: 1100, age: 60, batch: 1) == 0)
        #expect(cache.pendingBans == 1, "the req ban waits for lookups; the obj ban is done")
        // Newest first: the objects stay checked up to the list's first ban, below the req ban.
        #expect(cache.banList.map(\.completed) == [true, false, true])
        #expect(cache.banList.map(\.refs) == [0, 0, 2])
        var other = VCLClientRequest()
        other.headers.add("foo", "other")
        var matching = VCLClientRequest()
        matching.headers.add("foo", "barcheck")
        let hitA = cache.lookup(key: key("/a"), xid: 9, now: 1101, banRequest: { other }, matchesVary: { _ in true })
        let hitB = cache.lookup(key: key("/b"), xid: 9, now: 1101, banRequest: { matching }, matchesVary: { _ in true })
        guard case .hit = hitA else { Issue.record("the ban does not match another request"); return }
        if case .hit = hitB { Issue.record("the ban matches a request with the header") }
        #expect(cache.banFigures.killedAtLookup == 1)
        // Every object is now past both bans: the next pass prunes the list.
        cache.ban(try VCLBan("obj.status == 500"), now: 1102)
        _ = cache.lurkBans(now: 1200, age: 60)
        #expect(cache.pendingBans == 0 && cache.banFigures.bans == 1)
    }

    @Test("an identical newer ban completes the older one (ban.list shows C)")
    func duplicateBans() throws {
        let cache = CacheStore(capacity: 1 << 20)
        cache.ban(try VCLBan("obj.keep != 0s"), now: 1000)
        cache.ban(try VCLBan("obj.keep != 0s"), now: 1001)
        #expect(cache.banList.map(\.completed) == [false, true, true])  // (the last: the list's first ban)
        #expect(cache.banFigures.duplicates == 1)
        // Bans on obj.ttl or obj.age are relative to when each was issued: never duplicates.
        cache.ban(try VCLBan("obj.ttl > 1d"), now: 1002)
        cache.ban(try VCLBan("obj.ttl > 1d"), now: 1003)
        #expect(cache.banList.map(\.completed) == [false, false, false, true, true])
        #expect(cache.banFigures.duplicates == 1)
    }

    @Test("a hit moves its object to the LRU front at most once per lru_interval")
    func lruInterval() {
        // Three 1000-byte bodies do not fit with their heads: the third store evicts one.
        func evicted(lruInterval: Double) -> String? {
            let cache = CacheStore(capacity: 3000, lruInterval: lruInterval)
            store(cache, "/1", body: 1000)
            store(cache, "/2", body: 1000)
            _ = isHit(cache, "/1", now: 1000.5)  // /1 to the front
            _ = isHit(cache, "/2", now: 1000.6)  // /2 to the front
            _ = isHit(cache, "/1", now: 1001)  // to the front only if 0.5 s is a whole interval
            store(cache, "/3", body: 1000, now: 1001)
            return ["/1", "/2"].first { !isHit(cache, $0, now: 1001) }
        }
        #expect(evicted(lruInterval: 2) == "/1", "a hit within lru_interval moved the object")
        #expect(evicted(lruInterval: 0) == "/2")
    }
}
