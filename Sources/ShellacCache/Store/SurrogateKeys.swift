/// Surrogate keys (what Varnish users install vmod xkey for): a stored response's `xkey` or
/// `Surrogate-Key` header tags it with space- (or comma-) separated keys, and a purge by key
/// finds the tagged objects through this index, so it costs the objects tagged, not the store.
///
/// Guarded by `CacheStore`'s lock, like the rest of the index.
struct SurrogateKeys {
    private var tagged: [String: [ObjectIdentifier: CachedObject]] = [:]

    /// The keys `headers` of a stored response name.
    static func keys(in metadata: ObjectMetadata) -> [String] {
        let headers = metadata.headers
        var keys: [String] = []
        for name in ["xkey", "Surrogate-Key"] {
            for value in headers.values(name) {
                for key in value.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }) where !keys.contains(String(key)) {
                    keys.append(String(key))
                }
            }
        }
        return keys
    }

    mutating func add(_ object: CachedObject, keys: [String]) {
        guard !keys.isEmpty else { return }
        object.surrogateKeys = keys
        for key in keys { tagged[key, default: [:]][ObjectIdentifier(object)] = object }
    }

    mutating func remove(_ object: CachedObject) {
        guard let keys = object.surrogateKeys else { return }
        object.surrogateKeys = nil
        for key in keys {
            tagged[key]?[ObjectIdentifier(object)] = nil
            if tagged[key]?.isEmpty == true { tagged[key] = nil }
        }
    }

    /// The objects tagged with any of `keys`.
    func objects(for keys: [String]) -> [CachedObject] {
        var seen = Set<ObjectIdentifier>()
        var result: [CachedObject] = []
        for key in keys {
            for (id, object) in tagged[key] ?? [:] where seen.insert(id).inserted { result.append(object) }
        }
        return result
    }
}
