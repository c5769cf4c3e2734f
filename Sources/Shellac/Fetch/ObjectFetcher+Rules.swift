import NIOCore
import ShellacCache
import VCL

/// The fetcher's rules that need no fetch: failing an object, stale-if-error, merging a 304
/// into the stale object, and the Vary variant a response is stored under.
extension ObjectFetcher {
    /// Fails `object`: its readers answer a 503 (with `reason`, or "Service Unavailable"), and
    /// a miss's busy object leaves the index so that the next request fetches again.
    static func fail(_ object: CachedObject, mode: Mode, store: CacheStore, reason: String? = nil) {
        if mode == .store { store.remove(object) }
        object.fail(reason: reason)
    }

    /// Whether `stale` may answer for a failed fetch at `now`: its `stale-if-error` (RFC 5861
    /// §4) window, counted from when it went stale, is still open. Varnish ignores the
    /// directive; Shellac honours it.
    static func staleIfErrorAllows(_ stale: CachedObject?, now: Double) -> Bool {
        guard let stale, stale.phase == .complete, let metadata = stale.metadata,
              let window = CacheControl(metadata.headers).staleIfError else { return false }
        let lifetime = stale.lifetime
        return now < lifetime.entered + max(lifetime.ttl, 0) + Double(window)
    }

    /// A 304 for a revalidated object, as RFC 9111 §4.3.4 (and Varnish) make it: the stored
    /// response's status and body, its fields updated with the 304's (a field the 304 sends
    /// replaces the stored one of that name). Nil when the stale object is not complete.
    static func revalidate(
        _ stale: CachedObject, with notModified: HeaderList
    ) -> (status: Int, reason: String, headers: HeaderList, body: [ByteBuffer])? {
        guard case .progress(let metadata, let chunks, .complete) = stale.read(
            from: 0, headersSeen: false, isOwner: false, listener: nil) else { return nil }
        var merged = notModified
        merged.remove("Content-Length")
        // The stored body's coding stands (Varnish's vbf_304_logic); an ETag for a body whose
        // coding the fetch changed is weak.
        merged.remove("Content-Encoding")
        if metadata.changedCoding { FetchCoding.weakenETag(&merged) }
        for field in metadata.headers where !notModified.contains(field.name) {
            merged.add(field.name, field.value)
        }
        var body = Array(chunks)
        if !metadata.inlineBody.isEmpty {
            body.insert(ByteBuffer(bytes: metadata.inlineBody), at: 0)
        }
        return (metadata.status, metadata.reason, merged, body)
    }

    /// Whether the response's Vary names a field longer than 127 bytes (Varnish's limit).
    static func hasOverlongVaryName(_ response: HeaderList) -> Bool {
        guard response.contains("Vary"), case .fields(let names) = VaryFields(response) else { return false }
        return names.contains { $0.utf8.count > 127 }
    }

    /// The request values of the fields the response's Vary names (`Vary: *` is never stored).
    /// With `http_gzip_support` Accept-Encoding is not one of them: every client gets the one
    /// stored object, inflated for those that do not accept gzip (as Varnish's `vry_cmp`).
    static func variant(of response: HeaderList, request: HeaderList, gzipSupport: Bool) -> VariantKey {
        guard case .fields(var names) = VaryFields(response), !names.isEmpty else { return VariantKey(entries: []) }
        if gzipSupport { names.removeAll { $0.lowercased() == "accept-encoding" } }
        return names.isEmpty ? VariantKey(entries: []) : VariantKey(fields: names, request: request)
    }
}

/// A fetch whose body the store cannot take (Varnish's "Could not get storage").
struct StorageFailure: Error, CustomStringConvertible {
    var description: String { "Could not get storage" }
}
