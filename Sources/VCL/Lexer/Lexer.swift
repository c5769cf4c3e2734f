/// Turns VCL source bytes into tokens with exact positions, reporting lexical errors.
struct Lexer {
    let file: SourceFile
    let sink: DiagnosticSink
    private var offset = 0
    private var bytes: [UInt8] { file.bytes }

    init(file: SourceFile, sink: DiagnosticSink) {
        self.file = file
        self.sink = sink
    }

    /// Lexes the whole file; the last token is always `.endOfFile`.
    static func tokenize(_ file: SourceFile, sink: DiagnosticSink) -> [Token] {
        var lexer = Lexer(file: file, sink: sink)
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
        "==", "!=", "!~", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=",
    ]
    private static let oneCharSymbols: Set<UInt8> = Set("{}();,.=~!<>+-*/".utf8)

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
            sink.error(location, "Inline C (C{ ... }C) is not supported")
            while offset < bytes.count, !(peek() == UInt8(ascii: "}") && peek(1) == UInt8(ascii: "C")) { offset += 1 }
            offset = min(bytes.count, offset + 2)
            return next()
        }
        if Lexer.isIdentStart(c) {
            while offset < bytes.count, Lexer.isIdentBody(peek()) { offset += 1 }
            // A trailing dot is never part of a name.
            while offset > start + 1, bytes[offset - 1] == UInt8(ascii: ".") { offset -= 1 }
            return Token(kind: .identifier(text(start, offset)), location: location)
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
        // vcc reads the unit as a token of its own, so `1 s` is a duration as `1s` is.
        var gap = offset
        while peek(gap - offset) == UInt8(ascii: " ") || peek(gap - offset) == UInt8(ascii: "\t") { gap += 1 }
        if gap > offset {
            var end = gap
            while Lexer.isIdentStart(peek(end - offset)) { end += 1 }
            let word = text(gap, end)
            if end > gap, !Lexer.isDigit(peek(end - offset)), peek(end - offset) != UInt8(ascii: "_"),
               peek(end - offset) != UInt8(ascii: "."),
               Lexer.durationUnits[word] != nil || Lexer.byteUnits[word] != nil {
                offset = gap
                unitStart = gap
            }
        }
        while Lexer.isIdentStart(peek()) { offset += 1 }
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
        sink.error(file.location(at: unitStart), "Unknown unit '\(unit)' (durations: ms s m h d w y; bytes: B KB MB GB TB)")
        return Token(kind: .integer(0), location: location)
    }
}
