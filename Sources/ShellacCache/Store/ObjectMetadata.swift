import NIOCore
import VCL

/// What a stored response says about itself: status, headers, and the header block
/// serialised once when the object is created, so a hit writes it without re-encoding.
public struct ObjectMetadata: Sendable {
    public var status: Int
    public var reason: String
    public var headers: HeaderList
    /// `HTTP/1.1 <status> <reason>\r\n` followed by every stored header line, each ending in
    /// CRLF, without the blank line: per-delivery fields (Age, X-Varnish, Via, framing) follow.
    public var headerBlock: ByteBuffer
    /// The body length when the backend declared it (Content-Length), or nil while unknown.
    public var declaredLength: Int?
    /// Request header values this variant was fetched with, for each field named by `Vary`.
    public var variant: VariantKey

    public init(
        status: Int, reason: String, headers: HeaderList, headerBlock: ByteBuffer,
        declaredLength: Int?, variant: VariantKey
    ) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.headerBlock = headerBlock
        self.declaredLength = declaredLength
        self.variant = variant
    }
}

