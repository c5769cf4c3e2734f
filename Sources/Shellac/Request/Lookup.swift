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
        let result = server.store.lookup(
            key: key, xid: makeXID(), now: now, options: policy.lookupOptions,
            banRequest: {
                // req.* of a ban: this request as vcl_recv left it (read only when a ban waits).
                var banned = VCLClientRequest()
                banned.url = self.request.uri
                banned.method = self.request.method
                banned.headers = self.request.headers
                return banned
            },
            banned: { objectXID in self.logBanned(objectXID) },
            requestVariant: { VariantKey(fields: $0.entries.map(\.name), request: headers) }
        ) { metadata in
            metadata.variant.isEmpty || metadata.variant.matches(headers)
        }
        switch result {
        case .hit(let object):
            counters.increment(.cacheHits)
            hitIsStale = false
            return .hit(object, refresh: nil)
        case .graced(let object, let refresh):
            hitIsStale = true
            return .hit(object, refresh: refresh)
        case .busy(let object):
            counters.increment(.cacheBusyWaits)
            handling = .hit
            // Once its response head is in, the object is looked at as a hit (`vcl_hit` runs):
            // Varnish's waiting list sends the request through lookup again then.
            let step = deliver(object, isHit: true, isOwner: false)
            delivery?.awaitsHit = true
            return step
        case .hitForPass:
            counters.increment(.cacheHitForPass)
            logAsRequest()
            vsl.record(.hitPass, "")
            vclSession?.context.req.isHitPass = true
            return .pass
        case .miss(let object, let hitForMiss, let stale):
            // As in Varnish 7.1, a hit-for-miss is a miss too (vcl_miss runs for it).
            counters.increment(.cacheMisses)
            if hitForMiss {
                counters.increment(.cacheHitForMiss)
                vclSession?.context.req.isHitMiss = true
                logAsRequest()
                vsl.record(.hitMiss, "")
            }
            return .miss(object, stale: stale)
        }
    }

    /// `vcl_hit`: a fresh object, or a stale one in grace. Delivering a stale object starts
    /// its background refresh (when `refresh` is set: none runs yet); `miss` fetches in the
    /// foreground into `refresh`, revalidating the stale object; `pass` lets `refresh` go.
    func hit(_ object: CachedObject, refresh: CachedObject?) -> RequestStep {
        logHit(object, now: lookupTime)
        let action = policy.hit(object, now: lookupTime)
        logCall("HIT", action)
        if action == .deliver {
            if hitIsStale {
                counters.increment(.cacheGraceHits)
                counters.increment(.cacheHits)
            }
            if let refresh { startFetch(into: refresh, mode: .store, stale: object, isBackground: true) }
            handling = .hit
            let next = RequestStep.deliver(object, isHit: true, isOwner: false)
            guard let body, !body.isSettled else { return next }  // (every hit without a body)
            // The client's body first: dropped, or (a background fetch may send it) kept.
            return afterRequestBody(discarding: refresh == nil) { next }
        }
        if (action == .miss || action == .fetch), let refresh {
            counters.increment(.cacheMisses)
            return .miss(refresh, stale: object)
        }
        if let refresh { release(refresh) }
        if action == .pass { passedFromHit = true }
        switch action {
        case .miss, .fetch, .pass: return .pass
        default: return otherwise(action)
        }
    }

    /// `vcl_miss`: fetch into the busy object, which this request then delivers as it fills.
    func miss(_ object: CachedObject, stale: CachedObject?) -> RequestStep {
        let action = policy.miss()
        logCall("MISS", action)
        guard action == .fetch else {
            release(object)
            return action == .pass ? .pass : otherwise(action)
        }
        startFetch(into: object, mode: .store, stale: stale)
        handling = .miss
        return .deliver(object, isHit: false, isOwner: true)
    }

    /// Not fetching into a busy object after all: let anyone waiting on it go.
    private func release(_ busy: CachedObject) {
        spareXID = busy.xid
        server.store.remove(busy)
        busy.makePrivate()
        busy.fail()
    }
}
