/// One piece of a parsed varnishncsa format.
enum NCSAElement: Sendable {
    /// Text written as is.
    case literal([UInt8])
    /// A value, escaped, or `missing` (escaped) when the transaction has none.
    case field(NCSAField, missing: [UInt8])
    case requestHeader(Int)
    case responseHeader(Int)
    case vclLog(Int)
    case vsl(Int)
    case requestLine
    case remoteUser
    case time(NCSATime)
    case hitMiss
    case handling
    case side
    case vxid
}

/// How a time code prints the start time, or the time taken.
enum NCSATime: Sendable {
    /// `%t`, `%{format}t`: the start time through strftime(3), local time.
    case strftime(String)
    /// `%{sec}t`, `%{msec}t`, `%{usec}t`: since the Epoch.
    case seconds, milliseconds, microseconds
    /// `%{msec_frac}t`, `%{usec_frac}t`: the fraction of the second, zero-padded.
    case millisecondFraction, microsecondFraction
    /// `%T`/`%{s}T`, `%{ms}T`, `%D`/`%{us}T`: end minus start, truncated.
    case durationSeconds, durationMilliseconds, durationMicroseconds
}

/// Reads a format as varnishncsa's `parse_format` does.
struct NCSAFormatParser {
    let format: [UInt8]
    let json: Bool
    private(set) var elements: [NCSAElement] = []
    private(set) var watches = NCSAWatches()
    private var literal: [UInt8] = []

    init(format: [UInt8], json: Bool) {
        self.format = format
        self.json = json
    }

    private var missingString: [UInt8] { json ? [] : Array("-".utf8) }
    private var missingNumber: [UInt8] { json ? Array("0".utf8) : Array("-".utf8) }

    private func at(_ i: Int) -> UInt8 { i < format.count ? format[i] : 0 }

    private func rest(from index: Int) -> String {
        String(decoding: format[min(max(0, index), format.count)...], as: UTF8.self)
    }

    mutating func parse() throws(NCSAFormatError) {
        var p = 0
        while p < format.count {
            let c = format[p]
            if c == UInt8(ascii: "\\"), p + 1 < format.count {
                p += 1
                switch format[p] {
                case UInt8(ascii: "t"): literal.append(0x09)
                case UInt8(ascii: "n"): literal.append(0x0A)
                default: literal.append(format[p])
                }
                p += 1
                continue
            }
            if c != UInt8(ascii: "%") {
                literal.append(c)
                p += 1
                continue
            }
            flushLiteral()
            p += 1
            switch at(p) {
            case UInt8(ascii: "b"): elements.append(.field(.bodyBytes, missing: missingNumber))
            case UInt8(ascii: "D"): elements.append(.time(.durationMicroseconds))
            case UInt8(ascii: "h"): elements.append(.field(.remoteHost, missing: missingString))
            case UInt8(ascii: "H"): elements.append(.field(.httpProtocol, missing: Array("HTTP/1.0".utf8)))
            case UInt8(ascii: "I"): elements.append(.field(.bytesReceived, missing: missingNumber))
            case UInt8(ascii: "l"): literal.append(UInt8(ascii: "-"))
            case UInt8(ascii: "m"): elements.append(.field(.method, missing: missingString))
            case UInt8(ascii: "O"): elements.append(.field(.bytesSent, missing: missingNumber))
            case UInt8(ascii: "q"): elements.append(.field(.queryString, missing: []))
            case UInt8(ascii: "r"): elements.append(.requestLine)
            case UInt8(ascii: "s"): elements.append(.field(.status, missing: missingNumber))
            case UInt8(ascii: "t"): elements.append(.time(.strftime("[%d/%b/%Y:%T %z]")))
            case UInt8(ascii: "T"): elements.append(.time(.durationSeconds))
            case UInt8(ascii: "u"): elements.append(.remoteUser)
            case UInt8(ascii: "U"): elements.append(.field(.urlPath, missing: missingString))
            case UInt8(ascii: "{"):
                p = try parseBraced(openedAt: p)
            default:
                throw NCSAFormatError(message: "Unknown format specifier at: \(rest(from: p - 1))")
            }
            p += 1
        }
        flushLiteral()
    }

    private mutating func flushLiteral() {
        guard !literal.isEmpty else { return }
        elements.append(.literal(literal))
        literal = []
    }

    /// `%{...}X`; returns the index of the conversion letter.
    private mutating func parseBraced(openedAt brace: Int) throws(NCSAFormatError) -> Int {
        let start = brace + 1
        var end = start
        var depth = 1
        while end < format.count {
            if format[end] == UInt8(ascii: "{") {
                depth += 1
            } else if format[end] == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { break }
            }
            end += 1
        }
        if depth > 0 { throw NCSAFormatError(message: "Unmatched bracket at: \(rest(from: brace - 1))") }
        let argument = String(decoding: format[start..<end], as: UTF8.self)
        let letter = end + 1
        switch at(letter) {
        case UInt8(ascii: "i"):
            watches.requestHeaders.append(Array((argument + ":").utf8))
            elements.append(.requestHeader(watches.requestHeaders.count - 1))
        case UInt8(ascii: "o"):
            watches.responseHeaders.append(Array((argument + ":").utf8))
            elements.append(.responseHeader(watches.responseHeaders.count - 1))
        case UInt8(ascii: "t"):
            elements.append(.time(Self.startTime(argument)))
        case UInt8(ascii: "T"):
            switch argument {
            case "s": elements.append(.time(.durationSeconds))
            case "ms": elements.append(.time(.durationMilliseconds))
            case "us": elements.append(.time(.durationMicroseconds))
            default: throw NCSAFormatError(message: "Unknown specifier: %{\(argument)}T")
            }
        case UInt8(ascii: "x"):
            try parseExtension(argument)
        default:
            throw NCSAFormatError(message: "Unknown format specifier at: \(rest(from: brace - 1))")
        }
        return letter
    }

    private static func startTime(_ argument: String) -> NCSATime {
        switch argument {
        case "sec": .seconds
        case "msec": .milliseconds
        case "msec_frac": .millisecondFraction
        case "usec": .microseconds
        case "usec_frac": .microsecondFraction
        default: .strftime(argument)
        }
    }

    /// `%{...}x`.
    private mutating func parseExtension(_ argument: String) throws(NCSAFormatError) {
        switch argument {
        case "Varnish:time_firstbyte": elements.append(.field(.timeFirstByte, missing: missingNumber))
        case "Varnish:hitmiss": elements.append(.hitMiss)
        case "Varnish:handling": elements.append(.handling)
        case "Varnish:side": elements.append(.side)
        case "Varnish:vxid": elements.append(.vxid)
        default:
            if argument.hasPrefix("VCL_Log:") {
                watches.vclLogKeys.append(Array((argument.dropFirst(8) + ":").utf8))
                elements.append(.vclLog(watches.vclLogKeys.count - 1))
            } else if argument.hasPrefix("VSL:") {
                try parseVSL(String(argument.dropFirst(4)))
            } else {
                throw NCSAFormatError(message: "Unknown formatting extension: \(argument)")
            }
        }
    }

    /// `VSL:Tag[field]`, `VSL:Tag:prefix[field]`: the first record of that tag (and prefix),
    /// whole or one field of it.
    private mutating func parseVSL(_ spec: String) throws(NCSAFormatError) {
        guard !spec.isEmpty else { throw NCSAFormatError(message: "Missing tag in VSL:") }
        var selector = Substring(spec)
        var field = 0
        if spec.hasSuffix("]") {
            guard let open = spec.lastIndex(of: "["), open != spec.startIndex,
                spec[spec.index(after: open)...] != "]"
            else { throw NCSAFormatError(message: "Syntax error: VSL:\(spec)") }
            let number = spec[spec.index(after: open)..<spec.index(before: spec.endIndex)]
            guard let value = Self.decimal(number) else {
                throw NCSAFormatError(message: "Syntax error: VSL:\(spec)")
            }
            guard value > 0, value <= 255 else {
                throw NCSAFormatError(
                    message: "Syntax error. Field specifier must be between 1 and 255: \(spec)")
            }
            field = value
            selector = spec[..<open]
        }
        var tagName = selector
        var prefix: [UInt8]?
        if let colon = selector.firstIndex(of: ":") {
            tagName = selector[..<colon]
            prefix = Array((selector[selector.index(after: colon)...] + ":").utf8)
        }
        var failure: VSLTagLookupFailure? = tagName.isEmpty ? .ambiguous : nil
        var found: VSLTag?
        if failure == nil {
            do { found = try VSLTag.named(prefix: tagName) } catch { failure = error }
        }
        guard let tag = found else {
            let problem = failure == .ambiguous ? "Tag not unique" : "Unknown log tag"
            throw NCSAFormatError(message: "\(problem): \(selector)")
        }
        if tag.hasFlags, !json {
            throw NCSAFormatError(message: "Tag \(tag.name) can contain control characters")
        }
        watches.vsl.append((tag, field, prefix))
        elements.append(.vsl(watches.vsl.count - 1))
    }

    /// C's `strtol(text, &end, 10)` when it must read all of `text`: optional white space and
    /// sign, then decimal digits.
    private static func decimal(_ text: Substring) -> Int? {
        var bytes = Array(text.utf8)[...]
        while let first = bytes.first, isCSpace(first) { bytes.removeFirst() }
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            bytes.removeFirst()
        }
        guard !bytes.isEmpty, bytes.count <= 18, bytes.allSatisfy(isDigit) else { return nil }
        let value = bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return negative ? -value : value
    }
}
