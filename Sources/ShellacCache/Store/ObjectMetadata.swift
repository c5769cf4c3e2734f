import NIOCore
import VCL

/// What a stored response says about itself: status and the header block serialised once when
/// the object is created, so a hit writes it without re-encoding.
///
/// The header fields are not kept a second time as a `HeaderList`: with a million small
/// objects that copy would cost more than the bodies. `headers` parses them back from the
/// block on the rare paths that need them (304 answers, VCL's `obj.http.*`).
public struct ObjectMetadata: Sendable {
    public var status: Int
    /// `HTTP/1.1 <status> <reason>\r\n` followed by every stored header line, each ending in
    /// CRLF, without the blank line: per-delivery fields (Age, X-Varnish, Via, framing) follow.
    public var headerBlock: ByteBuffer
    /// The body length when the backend declared it (Content-Length), or nil while unknown.
    public var declaredLength: Int?
    /// Request header values this variant was fetched with, for each field named by `Vary`.
    public var variant: VariantKey

    public init(status: Int, headerBlock: ByteBuffer, declaredLength: Int?, variant: VariantKey) {
        self.status = status
        self.headerBlock = headerBlock
        self.declaredLength = declaredLength
        self.variant = variant
    }

    /// Serialises `headers` after a status line into a block of exactly the right size.
    public init(status: Int, reason: String, headers: HeaderList, declaredLength: Int?, variant: VariantKey,
                allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        var size = 16 + reason.utf8.count
        for field in headers { size += field.name.utf8.count + field.value.utf8.count + 4 }
        var block = allocator.buffer(capacity: size)
        block.writeStaticString("HTTP/1.1 ")
        block.writeString(String(status))
        block.writeStaticString(" ")
        block.writeString(reason)
        block.writeStaticString("\r\n")
        for field in headers {
            block.writeString(field.name)
            block.writeStaticString(": ")
            block.writeString(field.value)
            block.writeStaticString("\r\n")
        }
        self.init(status: status, headerBlock: block, declaredLength: declaredLength, variant: variant)
    }

    /// The reason phrase of the status line.
    public var reason: String {
        let line = statusAndFieldLines().first ?? ""
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? String(parts[2]) : ""
    }

    /// The stored header fields, parsed back from the block.
    public var headers: HeaderList {
        var list = HeaderList()
        for line in statusAndFieldLines().dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop(while: { $0 == " " })
            list.add(String(line[..<colon]), String(value))
        }
        return list
    }

    private func statusAndFieldLines() -> [Substring] {
        let text = String(buffer: headerBlock)
        return text.split(separator: "\r\n", omittingEmptySubsequences: true)
    }
}
