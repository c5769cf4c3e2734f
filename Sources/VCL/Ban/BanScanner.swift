/// Reads the words of a ban expression: field, operator, argument, `&&`.
struct BanScanner {
    let bytes: [UInt8]
    var offset = 0

    init(text: String) { bytes = Array(text.utf8) }

    private mutating func skipSpaces() {
        while offset < bytes.count, bytes[offset] == UInt8(ascii: " ") || bytes[offset] == UInt8(ascii: "\t") { offset += 1 }
    }

    private func fail(_ message: String, at position: Int? = nil) -> VCLBan.ParseError {
        VCLBan.ParseError(message: message, offset: position ?? offset)
    }

    /// The next whitespace-delimited word, or a quoted string without its quotes.
    private mutating func word() throws(VCLBan.ParseError) -> (String, Int)? {
        skipSpaces()
        guard offset < bytes.count else { return nil }
        let start = offset
        if bytes[offset] == UInt8(ascii: "\"") {
            offset += 1
            var value: [UInt8] = []
            while offset < bytes.count, bytes[offset] != UInt8(ascii: "\"") {
                if bytes[offset] == UInt8(ascii: "\\"), offset + 1 < bytes.count { offset += 1 }
                value.append(bytes[offset])
                offset += 1
            }
            guard offset < bytes.count else { throw fail("Unterminated quoted argument", at: start) }
            offset += 1
            return (String(decoding: value, as: UTF8.self), start)
        }
        while offset < bytes.count, bytes[offset] != UInt8(ascii: " "), bytes[offset] != UInt8(ascii: "\t") { offset += 1 }
        return (String(decoding: bytes[start..<offset], as: UTF8.self), start)
    }

    mutating func condition() throws(VCLBan.ParseError) -> VCLBan.Condition {
        guard let (fieldName, fieldStart) = try word() else { throw fail("Expected a field such as req.url or obj.http.NAME") }
        let field = try Self.field(fieldName, at: fieldStart)
        guard let (opName, opStart) = try word(), let op = VCLBan.Operator(rawValue: opName) else {
            throw fail("Expected an operator (== != ~ !~ < <= > >=) after \(fieldName)")
        }
        guard let (argument, argumentStart) = try word() else { throw fail("Expected an argument after \(opName)") }
        var regex: VCLRegex?
        var number: Double?
        switch op {
        case .matches, .notMatches:
            do {
                regex = try VCLRegex(argument)
            } catch {
                throw fail("Regular expression error: \(error.message)", at: argumentStart + error.offset)
            }
        case .less, .lessOrEqual, .greater, .greaterOrEqual, .equal, .notEqual:
            number = Self.number(argument, for: field)
            let ordering = op != .equal && op != .notEqual
            if ordering && number == nil {
                throw fail("Operator \(opName) needs a number or duration for \(fieldName)", at: opStart)
            }
        }
        return VCLBan.Condition(field: field, op: op, argument: argument, regex: regex, number: number)
    }

    /// Consumes `&&` and returns true, or returns false at the end of the expression.
    mutating func conjunction() throws(VCLBan.ParseError) -> Bool {
        guard let (next, start) = try word() else { return false }
        guard next == "&&" else { throw fail("Expected '&&' or the end of the ban, found '\(next)'", at: start) }
        return true
    }

    private static func field(_ name: String, at offset: Int) throws(VCLBan.ParseError) -> VCLBan.Field {
        switch name {
        case "req.url": return .url
        case "obj.status": return .status
        case "obj.ttl": return .ttl
        case "obj.age": return .age
        case "obj.grace": return .grace
        case "obj.keep": return .keep
        default:
            if name.hasPrefix("req.http."), name.count > 9 { return .requestHeader(String(name.dropFirst(9))) }
            if name.hasPrefix("obj.http."), name.count > 9 { return .objectHeader(String(name.dropFirst(9))) }
            throw VCLBan.ParseError(
                message: "Unknown or unsupported field \"\(name)\"",
                offset: offset)
        }
    }

    private static func number(_ text: String, for field: VCLBan.Field) -> Double? {
        switch field {
        case .status: return Int(text).map(Double.init)
        case .ttl, .age, .grace, .keep: return StdFunctions.parseDuration(text) ?? Double(text)
        default: return nil
        }
    }
}
