import ShellacCache
import VCL

/// lookup, hit and miss: what the store has for the key.
extension RequestStateMachine {
    /// Finds what the store holds for `key` (the busy object of a miss is made in the same
    /// critical section, so concurrent misses coalesce onto one fetch).
    func lookup(_ key: CacheKey) -> RequestStep {
        let now = HTTPDate.currentTime()
        lookupTime = now
        let headers = request.headers
        // A miss's busy object is numbered as the fetch that fills it, as in Varnish.
        let result = server.store.lookup(key: key, xid: makeXID(), now: now) { metadata in
            metadata.variant.isEmpty || metadata.variant.matches(headers)
        }
        switch result {
        case .hit(let object):
            counters.increment(.cacheHits)
            return .hit(object)
        case .graced(let object, let refresh):
            counters.increment(.cacheGraceHits)
            counters.increment(.cacheHits)
            if let refresh { startFetch(into: refresh, mode: .store) }
            return .deliver(object, isHit: true, isOwner: false)
        case .busy(let object):
            counters.increment(.cacheBusyWaits)
            return .deliver(object, isHit: true, isOwner: false)
        case .hitForPass:
            counters.increment(.cacheHitForPass)
            return .pass
        case .miss(let object, let hitForMiss):
            counters.increment(hitForMiss ? .cacheHitForMiss : .cacheMisses)
            return .miss(object)
        }
    }

    /// `vcl_hit`: a fresh object was found.
    func hit(_ object: CachedObject) -> RequestStep {
        switch policy.hit(object, now: lookupTime) {
        case .deliver: return .deliver(object, isHit: true, isOwner: false)
        case .miss, .fetch, .pass: return .pass
        case let other: return otherwise(other)
        }
    }

    /// `vcl_miss`: fetch into the busy object, which this request then delivers as it fills.
    func miss(_ object: CachedObject) -> RequestStep {
        let action = policy.miss()
        guard action == .fetch else {
            // Not fetching after all: let anyone waiting on this busy object go.
            server.store.remove(object)
            object.makePrivate()
            object.fail()
            return action == .pass ? .pass : otherwise(action)
        }
        startFetch(into: object, mode: .store)
        return .deliver(object, isHit: false, isOwner: true)
    }
}
