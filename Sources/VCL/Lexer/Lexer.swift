/// Turns VCL source bytes into tokens with exact positions, reporting lexical errors.
struct Lexer {
    let file: SourceFile
    let sink: DiagnosticSink
    /// `vcc_allow_inline_c`: a `C{ }C` block with nothing but C comments and white space is
    /// skipped instead of refused (Shellac never runs C, so any other block is still refused).
    let allowInlineC: Bool
    private var offset = 0
    private var bytes: [UInt8] { file.bytes }

    init(file: SourceFile, sink: DiagnosticSink, allowInlineC: Bool = false) {
        self.file = file
        self.sink = sink
        self.allowInlineC = allowInlineC
    }

    /// Lexes the whole file; the last token is always `.endOfFile`.
    static func tokenize(_ file: SourceFile, sink: DiagnosticSink, allowInlineC: Bool = false) -> [Token] {
        var lexer = Lexer(file: file, sink: sink, allowInlineC: allowInlineC)
        var tokens: [Token] = []
        while true {
            let token = lexer.next()
            tokens.append(token)
            if token.kind == .endOfFile { return tokens }
        }
    }

    private func peek(_ ahead: Int = 0) -> UInt8 {
        let index = offset + ahead
        return index < bytes.count ? bytes[index] : 0
    }

    private static let twoCharSymbols: Set<String> = [
        "==", "!=", "!~", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=", "<<", ">>",
    ]
    private static let oneCharSymbols: Set<UInt8> = Set("{}();,.=~!<>+-*/%".utf8)

    static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }

    static func isIdentBody(_ c: UInt8) -> Bool {
        isIdentStart(c) || isDigit(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private mutating func skipTrivia() {
        while offset < bytes.count {
            let c = peek()
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
                offset += 1
            } else if c == UInt8(ascii: "#") || (c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/")) {
                while offset < bytes.count, peek() != UInt8(ascii: "\n") { offset += 1 }
            } else if c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
                let start = offset
                offset += 2
                while offset < bytes.count, !(peek() == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) {
                    // Comments do not nest: a /* inside one is a mistake vcc refuses.
                    if peek() == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
                        sink.error(file.location(at: offset), "/* ... */ comment contains /*")
                    }
                    offset += 1
                }
                if offset >= bytes.count {
                    sink.error(file.location(at: start), "Unterminated /* ... */ comment")
                } else {
                    offset += 2
                }
            } else {
                return
            }
        }
    }

    mutating func next() -> Token {
        skipTrivia()
        let start = offset
        let location = file.location(at: start)
        guard offset < bytes.count else { return Token(kind: .endOfFile, location: location) }
        let c = peek()

        if c == UInt8(ascii: "\"") && peek(1) == UInt8(ascii: "\"") && peek(2) == UInt8(ascii: "\"") {
            return lexDelimitedString(open: 3, close: Array("\"\"\"".utf8), location: location)
        }
        if c == UInt8(ascii: "{") && peek(1) == UInt8(ascii: "\"") {
            return lexDelimitedString(open: 2, close: Array("\"}".utf8), location: location)
        }
        if c == UInt8(ascii: "\"") { return lexString(location: location) }
        if c == UInt8(ascii: "C") && peek(1) == UInt8(ascii: "{") {
            offset += 2
            let body = offset
            while offset < bytes.count, !(peek() == UInt8(ascii: "}") && peek(1) == UInt8(ascii: "C")) { offset += 1 }
            let code = bytes[body..<offset]
            offset = min(bytes.count, offset + 2)
            if !allowInlineC {
                sink.error(location, "Inline-C not allowed (vcc_allow_inline_c is off; Shellac never runs C)")
            } else if !Lexer.isOnlyCComments(code) {
                sink.error(location, "Inline-C not allowed: Shellac never runs C, so only a C{ }C block with nothing but comments is accepted")
            }
            return next()
        }
        if c == UInt8(ascii: ":") { return lexBlob(location: location) }
        if Lexer.isIdentStart(c) {
            while offset < bytes.count, Lexer.isIdentBody(peek()) { offset += 1 }
            // A trailing dot is never part of a name.
            while offset > start + 1, bytes[offset - 1] == UInt8(ascii: ".") { offset -= 1 }
            let name = text(start, offset)
            if Lexer.headerRoots.contains(name), peek() == UInt8(ascii: "."), let header = lexQuotedHeader() {
                var full = name + "." + header
                // A method may follow the quoted name: `resp.http."X".upper()`.
                if peek() == UInt8(ascii: "."), Lexer.isIdentStart(peek(1)) {
                    let method = offset
                    offset += 1
                    while offset < bytes.count, Lexer.isIdentBody(peek()) { offset += 1 }
                    while bytes[offset - 1] == UInt8(ascii: ".") { offset -= 1 }
                    full += text(method, offset)
                }
                return Token(kind: .identifier(full), location: location)
            }
            return Token(kind: .identifier(name), location: location)
        }
        if Lexer.isDigit(c) { return lexNumber(location: location) }
        if offset + 1 < bytes.count {
            let pair = text(offset, offset + 2)
            if Lexer.twoCharSymbols.contains(pair) {
                offset += 2
                return Token(kind: .symbol(pair), location: location)
            }
        }
        if Lexer.oneCharSymbols.contains(c) {
            offset += 1
            return Token(kind: .symbol(String(UnicodeScalar(c))), location: location)
        }
        offset += 1
        let shown = c >= 0x20 && c < 0x7f ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
        sink.error(location, "Syntax error: unexpected character '\(shown)'")
        return next()
    }

    private func text(_ from: Int, _ to: Int) -> String {
        String(decoding: bytes[from..<to], as: UTF8.self)
    }

    private mutating func lexString(location: SourceLocation) -> Token {
        offset += 1
        let bodyStart = offset
        while offset < bytes.count {
            let c = peek()
            if c == UInt8(ascii: "\"") {
                let value = text(bodyStart, offset)
                offset += 1
                return Token(kind: .string(value), location: location)
            }
            if c == UInt8(ascii: "\n") { break }
            offset += 1
        }
        sink.error(location, "Unterminated string (use {\"...\"} for strings with newlines)")
        return Token(kind: .string(text(bodyStart, offset)), location: location)
    }

    private mutating func lexDelimitedString(open: Int, close: [UInt8], location: SourceLocation) -> Token {
        offset += open
        let bodyStart = offset
        while offset + close.count <= bytes.count {
            if bytes[offset..<offset + close.count].elementsEqual(close) {
                let value = text(bodyStart, offset)
                offset += close.count
                return Token(kind: .string(value), location: location)
            }
            offset += 1
        }
        offset = bytes.count
        sink.error(location, "Unterminated long string")
        return Token(kind: .string(text(bodyStart, offset)), location: location)
    }

    private static let durationUnits: [String: Double] = [
        "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800, "y": 31_536_000,
    ]
    private static let byteUnits: [String: Int64] = [
        "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40,
    ]

    private mutating func lexNumber(location: SourceLocation) -> Token {
        let start = offset
        while Lexer.isDigit(peek()) { offset += 1 }
        var isReal = false
        if peek() == UInt8(ascii: "."), Lexer.isDigit(peek(1)) {
            isReal = true
            offset += 1
            while Lexer.isDigit(peek()) { offset += 1 }
        }
        let numberText = text(start, offset)
        var unitStart = offset
        // vcc reads the unit as a token of its own, so `1 s` is a duration as `1s` is; a word
        // of letters alone after a number can only be meant as a unit (`4 X` is refused).
        var gap = offset
        while peek(gap - offset) == UInt8(ascii: " ") || peek(gap - offset) == UInt8(ascii: "\t") { gap += 1 }
        if gap > offset {
            var end = gap
            while Lexer.isIdentStart(peek(end - offset)) { end += 1 }
            if end > gap, !Lexer.isIdentBody(peek(end - offset)) {
                offset = gap
                unitStart = gap
            }
        }
        while Lexer.isIdentStart(peek()) { offset += 1 }
        let letters = text(unitStart, offset)
        if !letters.isEmpty, Lexer.durationUnits[letters] == nil, Lexer.byteUnits[letters] == nil,
           Lexer.isIdentBody(peek()) {
            // Letters that go on as a name are not a unit (`backend 0fedcba98...`): the number
            // ends here and the name is the next token, for the parser to refuse in context.
            offset = unitStart
        }
        let unit = text(unitStart, offset)
        let value = Double(numberText) ?? 0
        if unit.isEmpty {
            if isReal { return Token(kind: .real(value), location: location) }
            guard let integer = Int64(numberText) else {
                sink.error(location, "Integer '\(numberText)' is too large")
                return Token(kind: .integer(0), location: location)
            }
            return Token(kind: .integer(integer), location: location)
        }
        if let scale = Lexer.durationUnits[unit] {
            return Token(kind: .duration(value * scale), location: location)
        }
        if let scale = Lexer.byteUnits[unit] {
            guard let bytes = Int64(exactly: (value * Double(scale)).rounded()) else {
                sink.error(location, "Byte count '\(numberText)\(unit)' is too large")
                return Token(kind: .bytes(0), location: location)
            }
            return Token(kind: .bytes(bytes), location: location)
        }
        sink.error(file.location(at: unitStart),
                   "Unknown unit '\(unit)' (durations: ms s m h d w y; Unknown BYTES unit too: B KB MB GB TB)")
        return Token(kind: .integer(0), location: location)
    }
}

// Literals vcc reads beyond strings and numbers: BLOBs, quoted header names, empty inline C.
extension Lexer {
    /// The names after which a quoted header name may follow: `req.http."X-Name"` (VCL 4.1).
    static let headerRoots: Set<String> = ["req.http", "req_top.http", "bereq.http", "beresp.http", "obj.http", "resp.http"]

    /// RFC 9110 token characters, the only ones vcc allows in a header name.
    static func isTokenChar(_ c: UInt8) -> Bool {
        isIdentStart(c) || isDigit(c) || tokenPunctuation.contains(c)
    }

    private static let tokenPunctuation: Set<UInt8> = Set("!#$%&'*+-.^_`|~".utf8)

    /// One byte as vcc quotes it in a message (`\n`, `\t`, octal for other controls).
    static func quoted(_ c: UInt8) -> String {
        switch c {
        case UInt8(ascii: "\n"): return "\\n"
        case UInt8(ascii: "\r"): return "\\r"
        case UInt8(ascii: "\t"): return "\\t"
        case 0x0b: return "\\v"
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): return "\\" + String(UnicodeScalar(c))
        case 0x20...0x7e: return String(UnicodeScalar(c))
        default:
            let octal = String(c, radix: 8)
            return "\\" + String(repeating: "0", count: max(0, 3 - octal.count)) + octal
        }
    }

    /// True when inline C holds nothing but C comments and white space (so skipping it is exact).
    static func isOnlyCComments(_ code: ArraySlice<UInt8>) -> Bool {
        var index = code.startIndex
        while index < code.endIndex {
            let c = code[index]
            let next = index + 1 < code.endIndex ? code[index + 1] : 0
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
                index += 1
            } else if c == UInt8(ascii: "/") && next == UInt8(ascii: "*") {
                index += 2
                while index + 1 < code.endIndex, !(code[index] == UInt8(ascii: "*") && code[index + 1] == UInt8(ascii: "/")) {
                    index += 1
                }
                guard index + 1 < code.endIndex else { return false }
                index += 2
            } else if c == UInt8(ascii: "/") && next == UInt8(ascii: "/") {
                while index < code.endIndex, code[index] != UInt8(ascii: "\n") { index += 1 }
            } else {
                return false
            }
        }
        return true
    }

    /// After `req.http` and a dot: a quoted header name (`"X"`, `{"X"}` or `"""X"""`), checked
    /// as vcc checks it; nil (nothing consumed) when no string follows the dot.
    mutating func lexQuotedHeader() -> String? {
        let dot = offset
        offset += 1
        let location = file.location(at: offset)
        let token: Token
        if peek() == UInt8(ascii: "\"") && peek(1) == UInt8(ascii: "\"") && peek(2) == UInt8(ascii: "\"") {
            token = lexDelimitedString(open: 3, close: Array("\"\"\"".utf8), location: location)
        } else if peek() == UInt8(ascii: "{") && peek(1) == UInt8(ascii: "\"") {
            token = lexDelimitedString(open: 2, close: Array("\"}".utf8), location: location)
        } else if peek() == UInt8(ascii: "\"") {
            token = lexString(location: location)
        } else {
            offset = dot
            return nil
        }
        guard case .string(let name) = token.kind else { return nil }
        if let bad = name.utf8.first(where: { !Lexer.isTokenChar($0) }) {
            sink.error(location, "Invalid character '\(Lexer.quoted(bad))' in header name.")
        } else if name.isEmpty {
            sink.error(location, "Empty header name.")
        }
        return name
    }

    /// The value of a base64 character (`=` counts as 0, as in vcc's table), nil for others.
    static func base64Value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        case UInt8(ascii: "="): return 0
        default: return nil
        }
    }

    /// A BLOB literal, `:base64:`, decoded and checked with vcc's rules and messages.
    mutating func lexBlob(location: SourceLocation) -> Token {
        let open = offset
        var decoded: [UInt8] = []
        var count = 0, pads = 0
        var pending: UInt8 = 0
        var stop: Int?
        var index = open + 1
        // vcc decodes whole groups of four characters only, so the last one to three bytes
        // of the source are never looked at: a BLOB that runs into them lacks its colon.
        let limit = open + 1 + (bytes.count - open - 1) / 4 * 4
        // vcc's base64 decoder: `stop` is the first character that is not part of the BLOB.
        while index < limit {
            let c = bytes[index]
            guard let value = Lexer.base64Value(c) else { stop = index; break }
            if c == UInt8(ascii: "=") {
                if count < 2 { stop = index; break }
                pads += 1
            } else if pads > 0 {
                stop = index - 1
                break
            }
            if pads > 0 && pending != 0 { stop = index - 1; break }
            count += 1
            switch count {
            case 1: pending = value << 2
            case 2:
                decoded.append(pending | value >> 4)
                pending = value << 4
            case 3:
                if pads == 0 { decoded.append(pending | value >> 2) }
                pending = value << 6
            default:
                if pads == 0 { decoded.append(pending | value) }
                pending = 0
                count = 0
            }
            index += 1
        }
        guard let stop else {
            offset = bytes.count
            sink.error(location, "Missing colon at end of BLOB:")
            return Token(kind: .blob([]), location: location)
        }
        let end = bytes[stop]
        let message: String
        if end == UInt8(ascii: ":") && (stop - open) % 4 != 1 {
            message = "BLOB must have n*4 base64 characters"
        } else if end == UInt8(ascii: "=") {
            message = "Wrong padding ('=') in BLOB:"
        } else if end != UInt8(ascii: ":") {
            message = "Illegal BLOB character:"
        } else {
            offset = stop + 1
            return Token(kind: .blob(decoded), location: location)
        }
        sink.error(location, message)
        // Go on after the BLOB's closing colon when it is on this line: one bad BLOB, one error.
        var resume = stop
        while resume < bytes.count, bytes[resume] != UInt8(ascii: ":"), bytes[resume] != UInt8(ascii: "\n") { resume += 1 }
        offset = resume < bytes.count && bytes[resume] == UInt8(ascii: ":") ? resume + 1 : max(stop, open + 1)
        return Token(kind: .blob([]), location: location)
    }
}
