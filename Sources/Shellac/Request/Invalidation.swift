import ShellacCache
import VCL

/// Invalidation by unsafe methods (RFC 9111 §4.4), which Varnish and nginx both lack: a
/// non-error response to POST, PUT, DELETE or PATCH that went to the backend makes the
/// stored responses for its URL stale, and those for its `Location` and `Content-Location`
/// when they are on the same host. Keys are the default ones (URL and Host, as the built-in
/// `vcl_hash` makes them); every Vary variant of them goes.
extension RequestStateMachine {
    static let unsafeMethods: Set<String> = ["POST", "PUT", "DELETE", "PATCH"]

    /// After the response head to an unsafe request that went to the backend. `response` is
    /// the object that response fills: when VCL made it cacheable (a miss), it is the
    /// response to this very request, stored after the change, and stays.
    func invalidateAfterUnsafeRequest(status: Int, headers: HeaderList, response: CachedObject) {
        guard Self.unsafeMethods.contains(request.method), (200..<400).contains(status) else { return }
        invalidate(path: request.uri, keeping: response)
        let host = NativeBuiltin.hashHost(request.headers)
        for name in ["Location", "Content-Location"] {
            guard let value = headers[name], let path = Self.sameHostPath(value, host: host) else { continue }
            invalidate(path: path, keeping: response)
        }
    }

    private func invalidate(path: String, keeping response: CachedObject) {
        var head = request
        head.uri = path
        if server.store.purge(key: BuiltinPolicy.shared.hash(head) { serverAddress }, keeping: response) > 0 {
            counters.increment(.invalidations)
        }
    }

    /// The path of a `Location` on the request's own host: a path, or an absolute URL whose
    /// authority is that host. Nil for another host.
    static func sameHostPath(_ value: String, host: String?) -> String? {
        if value.hasPrefix("/") { return value.hasPrefix("//") ? nil : value }
        for scheme in ["http://", "https://"] where value.lowercased().hasPrefix(scheme) {
            let rest = value.dropFirst(scheme.count)
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            guard let host, authority.lowercased() == host.lowercased() else { return nil }
            let path = rest.dropFirst(authority.count)
            return path.isEmpty ? "/" : String(path)
        }
        return nil
    }
}
