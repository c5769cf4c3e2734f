/// Reads a cache key back into its `hash_data` parts. `CacheKey.bytes` holds each part
/// followed by a 0 byte; the default hash is the URL then the Host (or the server address).
struct CacheKeyParts {
    let parts: [String]

    init(_ key: CacheKey) {
        parts = key.bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// The first part: the request URL under the default hash.
    var url: String? { parts.first }

    /// The second part: the Host header under the default hash.
    var host: String? { parts.count > 1 ? parts[1] : nil }
}
