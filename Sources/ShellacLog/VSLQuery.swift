/// varnishlog's `-q` query (vsl-query(7)), evaluated as varnishlog evaluates it
/// (lib/libvarnishapi/vsl_query.c).
///
/// A comparison holds for a group when any record it selects, in any transaction of the
/// group, satisfies it:
///
/// - `ReqURL`, `Req*`, `*Header`, `ReqURL,RespStatus`, `*` select by tag (names may be unique
///   prefixes, case is ignored); alone, a selection asks whether such a record exists.
/// - `{2}`, `{2+}`, `{2-}` keep transactions at, from or up to that level.
/// - `ReqHeader:Host` keeps records starting `Host:` (any case) and compares what follows,
///   leading white space skipped.
/// - `Timestamp:Resp[2]` compares the second white-space-separated field (a field in double
///   quotes may hold spaces).
/// - `== != < <= > >=` compare numbers: an operand with a `.` is real, else an integer
///   (C `strtoll` syntax, so `010` is octal); the record is read as Varnish reads numbers
///   (a real keeps 3 fraction digits; an integer comparison drops the fraction).
/// - `eq ne` compare strings, `~ !~` match regular expressions (Swift `Regex`).
/// - `vxid == 5` and friends test a transaction's vxid.
/// - `not`, `and`, `or`, parentheses; each line is a query, and lines are or'ed; `#`
///   comments; `\` + newline continues a line.
///
/// Not `Sendable`: Swift's `Regex` is not.
public struct VSLQuery {
    /// The query as given.
    public let text: String
    private let expression: VSLQueryExpression
    private let caseInsensitive: Bool

    /// Parses a query.
    /// - Parameter caseInsensitive: varnishlog's `-C`: `eq`, `ne` and regular expressions
    ///   ignore case.
    /// - Throws: `VSLQueryError`, with varnishlog's message, position and marker.
    public init(_ text: String, caseInsensitive: Bool = false) throws(VSLQueryError) {
        var parser = try VSLQueryParser(text, caseInsensitive: caseInsensitive)
        guard let expression = try parser.parse() else {
            throw VSLQueryError(diagnostic: "", position: nil)
        }
        self.text = text
        self.expression = expression
        self.caseInsensitive = caseInsensitive
    }

    /// Whether varnishlog would report this group.
    public func matches(_ group: VSLGroup) -> Bool {
        evaluate(expression, group.transactions)
    }

    private func evaluate(_ expression: VSLQueryExpression, _ transactions: [VSLTransaction]) -> Bool {
        switch expression {
        case .or(let a, let b):
            return evaluate(a, transactions) || evaluate(b, transactions)
        case .and(let a, let b):
            return evaluate(a, transactions) && evaluate(b, transactions)
        case .not(let a):
            return !evaluate(a, transactions)
        case .vxid(let comparison, let value):
            return transactions.contains { compare(Int64(truncatingIfNeeded: $0.vxid), comparison, value) }
        case .records(let selection, let test):
            for transaction in transactions where selection.admits(level: transaction.level) {
                for record in transaction.records where selection.tags.contains(record.tag) {
                    if holds(test, selection, record.payload) { return true }
                }
            }
            return false
        }
    }

    /// One record against one test (varnishlog's `vslq_test_rec`). The payload reads as a C
    /// string: it ends at its end or at a NUL byte.
    private func holds(_ test: VSLQueryTest, _ selection: VSLQuerySelection, _ payload: [UInt8]) -> Bool {
        func at(_ i: Int) -> UInt8 { i < payload.count ? payload[i] : 0 }
        var start = 0
        var end = payload.count

        if let prefix = selection.prefix {
            guard payload.count >= prefix.count, asciiCaseEqual(payload[..<prefix.count], prefix[...]),
                at(prefix.count) == UInt8(ascii: ":")
            else { return false }
            start = prefix.count + 1
            while at(start) != 0, isCSpace(at(start)) { start += 1 }
        }

        if selection.field > 0 {
            var count = 0
            var quoted = false
            end = start
            while at(end) != 0, count < selection.field {
                if quoted {
                    quoted = false
                    end += 1
                    if at(end) == 0 { break }
                    if !isCSpace(at(end)) { return false }
                }
                start = end
                while at(start) != 0, isCSpace(at(start)) { start += 1 }
                quoted = at(start) == UInt8(ascii: "\"")
                if quoted { start += 1 }
                end = start
                if quoted {
                    while at(end) != 0, at(end) != UInt8(ascii: "\"") { end += 1 }
                    if at(end) != UInt8(ascii: "\"") { return false }
                } else {
                    while at(end) != 0, !isCSpace(at(end)) { end += 1 }
                }
                count += 1
            }
            if at(start) == 0 || count < selection.field { return false }
        }

        switch test {
        case .exists:
            return true
        case .integer(let comparison, let value):
            guard at(start) != 0 else { return false }
            let (number, _, valid) = VSLNumber.parse(payload, from: start)
            guard valid else { return false }
            return compare(VSLNumber.truncated(number), comparison, value)
        case .real(let comparison, let value):
            guard at(start) != 0, let number = VSLNumber.decimal(payload, from: start) else { return false }
            return compare(number, comparison, value)
        case .stringEqual(let value):
            return equal(payload[start..<max(start, end)], value)
        case .stringNotEqual(let value):
            return !equal(payload[start..<max(start, end)], value)
        case .match(let regex):
            return matches(regex, payload[start..<max(start, end)])
        case .noMatch(let regex):
            return !matches(regex, payload[start..<max(start, end)])
        }
    }

    private func equal(_ part: ArraySlice<UInt8>, _ value: [UInt8]) -> Bool {
        guard part.count == value.count else { return false }
        return caseInsensitive ? asciiCaseEqual(part, value[...]) : part.elementsEqual(value)
    }

    private func matches(_ regex: Regex<AnyRegexOutput>, _ part: ArraySlice<UInt8>) -> Bool {
        (try? regex.firstMatch(in: String(decoding: part, as: UTF8.self))) != nil
    }
}

extension VSLQuerySelection {
    func admits(level transactionLevel: Int) -> Bool {
        guard let level else { return true }
        switch levelBound {
        case ..<0: return transactionLevel <= level
        case 1...: return transactionLevel >= level
        default: return transactionLevel == level
        }
    }
}

private func compare<T: Comparable>(_ lhs: T, _ comparison: VSLQueryComparison, _ rhs: T) -> Bool {
    switch comparison {
    case .equal: lhs == rhs
    case .notEqual: lhs != rhs
    case .less: lhs < rhs
    case .lessOrEqual: lhs <= rhs
    case .greater: lhs > rhs
    case .greaterOrEqual: lhs >= rhs
    }
}
