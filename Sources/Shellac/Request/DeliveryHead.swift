import NIOCore
import ShellacCache

/// The head of a stored response as the built-in `vcl_deliver` leaves it.
enum DeliveryHead {
    /// The stored head as the built-in `vcl_deliver` leaves it: the stored block, then Age,
    /// X-Varnish (with the object's transaction on a hit) and Via.
    static func writeStored(
        _ object: CachedObject, metadata: ObjectMetadata, xid: UInt64, isHit: Bool, now: Double,
        into out: inout ByteBuffer
    ) {
        out.writeBytes(metadata.headerBlock)
        out.writeStaticString("Age: ")
        out.writeDecimal(object.lifetime.age(at: now))
        out.writeStaticString("\r\nX-Varnish: ")
        out.writeDecimal(xid)
        if isHit {
            out.writeStaticString(" ")
            out.writeDecimal(object.xid)
        }
        out.writeStaticString("\r\nVia: 1.1 shellac\r\n")
    }
}
