import NIOCore
import Testing
import VCL

@testable import ShellacCache

/// The store on its own: lookup outcomes, byte accounting, LRU eviction.
@Suite("CacheStore")
struct CacheStoreTests {
    func key(_ url: String, host: String = "example.org") -> CacheKey {
        var key = CacheKey()
        key.append(url)
        key.append(host)
        return key
    }

    /// Fetches `body` into the busy object of a miss, as the server does.
    @discardableResult
    func store(
        _ store: CacheStore, _ url: String, body: Int, ttl: Double = 60, now: Double = 1000, nukeLimit: Int = .max
    ) -> CachedObject? {
        guard case .miss(let object, _, _) = store.lookup(key: key(url), xid: 1, now: now, matchesVary: { _ in true }) else {
            return nil
        }
        let metadata = ObjectMetadata(
            status: 200, reason: "OK", headers: HeaderList(), declaredLength: body, variant: VariantKey(entries: []))
        object.beginStreaming(metadata: metadata, lifetime: ObjectLifetime(entered: now, ttl: ttl, grace: 10, keep: 0))
        guard store.publish(object, nukeLimit: nukeLimit, replacing: { _ in true }) else { return object }
        if store.charge(object, bytes: body, nukeLimit: nukeLimit) { object.append(ByteBuffer(repeating: 0x61, count: body)) }
        object.finish()
        return object
    }

    @Test("a miss creates one busy object that later lookups wait on")
    func busyCoalesces() {
        let cache = CacheStore(capacity: 1 << 20)
        guard case .miss(let busy, false, _) = cache.lookup(key: key("/a"), xid: 1, now: 0, matchesVary: { _ in true }) else {
            Issue.record("expected a miss")
            return
        }
        guard case .busy(let waitedOn) = cache.lookup(key: key("/a"), xid: 2, now: 0, matchesVary: { _ in true }) else {
            Issue.record("expected busy")
            return
        }
        #expect(waitedOn === busy)
    }

    @Test("bytes charged are the record, header block and body, exactly")
    func exactAccounting() {
        let cache = CacheStore(capacity: 1 << 20)
        store(cache, "/a", body: 1000)
        store(cache, "/b", body: 500)
        let headerBytes = "HTTP/1.1 200 OK\r\n".utf8.count
        #expect(cache.statistics.usedBytes == 1500 + 2 * (headerBytes + CachedObject.recordBytes))
        #expect(cache.statistics.objects == 2)
    }

    @Test("LRU eviction keeps the store within its capacity")
    func lru() {
        let cache = CacheStore(capacity: 3000)
        store(cache, "/1", body: 1000)
        store(cache, "/2", body: 1000)
        guard case .hit = cache.lookup(key: key("/1"), xid: 3, now: 1001, matchesVary: { _ in true }) else {
            Issue.record("expected a hit")
            return
        }
        store(cache, "/3", body: 1000)  // evicts /2, the least recently used
        #expect(cache.statistics.usedBytes <= 3000)
        #expect(cache.statistics.evictions == 1)
        if case .hit = cache.lookup(key: key("/2"), xid: 4, now: 1001, matchesVary: { _ in true }) {
            Issue.record("/2 should have been evicted")
        }
        guard case .hit = cache.lookup(key: key("/1"), xid: 5, now: 1001, matchesVary: { _ in true }) else {
            Issue.record("/1 should still be cached")
            return
        }
    }

    @Test("nuke_limit: an object that needs more evictions than allowed is refused; what is stored stays")
    func nukeLimit() {
        let cache = CacheStore(capacity: 3000)
        store(cache, "/1", body: 1000)
        store(cache, "/2", body: 1000)
        store(cache, "/3", body: 1500, nukeLimit: 0)  // would need /1 to go
        #expect(cache.statistics.evictions == 0)
        if case .hit = cache.lookup(key: key("/3"), xid: 4, now: 1001, matchesVary: { _ in true }) {
            Issue.record("/3 should not have been stored")
        }
        guard case .hit = cache.lookup(key: key("/1"), xid: 5, now: 1001, matchesVary: { _ in true }) else {
            Issue.record("/1 should still be cached")
            return
        }
        store(cache, "/4", body: 1500, nukeLimit: 1)  // one eviction is enough
        #expect(cache.statistics.evictions == 1)
    }

    @Test("an expired hit-for-miss within its grace keeps a request from waiting on another's fetch")
    func expiredHitForMissInGrace() {
        let cache = CacheStore(capacity: 1 << 20)
        guard case .miss(let first, false, _) = cache.lookup(key: key("/h"), xid: 1, now: 0, matchesVary: { _ in true }) else {
            Issue.record("expected a miss")
            return
        }
        cache.mark(.hitForMiss, key: key("/h"), replacing: first, xid: 1, now: 0, ttl: 1, grace: 60)
        // Past the TTL: a plain miss, whose busy object is in the index.
        guard case .miss(_, false, _) = cache.lookup(key: key("/h"), xid: 2, now: 2, matchesVary: { _ in true }) else {
            Issue.record("expected a plain miss")
            return
        }
        // Another request meanwhile does not wait on that busy object: it fetches alone.
        guard case .miss(_, true, _) = cache.lookup(key: key("/h"), xid: 3, now: 2, matchesVary: { _ in true }) else {
            Issue.record("expected a hit-for-miss, not a wait")
            return
        }
        // Past the grace, the mark is gone: requests wait on a busy object again.
        _ = cache.lookup(key: key("/h"), xid: 4, now: 100, matchesVary: { _ in true })
        guard case .busy = cache.lookup(key: key("/h"), xid: 5, now: 100, matchesVary: { _ in true }) else {
            Issue.record("expected a wait on the busy object")
            return
        }
    }

    @Test("an object larger than the store is refused and removed")
    func tooLarge() {
        let cache = CacheStore(capacity: 1000)
        let object = store(cache, "/big", body: 5000)
        #expect(object?.isIndexed == false)
        #expect(cache.statistics.usedBytes == 0)
        #expect(cache.statistics.objects == 0)
    }

    @Test("stale objects are served in grace while one refresh runs")
    func grace() {
        let cache = CacheStore(capacity: 1 << 20)
        store(cache, "/g", body: 10, ttl: 5, now: 1000)
        guard case .graced(_, let refresh?) = cache.lookup(key: key("/g"), xid: 2, now: 1007, matchesVary: { _ in true })
        else {
            Issue.record("expected a graced hit with a refresh")
            return
        }
        guard case .graced(_, nil) = cache.lookup(key: key("/g"), xid: 3, now: 1007, matchesVary: { _ in true }) else {
            Issue.record("expected a graced hit without a second refresh")
            return
        }
        _ = refresh
        guard case .miss = cache.lookup(key: key("/x"), xid: 4, now: 1020, matchesVary: { _ in true }) else {
            Issue.record("expected a miss")
            return
        }
    }

    @Test("hit-for-miss marks make private fetches that do not coalesce")
    func hitForMiss() {
        let cache = CacheStore(capacity: 1 << 20)
        guard case .miss(let busy, false, _) = cache.lookup(key: key("/h"), xid: 1, now: 0, matchesVary: { _ in true }) else {
            Issue.record("expected a miss")
            return
        }
        cache.mark(.hitForMiss, key: key("/h"), replacing: busy, xid: 1, now: 0, ttl: 120)
        guard case .miss(_, true, _) = cache.lookup(key: key("/h"), xid: 2, now: 1, matchesVary: { _ in true }) else {
            Issue.record("expected a hit-for-miss")
            return
        }
        guard case .miss(_, true, _) = cache.lookup(key: key("/h"), xid: 3, now: 1, matchesVary: { _ in true }) else {
            Issue.record("a second request must not wait on the first")
            return
        }
    }

    @Test("hit-for-pass marks make lookups pass, with no busy object, until they expire")
    func hitForPass() {
        let cache = CacheStore(capacity: 1 << 20)
        guard case .miss(let busy, false, _) = cache.lookup(key: key("/p"), xid: 1, now: 0, matchesVary: { _ in true }) else {
            Issue.record("expected a miss")
            return
        }
        cache.mark(.hitForPass, key: key("/p"), replacing: busy, xid: 1, now: 0, ttl: 60)
        for xid in 2...3 {
            guard case .hitForPass = cache.lookup(key: key("/p"), xid: UInt64(xid), now: 30, matchesVary: { _ in true })
            else {
                Issue.record("expected a hit-for-pass")
                return
            }
        }
        #expect(cache.statistics.objects == 0 && cache.statistics.usedBytes == 0)
        // Another URL is unaffected; the marker expires with its TTL.
        guard case .miss(_, false, _) = cache.lookup(key: key("/q"), xid: 4, now: 30, matchesVary: { _ in true }) else {
            Issue.record("expected a plain miss for another URL")
            return
        }
        guard case .miss(_, false, _) = cache.lookup(key: key("/p"), xid: 5, now: 61, matchesVary: { _ in true }) else {
            Issue.record("expected a plain miss once the marker expired")
            return
        }
    }

    @Test("a new marker replaces the key's older one")
    func markerReplacesMarker() {
        let cache = CacheStore(capacity: 1 << 20)
        guard case .miss(let first, false, _) = cache.lookup(key: key("/m"), xid: 1, now: 0, matchesVary: { _ in true }) else {
            Issue.record("expected a miss")
            return
        }
        cache.mark(.hitForPass, key: key("/m"), replacing: first, xid: 1, now: 0, ttl: 60)
        guard case .hitForPass = cache.lookup(key: key("/m"), xid: 2, now: 1, matchesVary: { _ in true }) else {
            Issue.record("expected a hit-for-pass")
            return
        }
        let second = CachedObject(key: key("/m"), xid: 3, lifetime: ObjectLifetime(entered: 1, ttl: 0, grace: 0, keep: 0))
        cache.mark(.hitForMiss, key: key("/m"), replacing: second, xid: 3, now: 1, ttl: 60)
        guard case .miss(_, true, _) = cache.lookup(key: key("/m"), xid: 4, now: 2, matchesVary: { _ in true }) else {
            Issue.record("expected the hit-for-miss that replaced the hit-for-pass")
            return
        }
    }

    @Test("purge removes every variant of a key")
    func purge() {
        let cache = CacheStore(capacity: 1 << 20)
        store(cache, "/p", body: 10)
        #expect(cache.purge(key: key("/p")) == 1)
        #expect(cache.statistics.objects == 0 && cache.statistics.usedBytes == 0)
    }
}
