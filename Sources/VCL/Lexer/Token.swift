/// A lexical token of VCL with its source location.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        /// An identifier; VCL identifiers include dots and dashes (`req.http.X-Forwarded-For`).
        case identifier(String)
        case string(String)
        case integer(Int64)
        case real(Double)
        /// A duration in seconds (`600s`, `1.5h`).
        case duration(Double)
        /// A byte count (`10KB`).
        case bytes(Int64)
        /// Punctuation and operators: `{ } ( ) ; , . = == != ~ !~ ! < > <= >= && || + - * / += -= *= /=`,
        /// and `<<` `>>`, which no construct uses but vcc reads as one token (`Expected '=' got '>>'`).
        case symbol(String)
        /// A BLOB literal, `:base64:` (RFC 8941 byte sequence), decoded.
        case blob([UInt8])
        case endOfFile
    }

    let kind: Kind
    let location: SourceLocation

    var identifier: String? {
        if case .identifier(let name) = kind { return name }
        return nil
    }

    func isSymbol(_ symbol: String) -> Bool { kind == .symbol(symbol) }

    func isIdentifier(_ name: String) -> Bool { kind == .identifier(name) }

    /// A short rendering for error messages.
    var display: String {
        switch kind {
        case .identifier(let name): return "'\(name)'"
        case .string(let text): return "\"\(text)\""
        case .integer(let value): return "'\(value)'"
        case .real(let value): return "'\(value)'"
        case .duration(let value): return "duration '\(value)s'"
        case .bytes(let value): return "bytes '\(value)'"
        case .symbol(let symbol): return "'\(symbol)'"
        case .blob: return "BLOB"
        case .endOfFile: return "end of file"
        }
    }

    /// The token as vcc shows it after "got": its source text in single quotes, or
    /// `end of input` (`Expected ';' got 'if'`, `Expected CNUM got '"120s"'`).
    var vccText: String {
        switch kind {
        case .identifier(let name): return "'\(name)'"
        case .symbol(let symbol): return "'\(symbol)'"
        case .endOfFile: return "end of input"
        case .string(let text):
            let rest = location.file.bytes[location.file.offset(of: location)...]
            if rest.starts(with: Array("\"\"\"".utf8)) { return "'\"\"\"\(text)\"\"\"'" }
            if rest.starts(with: Array("{\"".utf8)) { return "'{\"\(text)\"}'" }
            return "'\"\(text)\"'"
        case .integer, .real, .duration, .bytes:
            // The digits as written, then the unit's letters for a duration or a byte count.
            let rest = location.file.bytes[location.file.offset(of: location)...]
            let number = rest.prefix { Lexer.isDigit($0) || $0 == UInt8(ascii: ".") }
            var unit = ArraySlice<UInt8>()
            if case .duration = kind { unit = rest.dropFirst(number.count).prefix(while: Lexer.isIdentStart) }
            if case .bytes = kind { unit = rest.dropFirst(number.count).prefix(while: Lexer.isIdentStart) }
            return "'\(String(decoding: number + unit, as: UTF8.self))'"
        case .blob:
            let rest = location.file.bytes[location.file.offset(of: location)...].dropFirst()
            return "':\(String(decoding: rest.prefix { $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)):'"
        }
    }
}
