/// The values varnishncsa's fixed format codes read from a transaction.
enum NCSAField: Int, CaseIterable {
    /// `%H`: ReqProtocol / BereqProtocol, first.
    case httpProtocol
    /// `%U`: the URL up to `?`, first.
    case urlPath
    /// `%q`: the URL from `?` on, first.
    case queryString
    /// `%b`: field 5 of ReqAcct / BereqAcct.
    case bodyBytes
    /// `%h`: field 1 of ReqStart (first), or field 3 of BackendOpen (last).
    case remoteHost
    /// `%m`: ReqMethod / BereqMethod, first.
    case method
    /// `%s`: RespStatus / BerespStatus, last.
    case status
    /// `%I`: field 3 of ReqAcct / BereqAcct, or of PipeAcct.
    case bytesReceived
    /// `%O`: field 6 of ReqAcct / BereqAcct, or field 4 of PipeAcct.
    case bytesSent
    /// The first field of the `Start:` timestamp.
    case timeStart
    /// The first field of the `Resp:`, `PipeSess:` or `BerespBody:` timestamp.
    case timeEnd
    /// `%{Varnish:time_firstbyte}x`: the second field of `Process:`, `Pipe:` or `Beresp:`.
    case timeFirstByte
    /// The first Host header.
    case hostHeader
    /// What follows `Basic ` in the first Authorization header.
    case basicAuthorization
}

/// What the format's watched values need: header names, VCL_Log keys and VSL selections.
struct NCSAWatches: Sendable {
    /// `%{Name}i` keys, as `Name:`.
    var requestHeaders: [[UInt8]] = []
    /// `%{Name}o` keys, as `Name:`.
    var responseHeaders: [[UInt8]] = []
    /// `%{VCL_Log:key}x` keys, as `key:`.
    var vclLogKeys: [[UInt8]] = []
    /// `%{VSL:Tag:prefix[field]}x`.
    var vsl: [(tag: VSLTag, field: Int, prefix: [UInt8]?)] = []
}

/// One transaction's records read as varnishncsa reads them (bin/varnishncsa, dispatch_f):
/// each value is taken from the first record that has it, except the status, BackendOpen's
/// host and headers named in the format, where the last wins. `ReqUnset`/`RespUnset` are not
/// looked at, as in varnishncsa.
struct NCSAFields {
    var fields = [ArraySlice<UInt8>?](repeating: nil, count: NCSAField.allCases.count)
    var requestHeaders: [ArraySlice<UInt8>?]
    var responseHeaders: [ArraySlice<UInt8>?]
    var vclLogs: [ArraySlice<UInt8>?]
    var vsl: [ArraySlice<UInt8>?]
    var hitMiss = "-"
    var handling = "-"
    /// No line for this transaction: it was restarted, or (in JSON mode) garbage.
    var skip = false

    init(_ transaction: VSLTransaction, watches: NCSAWatches, json: Bool) {
        requestHeaders = Array(repeating: nil, count: watches.requestHeaders.count)
        responseHeaders = Array(repeating: nil, count: watches.responseHeaders.count)
        vclLogs = Array(repeating: nil, count: watches.vclLogKeys.count)
        vsl = Array(repeating: nil, count: watches.vsl.count)
        for record in transaction.records {
            if skip { break }
            let tag = record.tag
            if tag.hasFlags, !json { continue }
            var value = record.payload[...]
            if !tag.hasFlags {
                while value.last == 0 { value.removeLast() }
            } else if tag.isUnsafe {
                // Varnish stores these with their NUL and varnishncsa keeps it (JSON mode).
                value.append(0)
            }
            read(tag, value, watches)
            readVSL(tag, value, watches)
        }
    }

    subscript(field: NCSAField) -> ArraySlice<UInt8>? { fields[field.rawValue] }

    private mutating func read(_ tag: VSLTag, _ value: ArraySlice<UInt8>, _ watches: NCSAWatches) {
        switch tag {
        case .httpGarbage:
            skip = true
        case .pipeAcct:
            takeFields(value, [(3, .bytesReceived), (4, .bytesSent)], force: false)
        case .backendOpen:
            takeFields(value, [(3, .remoteHost)], force: true)
        case .reqStart:
            takeFields(value, [(1, .remoteHost)], force: false)
        case .reqMethod, .bereqMethod:
            takeLine(value, .method)
        case .reqURL, .bereqURL:
            let mark = value.firstIndex(of: UInt8(ascii: "?")) ?? value.endIndex
            takeLine(value[..<mark], .urlPath)
            takeLine(value[mark...], .queryString)
        case .reqProtocol, .bereqProtocol:
            takeLine(value, .httpProtocol)
        case .respStatus, .berespStatus:
            takeLine(value, .status, force: true)
        case .reqAcct, .bereqAcct:
            takeFields(value, [(3, .bytesReceived), (5, .bodyBytes), (6, .bytesSent)], force: false)
        case .timestamp:
            if let rest = afterPrefix("Start:", value) {
                takeFields(rest, [(1, .timeStart)], force: false)
            } else if let rest = afterPrefix("Resp:", value) ?? afterPrefix("PipeSess:", value)
                ?? afterPrefix("BerespBody:", value)
            {
                takeFields(rest, [(1, .timeEnd)], force: false)
            } else if let rest = afterPrefix("Process:", value) ?? afterPrefix("Pipe:", value)
                ?? afterPrefix("Beresp:", value)
            {
                takeFields(rest, [(2, .timeFirstByte)], force: false)
            }
        case .reqHeader, .bereqHeader:
            Self.takeHeaders(value, watches.requestHeaders, into: &requestHeaders)
            if let auth = afterPrefix("Authorization:", value), let credentials = afterPrefix("basic ", auth) {
                takeLine(credentials, .basicAuthorization)
            } else if let host = afterPrefix("Host:", value) {
                takeLine(host, .hostHeader)
            }
        case .respHeader, .berespHeader:
            Self.takeHeaders(value, watches.responseHeaders, into: &responseHeaders)
        case .vclCall:
            switch String(decoding: value.prefix { $0 != 0 }, as: UTF8.self).lowercased() {
            case "recv": (hitMiss, handling) = ("-", "-")
            case "hit": (hitMiss, handling) = ("hit", "hit")
            case "miss": (hitMiss, handling) = ("miss", "miss")
            case "pass": (hitMiss, handling) = ("miss", "pass")
            case "synth": (hitMiss, handling) = ("miss", "synth")
            default: break
            }
        case .vclReturn:
            switch String(decoding: value.prefix { $0 != 0 }, as: UTF8.self).lowercased() {
            case "pipe": (hitMiss, handling) = ("miss", "pipe")
            case "restart": skip = true
            default: break
            }
        case .vclLog:
            for (index, key) in watches.vclLogKeys.enumerated()
            where value.count >= key.count && value.prefix(key.count).elementsEqual(key) {
                Self.takeLine(value.dropFirst(key.count), into: &vclLogs[index], force: false)
            }
        default:
            break
        }
    }

    private mutating func readVSL(_ tag: VSLTag, _ value: ArraySlice<UInt8>, _ watches: NCSAWatches) {
        for (index, watch) in watches.vsl.enumerated() where watch.tag == tag {
            var rest = value
            if let prefix = watch.prefix {
                guard let after = afterPrefix(prefix, value) else { continue }
                rest = after
            }
            if watch.field == 0 {
                Self.takeLine(rest, into: &vsl[index], force: false)
            } else {
                var slot = [vsl[index]]
                Self.fields(rest, [(watch.field, 0)], into: &slot, force: false)
                vsl[index] = slot[0]
            }
        }
    }

    private mutating func takeLine(_ value: ArraySlice<UInt8>, _ field: NCSAField, force: Bool = false) {
        Self.takeLine(value, into: &fields[field.rawValue], force: force)
    }

    /// Keeps `value` less surrounding white space, unless a value is kept and not `force`.
    private static func takeLine(_ value: ArraySlice<UInt8>, into slot: inout ArraySlice<UInt8>?, force: Bool) {
        if slot != nil, !force { return }
        var trimmed = value
        while let first = trimmed.first, isCSpace(first) { trimmed.removeFirst() }
        while let last = trimmed.last, isCSpace(last) { trimmed.removeLast() }
        slot = trimmed
    }

    private mutating func takeFields(_ value: ArraySlice<UInt8>, _ wanted: [(Int, NCSAField)], force: Bool) {
        Self.fields(value, wanted.map { ($0.0, $0.1.rawValue) }, into: &fields, force: force)
    }

    /// Keeps the numbered white-space-separated fields (1-based, ascending) in the slots.
    private static func fields(
        _ value: ArraySlice<UInt8>, _ wanted: [(field: Int, slot: Int)], into slots: inout [ArraySlice<UInt8>?],
        force: Bool
    ) {
        var position = value.startIndex
        var seen = 0
        for (field, slot) in wanted {
            var start = position
            var end = position
            while seen < field {
                while position < value.endIndex, isCSpace(value[position]) { position += 1 }
                start = position
                while position < value.endIndex, !isCSpace(value[position]) { position += 1 }
                end = position
                seen += 1
            }
            guard start < value.endIndex, end > start else { continue }
            if slots[slot] == nil || force { slots[slot] = value[start..<end] }
        }
    }

    private static func takeHeaders(
        _ value: ArraySlice<UInt8>, _ keys: [[UInt8]], into slots: inout [ArraySlice<UInt8>?]
    ) {
        for (index, key) in keys.enumerated() {
            guard let rest = afterPrefix(key, value) else { continue }
            Self.takeLine(rest, into: &slots[index], force: true)
        }
    }
}

/// What follows `prefix` (compared ignoring case) and any spaces, or nil when `value` does
/// not start with it (varnishncsa's `isprefix`).
func afterPrefix(_ prefix: String, _ value: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
    afterPrefix(Array(prefix.utf8), value)
}

func afterPrefix(_ prefix: [UInt8], _ value: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
    guard value.count >= prefix.count, asciiCaseEqual(value.prefix(prefix.count), prefix[...]) else {
        return nil
    }
    var rest = value.dropFirst(prefix.count)
    while rest.first == 0x20 { rest.removeFirst() }
    return rest
}
