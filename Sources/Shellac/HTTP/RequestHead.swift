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

    /// Whether the request carries a validator a cache may answer with 304.
    public var isConditional: Bool { headers.contains("If-None-Match") || headers.contains("If-Modified-Since") }

    public var proto: String { minorVersion == 1 ? "HTTP/1.1" : "HTTP/1.0" }
}

/// How a message body is delimited (RFC 9112 §6).
public enum BodyFraming: Sendable, Equatable {
    case none
    case length(Int)
    case chunked
}
