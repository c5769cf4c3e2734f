/// A CLI request line split into words as varnishd does: on spaces and tabs, with
/// `"double quoted"` words holding spaces and backslash escapes (`\"`, `\\`, `\n`, `\t`).
public enum AdminWords {
    public enum SplitError: Error, Equatable, CustomStringConvertible {
        case unterminatedQuote
        case badEscape

        public var description: String {
            switch self {
            case .unterminatedQuote: "Missing '\"'"
            case .badEscape: "Invalid backslash sequence"
            }
        }
    }

    public static func split(_ line: String) throws(SplitError) -> [String] {
        var words: [String] = []
        var characters = line.makeIterator()
        var current = ""
        var inWord = false
        while let character = characters.next() {
            switch character {
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            case "\"" where !inWord:
                inWord = true
                var closed = false
                while let next = characters.next() {
                    if next == "\"" { closed = true; break }
                    if next == "\\" {
                        guard let escaped = characters.next() else { throw .unterminatedQuote }
                        switch escaped {
                        case "\\", "\"": current.append(escaped)
                        case "n": current.append("\n")
                        case "t": current.append("\t")
                        case "r": current.append("\r")
                        default: throw .badEscape
                        }
                    } else {
                        current.append(next)
                    }
                }
                if !closed { throw .unterminatedQuote }
            default:
                inWord = true
                current.append(character)
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// `word`, quoted when it would not come back whole from `split` (spaces, quotes, empty).
    public static func quote(_ word: String) -> String {
        let needsQuotes = word.isEmpty || word.contains { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "\\" || $0 == "\n" || $0 == "\r" }
        guard needsQuotes else { return word }
        var quoted = "\""
        for character in word {
            switch character {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            default: quoted.append(character)
            }
        }
        return quoted + "\""
    }

    /// A request line for `words`, each quoted as needed.
    public static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }
}
