import VCL

/// What a stored response says about itself: status and its header section serialised once
/// when the object is created, so a hit copies it out without re-encoding.
///
/// Memory matters here (a million small objects): the bytes live in one exact-size array, not
/// in NIO buffers (whose capacity is rounded up to a power of two), and a small body is kept
/// inline after the header section, in the same array. The header fields are not kept a second
/// time: `headers` and `rawHeaderLines` read them in place from these bytes (304 answers,
/// bans, VCL's `obj.http.*` and `resp.http.*`).
public struct ObjectMetadata: Sendable {
    public var status: Int
    /// VCL asked for ESI (`beresp.do_esi`): the object's `esiDocument` says what to send.
    public var mayBeESI = false
    /// The stored body is gzip (checked, or made, by the fetch): a client that does not
    /// accept gzip gets it inflated.
    public var isGzip = false
    /// The fetch changed the body's coding (gzipped or gunzipped it): a 304 that refreshes the
    /// object keeps its Content-Encoding and has its ETag weakened.
    public var changedCoding = false
    /// The backend answered in HTTP/1.0 (the transaction log shows that protocol first, as
    /// Varnish does; every delivery is HTTP/1.1).
    public var fromHTTP10 = false
    /// How many header lines the header section holds (counted once, when it is made).
    public private(set) var headerLineCount: UInt16 = 0
    /// The cache key's bytes (once stored), then `HTTP/1.1 <status> <reason>\r\n` and every
    /// stored header line (CRLF-terminated, no blank line: per-delivery fields follow), then
    /// the inline body if there is one.
    public private(set) var storedBytes: [UInt8]
    /// How many of `storedBytes` are the key (0 until the object owns this metadata).
    public var keyLength: Int { Int(storedKeyLength) }
    /// How many of `storedBytes` are the header section.
    public var headerLength: Int { Int(storedHeaderLength) }
    /// The body length when the backend declared it (Content-Length), or nil while unknown.
    public var declaredLength: Int? {
        get { storedDeclaredLength < 0 ? nil : storedDeclaredLength }
        set { storedDeclaredLength = newValue ?? -1 }
    }
    // Compact storage (a million objects): lengths of key and header section fit 32 bits
    // (keys and heads are bounded by http_req_size); -1 means no declared length.
    private var storedKeyLength: UInt32 = 0
    private var storedHeaderLength: UInt32
    private var storedDeclaredLength: Int = -1
    /// The status line's length, CRLF included (the header lines start after it).
    private var storedStatusLineLength: UInt32
    /// `RawHeaderLines.nameBit` of every stored field name, or'ed: lets a hit's VCL set or
    /// unset a field the object lacks without scanning its lines.
    private let storedNameSummary: UInt64
    /// Request header values this variant was fetched with, for each field named by `Vary`.
    public var variant: VariantKey

    /// Serialises `headers` after a status line, into an array of exactly the right size.
    public init(status: Int, reason: String, headers: HeaderList, declaredLength: Int?, variant: VariantKey) {
        var size = 16 + reason.utf8.count
        for field in headers { size += field.name.utf8.count + field.value.utf8.count + 4 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        bytes.append(contentsOf: "HTTP/1.1 ".utf8)
        bytes.append(contentsOf: String(status).utf8)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: reason.utf8)
        bytes.append(contentsOf: "\r\n".utf8)
        let statusLineLength = bytes.count
        var nameSummary: UInt64 = 0
        var lineCount = 0
        for field in headers {
            lineCount += 1
            nameSummary |= RawHeaderLines.nameBit(field.name.utf8)
            bytes.append(contentsOf: field.name.utf8)
            bytes.append(contentsOf: ": ".utf8)
            bytes.append(contentsOf: field.value.utf8)
            bytes.append(contentsOf: "\r\n".utf8)
        }
        self.status = status
        self.headerLineCount = UInt16(clamping: lineCount)
        self.storedStatusLineLength = UInt32(clamping: statusLineLength)
        self.storedNameSummary = nameSummary
        self.storedBytes = bytes.count == bytes.capacity ? bytes : Array(copyingExactly: bytes)
        self.storedHeaderLength = UInt32(clamping: bytes.count)
        self.variant = variant
        self.declaredLength = declaredLength
    }

    /// Whether varnishd would have kept the backend's Content-Length with this object: it
    /// keeps it unless a fetch filter changed the body (gzip, gunzip, ESI). VCL then reads
    /// it in `resp.http` (the length sent is decided after `vcl_deliver`).
    public var keepsDeclaredLength: Bool { declaredLength != nil && !mayBeESI }

    /// The header slots (`http_max_hdr`) varnishd needs to deliver this object: one per stored
    /// line (its kept Content-Length too), five for the parts of a first line, and one more
    /// its count of them takes. With more slots than `http_max_hdr`, the delivery fails.
    public var headerSlots: Int { Int(headerLineCount) + (keepsDeclaredLength ? 1 : 0) + 6 }

    /// The header section.
    public var headerBlock: ArraySlice<UInt8> { storedBytes[keyLength..<(keyLength + headerLength)] }

    /// The body kept inline after the header section (empty when the body is in chunks).
    public var inlineBody: ArraySlice<UInt8> { storedBytes[(keyLength + headerLength)...] }
    public var hasInlineBody: Bool { storedBytes.count > keyLength + headerLength }

    /// Header section plus inline body: what the store charges for.
    public var chargedBytes: Int { storedBytes.count - keyLength }

    /// The cache key bytes kept in front.
    var keyBytes: ArraySlice<UInt8> { storedBytes[..<keyLength] }

    /// A copy that keeps `body` inline, in one exact-size array with the header section.
    public func withInlineBody(_ body: [UInt8]) -> ObjectMetadata {
        var copy = self
        copy.storedBytes = Self.joined(storedBytes, body)
        copy.declaredLength = body.count
        return copy
    }

    /// A copy with `key` in front, in the same allocation: the object's only copy of its key.
    func prefixed(withKey key: [UInt8]) -> ObjectMetadata {
        guard keyLength == 0, !key.isEmpty else { return self }
        var copy = self
        copy.storedBytes = Self.joined(key, storedBytes)
        copy.storedKeyLength = UInt32(clamping: key.count)
        return copy
    }

    /// `first` then `second` in a new array of exactly their combined size.
    private static func joined(_ first: [UInt8], _ second: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(first.count + second.count)
        bytes.append(contentsOf: first)
        bytes.append(contentsOf: second)
        return bytes
    }

    /// The status line (`HTTP/1.1 200 OK\r\n`).
    public var statusLine: ArraySlice<UInt8> { storedBytes[keyLength..<linesStart] }

    private var linesStart: Int { keyLength + Int(storedStatusLineLength) }

    /// The reason phrase of the status line: after `HTTP/1.1 `, the status and a space.
    public var reason: String {
        storedBytes.withUnsafeBufferPointer { all in
            let start = keyLength + 9
            let end = linesStart - 2
            guard let space = all[start..<end].firstIndex(of: 32) else { return "" }
            return String(decoding: UnsafeBufferPointer(rebasing: all[(space + 1)..<end]), as: UTF8.self)
        }
    }

    /// The stored header lines (after the status line), shared, not decoded: what VCL's
    /// `obj.http` and `resp.http` start from on a hit.
    public var rawHeaderLines: RawHeaderLines {
        RawHeaderLines(bytes: storedBytes, range: linesStart..<(keyLength + headerLength), nameSummary: storedNameSummary)
    }

    /// The stored header fields (decoded as they are read).
    public var headers: HeaderList { HeaderList(raw: rawHeaderLines) }
}

extension Array where Element == UInt8 {
    /// A copy whose storage is exactly `count` long (`Array(other)` would share the storage).
    init(copyingExactly other: [UInt8]) {
        self = other.withUnsafeBufferPointer { Array($0) }
    }
}
