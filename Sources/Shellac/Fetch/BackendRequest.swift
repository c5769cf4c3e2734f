import NIOCore
import ShellacCache
import VCL

/// The request a miss or a pass sends to the backend, as Varnish first makes `bereq` from
/// `req` (before `vcl_backend_fetch` sees it): hop-by-hop fields dropped, X-Forwarded-For,
/// X-Varnish and Via added; a miss asks for the whole object with GET.
struct BackendRequest {
    var method: String
    var uri: String
    var headers: HeaderList
    /// The client's body, for a miss as for a pass (as Varnish sends it): a whole one is sent
    /// again on every attempt, a streamed one once.
    var body: RequestBody?
    /// A pass: the response is for this client only (`bereq.uncacheable`).
    var isPass: Bool
    /// The client's address and the one it connected to, for a `.proxy_header` backend.
    var addresses: (client: SocketAddress?, server: SocketAddress?) = (nil, nil)

    /// Whether a miss with `stale` at hand asks the backend conditionally (its IMS candidate).
    static func revalidates(_ stale: ObjectMetadata) -> Bool {
        stale.status == 200 && (stale.headers["Last-Modified"] != nil || stale.headers["ETag"] != nil)
    }

    init(
        client head: RequestHead, body clientBody: RequestBody?, mode: ObjectFetcher.Mode, clientIP: String?, xid: UInt64,
        stale: ObjectMetadata? = nil, gzipSupport: Bool = true
    ) {
        var headers = HopByHop.endToEnd(
            head.headers, alsoDropping: ["content-length", "expect", "accept-ranges", "http2-settings"],
            connectionNamed: head.connectionNamed)
        if mode == .store {
            // A miss fetches the whole object for everyone: the client's conditions, ranges,
            // cache directives and proxy credentials apply to its own delivery, not to the
            // fetch (Varnish's fetch filter drops the same).
            method = "GET"
            for name in Self.missDropped { headers.remove(name) }
            // A stale 200 with a validator is revalidated, as Varnish does (its IMS candidates).
            if let stale, Self.revalidates(stale) {
                let staleHeaders = stale.headers
                if let modified = staleHeaders["Last-Modified"] { headers.add("If-Modified-Since", modified) }
                if let tag = staleHeaders["ETag"] { headers.add("If-None-Match", tag) }
            }
            // Stored gzip serves every client (delivery inflates it where needed), so a miss
            // asks for gzip whatever this client accepts, as Varnish does.
            // Without http_gzip_support the client's is passed on, reduced to gzip-or-not (as
            // Vary matches it), where Varnish passes it on as it is.
            if gzipSupport {
                headers.set("Accept-Encoding", "gzip")
            } else if let encoding = AcceptEncoding.normalized(headers["Accept-Encoding"]) {
                headers.set("Accept-Encoding", encoding)
            } else {
                headers.remove("Accept-Encoding")
            }
        } else {
            method = head.method
        }
        Self.appendForwardedFor(&headers, clientIP: clientIP)
        headers.set("X-Varnish", String(xid))
        headers.add("Via", "1.1 shellac")
        // The client's body goes with the fetch, a miss's too (Varnish sends it whatever the
        // method: `bereq.method` may be set back to POST in vcl_backend_fetch).
        body = clientBody
        if let body, body.isStreaming && body.declaredLength == nil {
            headers.add("Transfer-Encoding", "chunked")  // streamed as it arrives
        } else if let body, let length = body.declaredLength, length > 0 {
            headers.add("Content-Length", String(length))
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            headers.add("Content-Length", "0")
        }
        self.uri = head.uri
        self.headers = headers
        self.isPass = mode == .pass
    }

    static let missDropped = [
        "If-None-Match", "If-Modified-Since", "If-Range", "Range", "If-Match", "If-Unmodified-Since", "Cache-Control",
        "Content-Range", "Proxy-Authenticate", "Proxy-Authorization",
    ]

    /// `X-Forwarded-For`: every line the client sent, combined, then the client's address.
    static func appendForwardedFor(_ headers: inout HeaderList, clientIP: String?) {
        let clientIP = clientIP ?? "0.0.0.0"
        let earlier = headers.values("X-Forwarded-For")
        headers.set("X-Forwarded-For", earlier.isEmpty ? clientIP : earlier.joined(separator: ", ") + ", " + clientIP)
    }
}
