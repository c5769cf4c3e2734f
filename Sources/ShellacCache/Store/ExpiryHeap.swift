/// The stored objects ordered by when they expire for good (after TTL, grace and keep): a
/// binary min-heap, as Varnish's expiry thread keeps one, so that reaping costs the objects
/// that expire and not a walk of the store. Each object knows its place (`expiryIndex`), so
/// an object leaving the store early (evicted, purged, banned, replaced) leaves the heap in
/// O(log n) and the heap never holds what the store has let go.
///
/// Guarded by `CacheStore`'s lock, like the index and the LRU list.
struct ExpiryHeap {
    private var entries: [(expires: Double, object: CachedObject)] = []

    var count: Int { entries.count }

    /// The earliest expiry, if any.
    var earliest: Double? { entries.first?.expires }

    mutating func insert(_ object: CachedObject, expires: Double) {
        if object.expiryIndex >= 0 { remove(object) }
        entries.append((expires, object))
        object.expiryIndex = entries.count - 1
        siftUp(entries.count - 1)
    }

    mutating func remove(_ object: CachedObject) {
        let index = object.expiryIndex
        guard index >= 0, index < entries.count, entries[index].object === object else { return }
        object.expiryIndex = -1
        let last = entries.count - 1
        if index != last {
            entries[index] = entries[last]
            entries[index].object.expiryIndex = index
        }
        entries.removeLast()
        if index < entries.count {
            siftDown(index)
            siftUp(index)
        }
    }

    /// Takes the earliest object if it expires at or before `now`.
    mutating func popExpired(now: Double) -> CachedObject? {
        guard let first = entries.first, first.expires <= now else { return nil }
        remove(first.object)
        return first.object
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].expires < entries[parent].expires else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            var smallest = left
            if left + 1 < entries.count, entries[left + 1].expires < entries[left].expires { smallest = left + 1 }
            guard entries[smallest].expires < entries[parent].expires else { return }
            swapAt(parent, smallest)
            parent = smallest
        }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        entries.swapAt(a, b)
        entries[a].object.expiryIndex = a
        entries[b].object.expiryIndex = b
    }
}
