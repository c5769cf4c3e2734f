#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A format varnishncsa refuses, worded as varnishncsa words it.
public struct NCSAFormatError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}

/// varnishncsa's log lines (bin/varnishncsa/varnishncsa.c, Varnish 7.1).
///
/// Codes: `%b %D %H %h %I %{X}i %l %m %{X}o %O %q %r %s %t %{X}t %T %{X}T %U %u %{X}x`, with
/// `%{X}x` one of `Varnish:time_firstbyte`, `Varnish:hitmiss`, `Varnish:handling`,
/// `Varnish:side`, `Varnish:vxid`, `VCL_Log:key`, `VSL:Tag[field]`, `VSL:Tag:prefix[field]`;
/// `\n`, `\t` and `\X` escapes. Times use the local time zone, like varnishncsa.
///
/// As in varnishncsa: a header named twice gives its last value and `ReqUnset` is not looked
/// at; a transaction with no usable `Start:` timestamp gets no line if the format shows a
/// time; a restarted request (`VCL_return restart`) gets no line; values are escaped
/// (`\"`, `\\`, `\n`, `\xHH` for other bytes outside printable ASCII; JSON escapes with
/// `json`).
public struct NCSAFormat: Sendable {
    /// NCSA combined, varnishncsa's default.
    public static let defaultFormat = #"%h %l %u %t "%r" %s %b "%{Referer}i" "%{User-agent}i""#

    /// `.client` (`-c`, the default), `.backend` (`-b`), or `.none` for both (`-c -b`).
    public let side: VSLSide
    /// `-E`: ESI subrequests get lines too (and, as in varnishncsa, client requests do even
    /// with `side: .backend`).
    public let includeESI: Bool
    /// `-j`: JSON escaping; missing strings are empty and missing numbers 0.
    public let json: Bool

    private let elements: [NCSAElement]
    private let watches: NCSAWatches

    public init(
        _ format: String = NCSAFormat.defaultFormat, side: VSLSide = .client, includeESI: Bool = false,
        json: Bool = false
    ) throws(NCSAFormatError) {
        self.side = side
        self.includeESI = includeESI
        self.json = json
        var parser = NCSAFormatParser(format: Array(format.utf8), json: json)
        try parser.parse()
        elements = parser.elements
        watches = parser.watches
    }

    /// The line for one transaction, without its newline; nil when varnishncsa would write
    /// none (a session, a transaction of the other side, an ESI subrequest without
    /// `includeESI`, a restarted request, or no start time for a time code).
    public func line(for transaction: VSLTransaction) -> String? {
        guard wants(transaction) else { return nil }
        return render(transaction).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The lines varnishncsa writes for a group. In `-g request` it writes one for every
    /// request and backend request of the group, whichever side was asked for; in `-g vxid`
    /// the group's transaction as `line(for:)` decides.
    public func lines(for group: VSLGroup, grouping: VSLGrouping = .vxid) -> [String] {
        guard grouping == .request else { return line(for: group.root).map { [$0] } ?? [] }
        return group.transactions.compactMap { transaction in
            guard transaction.type == .request || transaction.type == .backendRequest else { return nil }
            return render(transaction).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    private func wants(_ transaction: VSLTransaction) -> Bool {
        switch transaction.type {
        case .request:
            return (side != .backend || includeESI) && (transaction.reason != .esi || includeESI)
        case .backendRequest:
            return side != .client
        default:
            return false
        }
    }

    // MARK: - Rendering

    private func render(_ transaction: VSLTransaction) -> [UInt8]? {
        let fields = NCSAFields(transaction, watches: watches, json: json)
        if fields.skip { return nil }
        var line: [UInt8] = []
        for element in elements {
            switch element {
            case .literal(let text):
                line += text
            case .field(let field, let missing):
                quote(fields[field] ?? missing[...], into: &line)
            case .requestHeader(let index):
                quote(fields.requestHeaders[index] ?? missingString[...], into: &line)
            case .responseHeader(let index):
                quote(fields.responseHeaders[index] ?? missingString[...], into: &line)
            case .vclLog(let index):
                quote(fields.vclLogs[index] ?? [], into: &line)
            case .vsl(let index):
                quote(fields.vsl[index] ?? missingString[...], into: &line)
            case .requestLine:
                requestLine(fields, into: &line)
            case .remoteUser:
                quote(remoteUser(fields) ?? [UInt8(ascii: "-")], into: &line)
            case .time(let time):
                guard let text = timeText(time, fields) else { return nil }
                line += text.utf8
            case .hitMiss:
                line += fields.hitMiss.utf8
            case .handling:
                line += fields.handling.utf8
            case .side:
                line += transaction.type == .request ? [UInt8(ascii: "c")] : [UInt8(ascii: "b")]
            case .vxid:
                line += String(Int32(truncatingIfNeeded: transaction.vxid)).utf8
            }
        }
        return line
    }

    private var missingString: [UInt8] { json ? [] : [UInt8(ascii: "-")] }

    /// `%r`: method, then `http://` and the Host header (or `http://localhost`), path, query,
    /// then the protocol (HTTP/1.0 when unknown).
    private func requestLine(_ fields: NCSAFields, into line: inout [UInt8]) {
        quote(fields[.method] ?? [UInt8(ascii: "-")], into: &line)
        line.append(0x20)
        if let host = fields[.hostHeader] {
            if !host.starts(with: "http://".utf8) { line += "http://".utf8 }
            quote(host, into: &line)
        } else {
            line += "http://localhost".utf8
        }
        quote(fields[.urlPath] ?? [], into: &line)
        quote(fields[.queryString] ?? [], into: &line)
        line.append(0x20)
        quote(fields[.httpProtocol] ?? Array("HTTP/1.0".utf8)[...], into: &line)
    }

    /// `%u`: the user name of a Basic Authorization header, decoded as varnishncsa decodes it
    /// (into 127 bytes at most); nil when there is none or it does not decode.
    private func remoteUser(_ fields: NCSAFields) -> ArraySlice<UInt8>? {
        guard let encoded = fields[.basicAuthorization], let decoded = decodeBase64(encoded) else { return nil }
        let text = decoded.prefix { $0 != 0 }
        return text.prefix { $0 != UInt8(ascii: ":") }
    }

    /// varnishncsa's base64 decoding: whole groups of 4 characters, `=` as zero bits, 3
    /// bytes out per group; any other character, or more than 127 bytes, fails.
    private func decodeBase64(_ encoded: ArraySlice<UInt8>) -> [UInt8]? {
        func sextet(_ c: UInt8) -> UInt32? {
            switch c {
            case 0x41...0x5A: UInt32(c - 0x41)
            case 0x61...0x7A: UInt32(c - 0x61 + 26)
            case 0x30...0x39: UInt32(c - 0x30 + 52)
            case UInt8(ascii: "+"): 62
            case UInt8(ascii: "/"): 63
            case UInt8(ascii: "="): 0
            default: nil
            }
        }
        var out: [UInt8] = []
        var bits: UInt32 = 0
        var index = encoded.startIndex
        while index < encoded.endIndex {
            var taken = 0
            while index < encoded.endIndex, taken < 4 {
                guard let value = sextet(encoded[index]) else { return nil }
                bits = (bits << 6) | value
                index += 1
                taken += 1
            }
            for _ in 0..<3 {
                if out.count >= 127 { return nil }
                out.append(UInt8(truncatingIfNeeded: bits >> 16))
                bits <<= 8
            }
        }
        return out
    }

    private func timeText(_ time: NCSATime, _ fields: NCSAFields) -> String? {
        guard let startText = fields[.timeStart], let start = cDouble(startText) else { return nil }
        let end = fields[.timeEnd].flatMap(cDouble) ?? start
        switch time {
        case .strftime(let format):
            return strftimeLocal(format, Int(clamping: VSLNumber.truncated(start.rounded(.down))))
        case .seconds: return String(VSLNumber.truncated(start))
        case .milliseconds: return String(VSLNumber.truncated(start * 1e3))
        case .microseconds: return String(VSLNumber.truncated(start * 1e6))
        case .millisecondFraction: return zeroPadded(VSLNumber.truncated(fraction(start) * 1e3), 3)
        case .microsecondFraction: return zeroPadded(VSLNumber.truncated(fraction(start) * 1e6), 6)
        case .durationSeconds: return String(VSLNumber.truncated(end - start))
        case .durationMilliseconds: return String(VSLNumber.truncated((end - start) * 1e3))
        case .durationMicroseconds: return String(VSLNumber.truncated((end - start) * 1e6))
        }
    }

    /// The fractional part, with the sign of the value (C's `modf`).
    private func fraction(_ value: Double) -> Double {
        value - value.rounded(.towardZero)
    }

    /// printf's `%0Nd`.
    private func zeroPadded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let sign = value < 0 ? "-" : ""
        let padding = max(0, width - digits.count - sign.count)
        return sign + String(repeating: "0", count: padding) + digits
    }

    /// C's `strtod` over exactly these bytes; nil unless all of them are the number (and not
    /// NaN, which varnishncsa treats as missing).
    private func cDouble(_ bytes: ArraySlice<UInt8>) -> Double? {
        guard !bytes.isEmpty, !bytes.contains(0) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.withCString { start -> Double? in
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(start, &end)
            guard let end, end - UnsafeMutablePointer(mutating: start) == bytes.count, !value.isNaN else {
                return nil
            }
            return value
        }
    }

    private func strftimeLocal(_ format: String, _ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return "" }
        var buffer = [CChar](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBufferPointer { out in
            strftime(out.baseAddress, out.count, format, &parts)
        }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// varnishncsa's escaping (VSB_quote with ESCHEX, or JSON).
    private func quote(_ bytes: some Collection<UInt8>, into line: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""):
                line += [UInt8(ascii: "\\"), byte]
            case 0x0A: line += "\\n".utf8
            case 0x0D: line += "\\r".utf8
            case 0x09: line += "\\t".utf8
            case 0x0B: line += "\\v".utf8
            case 0x20...0x7E: line.append(byte)
            default:
                if json {
                    if byte > 0x7E { line.append(byte) } else { line += "\\u00\(hex2(byte))".utf8 }
                } else {
                    line += "\\x\(hex2(byte))".utf8
                }
            }
        }
    }
}
