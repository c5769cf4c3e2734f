import VCL

/// A parsed HTTP/1.x request line and header section.
public struct RequestHead: Sendable {
    public var method: String
    public var uri: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: HeaderList
    public var body: BodyFraming
    public var expectsContinue: Bool
    /// Whether the client wants the connection kept open after this exchange.
    public var keepAlive: Bool
    /// The bytes of the request line and header section as they came (`ReqAcct`).
    public var headLength = 0
    /// The fields the client's `Connection` named that its head held: they do not go to the
    /// backend. VCL still reads them; a field VCL adds under a name the head did not hold is
    /// sent (Varnish marks the lines received, before vcl_recv).
    public var connectionNamed: [String] = []

    /// Whether the request carries a validator a cache may answer with 304.
    public var isConditional: Bool { headers.contains("If-None-Match") || headers.contains("If-Modified-Since") }

    public var proto: String { minorVersion == 1 ? "HTTP/1.1" : "HTTP/1.0" }
}

extension RequestHead {
    /// What Varnish does to a client's request before VCL sees it: an absolute-form target's
    /// authority replaces Host and the target becomes its path (RFC 9112 §3.2.2; a target
    /// with no path after the authority stays as it is; `https://` with `feature=+https_scheme`),
    /// and several Cache-Control lines
    /// become one, joined with ", ".
    mutating func prepareForVCL(httpsScheme: Bool = false) {
        if uri.utf8.first != UInt8(ascii: "/") {
            // `https://` too with `feature=+https_scheme`, as Varnish.
            let scheme = uri.prefix(7).lowercased() == "http://" ? 7 : httpsScheme && uri.prefix(8).lowercased() == "https://" ? 8 : 0
            if scheme > 0, let slash = uri.dropFirst(scheme).firstIndex(of: "/") {
                headers.set("Host", String(uri[uri.index(uri.startIndex, offsetBy: scheme)..<slash]))
                uri = String(uri[slash...])
            }
        }
        guard headers.contains("Cache-Control") else { return }  // (cheap when absent: a name filter)
        let cacheControl = headers.values("Cache-Control")
        if cacheControl.count > 1 { headers.set("Cache-Control", cacheControl.joined(separator: ", ")) }
    }
}

/// How a message body is delimited (RFC 9112 §6).
public enum BodyFraming: Sendable, Equatable {
    case none
    case length(Int)
    case chunked
}
