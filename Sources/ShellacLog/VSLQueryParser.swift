/// A parsed query (varnishlog's vex tree).
indirect enum VSLQueryExpression {
    case or(VSLQueryExpression, VSLQueryExpression)
    case and(VSLQueryExpression, VSLQueryExpression)
    case not(VSLQueryExpression)
    case vxid(VSLQueryComparison, Int64)
    case records(VSLQuerySelection, VSLQueryTest)
}

/// Which records a test looks at: `{level}taglist:prefix[field]`.
struct VSLQuerySelection {
    var tags: Set<VSLTag> = []
    /// Nil for any level.
    var level: Int?
    /// -1: at most `level`; 0: exactly; +1: at least.
    var levelBound = 0
    /// Records must start with this (ignoring case) and a colon; the value is what follows.
    var prefix: [UInt8]?
    /// 1-based white-space-separated field; 0 for the whole value.
    var field = 0
}

enum VSLQueryComparison {
    case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual
}

/// What a selected record must satisfy.
enum VSLQueryTest {
    case exists
    case integer(VSLQueryComparison, Int64)
    case real(VSLQueryComparison, Double)
    case stringEqual([UInt8])
    case stringNotEqual([UInt8])
    case match(Regex<AnyRegexOutput>)
    case noMatch(Regex<AnyRegexOutput>)
}

/// Builds the expression tree with varnishlog's grammar and messages
/// (lib/libvarnishapi/vxp_parse.c): `not` binds tighter than `and`, `and` than `or`; each
/// line is a query and the lines are or'ed.
struct VSLQueryParser {
    private let lexer: VSLQueryLexer
    private let tokens: [VSLQueryToken]
    private let caseInsensitive: Bool
    private var index = 0

    init(_ text: String, caseInsensitive: Bool) throws(VSLQueryError) {
        lexer = VSLQueryLexer(Array(text.utf8))
        tokens = try lexer.tokens()
        self.caseInsensitive = caseInsensitive
    }

    /// The whole query; nil when it holds no expression (varnishlog refuses that too).
    mutating func parse() throws(VSLQueryError) -> VSLQueryExpression? {
        var result: VSLQueryExpression?
        while index < tokens.count {
            while index < tokens.count, tokens[index].kind == .end { index += 1 }
            guard index < tokens.count else { break }
            let line = try parseOr()
            try expect(.end)
            result = result.map { .or(line, $0) } ?? line
            index += 1
        }
        return result
    }

    private var token: VSLQueryToken { tokens[min(index, tokens.count - 1)] }

    private mutating func advance() throws(VSLQueryError) {
        index += 1
        if index >= tokens.count {
            throw VSLQueryError(
                diagnostic: "Ran out of input, something is missing or maybe unbalanced parenthesis\n",
                position: nil)
        }
    }

    private func expect(_ kind: VSLQueryToken.Kind) throws(VSLQueryError) {
        guard token.kind != kind else { return }
        let got = token.kind == .end ? "end of input" : "'\(lexer.source(token))'"
        throw fail("Expected \(kind.name) got \(got) ")
    }

    private func fail(_ message: String, offset: Int = -1) -> VSLQueryError {
        lexer.error(message, at: token, offset: offset)
    }

    /// "Expected <what> got '<token>' ".
    private func failExpecting(_ what: String, offset: Int = -1) -> VSLQueryError {
        fail("Expected \(what) got '\(lexer.source(token))' ", offset: offset)
    }

    private mutating func parseOr() throws(VSLQueryError) -> VSLQueryExpression {
        var expression = try parseAnd()
        while token.kind == .or {
            try advance()
            expression = .or(expression, try parseAnd())
        }
        return expression
    }

    private mutating func parseAnd() throws(VSLQueryError) -> VSLQueryExpression {
        var expression = try parseNot()
        while token.kind == .and {
            try advance()
            expression = .and(expression, try parseNot())
        }
        return expression
    }

    /// `not` applies to a group or comparison only: `not not X` is refused, as in varnishlog.
    private mutating func parseNot() throws(VSLQueryError) -> VSLQueryExpression {
        guard token.kind == .not else { return try parseGroup() }
        try advance()
        return .not(try parseGroup())
    }

    private mutating func parseGroup() throws(VSLQueryError) -> VSLQueryExpression {
        guard token.kind == .open else { return try parseComparison() }
        try advance()
        let inner = try parseOr()
        try expect(.close)
        try advance()
        return inner
    }

    private mutating func parseComparison() throws(VSLQueryError) -> VSLQueryExpression {
        let (selection, isVXID) = try parseSelection()
        if isVXID {
            switch token.kind {
            case .numEqual, .numNotEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: break
            default: throw failExpecting("vxid operator")
            }
        }
        let operatorKind = token.kind
        switch operatorKind {
        case .end, .and, .or, .close:
            return .records(selection, .exists)
        case .numEqual, .numNotEqual, .less, .lessOrEqual, .greater, .greaterOrEqual,
            .stringEqual, .stringNotEqual, .match, .noMatch:
            break
        default:
            throw failExpecting("operator")
        }
        try advance()
        switch operatorKind {
        case .stringEqual, .stringNotEqual:
            guard token.kind == .value else { throw failExpecting("string") }
            let value = Array(token.text.utf8)
            try advance()
            return .records(selection, operatorKind == .stringEqual ? .stringEqual(value) : .stringNotEqual(value))
        case .match, .noMatch:
            guard token.kind == .value else { throw failExpecting("regular expression") }
            let regex = try compile(token.text)
            try advance()
            return .records(selection, operatorKind == .match ? .match(regex) : .noMatch(regex))
        default:
            let comparison = Self.comparison(operatorKind)
            guard token.kind == .value else { throw failExpecting("number") }
            let text = token.text
            let test: VSLQueryTest
            if text.contains(".") {
                guard let real = VSLNumber.whole(text) else { throw fail("Floating point parse error ") }
                test = .real(comparison, real)
            } else {
                let (value, length) = VSLNumber.strtoll(text)
                let rest = Array(text.utf8).dropFirst(length)
                guard rest.allSatisfy(isCSpace) else { throw fail("Integer parse error ") }
                test = .integer(comparison, value)
            }
            if isVXID {
                guard case .integer(_, let value) = test else { throw failExpecting("integer", offset: 0) }
                try advance()
                return .vxid(comparison, value)
            }
            try advance()
            return .records(selection, test)
        }
    }

    private static func comparison(_ kind: VSLQueryToken.Kind) -> VSLQueryComparison {
        switch kind {
        case .numNotEqual: .notEqual
        case .less: .less
        case .lessOrEqual: .lessOrEqual
        case .greater: .greater
        case .greaterOrEqual: .greaterOrEqual
        default: .equal
        }
    }

    private func compile(_ pattern: String) throws(VSLQueryError) -> Regex<AnyRegexOutput> {
        do {
            var regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
            if caseInsensitive { regex = regex.ignoresCase() }
            return regex
        } catch {
            throw fail("Regular expression error: \(error) ")
        }
    }

    /// `{level}taglist:prefix[field]`, or `vxid`.
    private mutating func parseSelection() throws(VSLQueryError) -> (VSLQuerySelection, isVXID: Bool) {
        var selection = VSLQuerySelection()
        if token.kind == .openBrace {
            try advance()
            guard token.kind == .value else { throw failExpecting("integer") }
            let text = Array(token.text.utf8)
            let (level, length) = VSLNumber.strtoll(token.text)
            if level < 0 { throw fail("Expected positive integer ") }
            var rest = text.dropFirst(length)
            if rest.first == UInt8(ascii: "-") {
                selection.levelBound = -1
                rest = rest.dropFirst()
            } else if rest.first == UInt8(ascii: "+") {
                selection.levelBound = 1
                rest = rest.dropFirst()
            }
            if !rest.isEmpty { throw fail("Syntax error in level limit ") }
            selection.level = Int(clamping: level)
            try advance()
            try expect(.closeBrace)
            try advance()
        }

        var vxidCount = 0
        var tagCount = 0
        while true {
            if token.kind == .vxid {
                vxidCount += 1
            } else if token.kind == .value {
                tagCount += 1
                do {
                    selection.tags.formUnion(try VSLTag.matching(glob: token.text))
                } catch .noMatch {
                    throw fail("Tag name matches zero tags ")
                } catch .ambiguous {
                    throw fail("Tag name is ambiguous ")
                } catch {
                    throw fail("Syntax error in tag name ")
                }
            } else {
                throw failExpecting("VSL tag name")
            }
            try advance()
            guard token.kind == .comma else { break }
            try advance()
        }

        if token.kind == .colon {
            try advance()
            guard token.kind == .value else { throw failExpecting("string") }
            selection.prefix = Array(token.text.utf8)
            try advance()
        }

        if token.kind == .openBracket {
            try advance()
            guard token.kind == .value else { throw failExpecting("integer") }
            let (field, length) = VSLNumber.strtoll(token.text)
            if length != token.text.utf8.count || field <= 0 { throw fail("Expected positive integer ") }
            selection.field = Int(clamping: field)
            try advance()
            try expect(.closeBracket)
            try advance()
        }

        guard vxidCount > 0 else { return (selection, false) }
        if vxidCount > 1 || selection.level != nil || selection.field > 0 || !(selection.prefix ?? []).isEmpty
            || tagCount > 0
        {
            throw fail("Unexpected taglist selection for vxid ")
        }
        return (selection, true)
    }
}
