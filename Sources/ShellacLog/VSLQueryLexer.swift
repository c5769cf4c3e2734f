/// A query that varnishlog would refuse, with varnishlog's diagnostic.
public struct VSLQueryError: Error, Equatable, CustomStringConvertible {
    /// varnishlog's diagnostic: what is wrong, `(Pos N)`, the query with white space shown as
    /// spaces, a line marking the culprit (`#`, `^` at the exact byte), and a blank line.
    public let diagnostic: String
    /// The 1-based byte column the diagnostic names; nil when it names none.
    public let position: Int?

    public init(diagnostic: String, position: Int?) {
        self.diagnostic = diagnostic
        self.position = position
    }

    /// What varnishlog writes to stderr, less its last newline (so `print(error)` writes the
    /// same bytes).
    public var description: String { "Query expression error:\n" + diagnostic }
}

/// One word of a query.
struct VSLQueryToken {
    enum Kind: Equatable {
        case numEqual, numNotEqual, lessOrEqual, greaterOrEqual, less, greater
        case stringEqual, stringNotEqual, match, noMatch
        case and, or, not, vxid
        case open, close, openBrace, closeBrace, openBracket, closeBracket, comma, colon
        /// A bare word or a quoted string.
        case value
        /// End of a query: a newline or the end of the text.
        case end

        /// The name varnishlog uses in "Expected X got ...".
        var name: String {
            switch self {
            case .numEqual: "=="
            case .numNotEqual: "!="
            case .lessOrEqual: "<="
            case .greaterOrEqual: ">="
            case .less: "'<'"
            case .greater: "'>'"
            case .stringEqual: "eq"
            case .stringNotEqual: "ne"
            case .match: "'~'"
            case .noMatch: "!~"
            case .and: "and"
            case .or: "or"
            case .not: "not"
            case .vxid: "vxid"
            case .open: "'('"
            case .close: "')'"
            case .openBrace: "'{'"
            case .closeBrace: "'}'"
            case .openBracket: "'['"
            case .closeBracket: "']'"
            case .comma: "','"
            case .colon: "':'"
            case .value: "VAL"
            case .end: "EOI"
            }
        }
    }

    var kind: Kind
    /// Byte offsets of the token in the query.
    var start: Int
    var end: Int
    /// A value's text, unquoted and unescaped.
    var text = ""
}

/// Splits a query into tokens as varnishlog's lexer does (lib/libvarnishapi/vxp_lexer.c):
/// blanks separate, `\` + newline continues a line, `#` starts a comment, a newline ends one
/// query (several are or'ed), keywords are lowercase and must end at a word boundary, quoted
/// strings take `\` escapes, bare words are made of letters, digits and `_-+.*`.
struct VSLQueryLexer {
    let query: [UInt8]

    init(_ query: [UInt8]) {
        self.query = query
    }

    func tokens() throws(VSLQueryError) -> [VSLQueryToken] {
        var tokens: [VSLQueryToken] = []
        var p = 0
        var lastEnd: Int?
        while p < query.count {
            let c = query[p]
            if c == 0x20 || c == 0x09 {
                p += 1
                continue
            }
            if c == UInt8(ascii: "\\"), at(p + 1) == 0x0A {
                p += 2
                continue
            }
            if c == UInt8(ascii: "#") {
                while p < query.count, query[p] != 0x0A { p += 1 }
                continue
            }
            if let (kind, length) = fixedToken(at: p) {
                tokens.append(VSLQueryToken(kind: kind, start: p, end: p + length))
                p += length
                lastEnd = p
                continue
            }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                let (end, closed) = quotedEnd(from: p)
                var token = VSLQueryToken(kind: .value, start: p, end: end)
                guard closed else {
                    throw error("Unterminated string ", at: token, offset: end - p)
                }
                token.text = unquote(query[(p + 1)..<(end - 1)])
                tokens.append(token)
                p = end
                lastEnd = end
                continue
            }
            if isQueryWord(c) {
                var end = p
                while end < query.count, isQueryWord(query[end]) { end += 1 }
                tokens.append(
                    VSLQueryToken(kind: .value, start: p, end: end, text: String(decoding: query[p..<end], as: UTF8.self)))
                p = end
                lastEnd = end
                continue
            }
            if c == 0x0A {
                tokens.append(VSLQueryToken(kind: .end, start: p, end: p + 1))
                p += 1
                continue
            }
            let bad = VSLQueryToken(kind: .end, start: p, end: p + 1)
            throw error("Syntax error ", at: bad, offset: (lastEnd ?? p - 1) - p)
        }
        tokens.append(VSLQueryToken(kind: .end, start: query.count, end: query.count))
        return tokens
    }

    private func at(_ i: Int) -> UInt8 { i < query.count ? query[i] : 0 }

    /// A keyword or operator at `p`, and its length.
    private func fixedToken(at p: Int) -> (VSLQueryToken.Kind, Int)? {
        func word(_ text: String, _ kind: VSLQueryToken.Kind) -> (VSLQueryToken.Kind, Int)? {
            let bytes = Array(text.utf8)
            for (offset, byte) in bytes.enumerated() where at(p + offset) != byte { return nil }
            if isQueryWord(bytes[bytes.count - 1]), isQueryWord(at(p + bytes.count)) { return nil }
            return (kind, bytes.count)
        }
        switch at(p) {
        case UInt8(ascii: "!"): return word("!=", .numNotEqual) ?? word("!~", .noMatch)
        case UInt8(ascii: "<"): return word("<=", .lessOrEqual) ?? (.less, 1)
        case UInt8(ascii: ">"): return word(">=", .greaterOrEqual) ?? (.greater, 1)
        case UInt8(ascii: "="): return word("==", .numEqual)
        case UInt8(ascii: "~"): return (.match, 1)
        case UInt8(ascii: "a"): return word("and", .and)
        case UInt8(ascii: "e"): return word("eq", .stringEqual)
        case UInt8(ascii: "n"): return word("not", .not) ?? word("ne", .stringNotEqual)
        case UInt8(ascii: "o"): return word("or", .or)
        case UInt8(ascii: "v"): return word("vxid", .vxid)
        case UInt8(ascii: "("): return (.open, 1)
        case UInt8(ascii: ")"): return (.close, 1)
        case UInt8(ascii: "{"): return (.openBrace, 1)
        case UInt8(ascii: "}"): return (.closeBrace, 1)
        case UInt8(ascii: "["): return (.openBracket, 1)
        case UInt8(ascii: "]"): return (.closeBracket, 1)
        case UInt8(ascii: ","): return (.comma, 1)
        case UInt8(ascii: ":"): return (.colon, 1)
        default: return nil
        }
    }

    /// Where a quoted string starting at `p` ends (after its closing quote), and whether it
    /// was closed before a newline or the end.
    private func quotedEnd(from p: Int) -> (Int, Bool) {
        let quote = query[p]
        var q = p + 1
        while q < query.count {
            if query[q] == UInt8(ascii: "\\") {
                q += 1
                if q == query.count || query[q] == 0x0A { break }
            } else if query[q] == 0x0A {
                break
            } else if query[q] == quote {
                return (q + 1, true)
            }
            q += 1
        }
        return (q, false)
    }

    private func unquote(_ inner: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var escaped = false
        for byte in inner {
            if !escaped, byte == UInt8(ascii: "\\") {
                escaped = true
                continue
            }
            escaped = false
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An error naming a token, as varnishlog's `vxp_ErrWhere` words it: the position is the
    /// token's (plus `offset` when positive), and the marker line shows `#` under the token
    /// with `^` at `offset`.
    func error(_ message: String, at token: VSLQueryToken, offset: Int) -> VSLQueryError {
        let position = token.start + (offset > 0 ? offset : 0) + 1
        var marker = ""
        for index in query.indices {
            if index >= token.start && index < token.end {
                marker += index - token.start == offset ? "^" : "#"
            } else {
                marker += "-"
            }
        }
        let quotedLine = String(decoding: query.map { isCSpace($0) ? 0x20 : $0 }, as: UTF8.self)
        return VSLQueryError(
            diagnostic: "\(message)(Pos \(position))\n\(quotedLine)\n\(marker)\n\n", position: position)
    }

    /// The token's text as written.
    func source(_ token: VSLQueryToken) -> String {
        let end = min(token.end, query.count)
        return token.start < end ? String(decoding: query[token.start..<end], as: UTF8.self) : ""
    }
}

/// varnishlog's word characters: letters, digits and `_-+.*`.
@inline(__always)
func isQueryWord(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x41...0x5A, 0x61...0x7A, 0x30...0x39: true
    case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "*"): true
    default: false
    }
}
