/// A bad varnishlog option argument, worded as varnishlog words it (`-i: "Foo" matches zero
/// tags`).
public struct VSLOptionError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}

/// Which records varnishlog prints: its `-i -x -I -X -c -b -E -C` options, with varnishlog's
/// rules (lib/libvarnishapi/vsl_arg.c, VSL_Match):
///
/// - Options apply in the order given. If the first of `-i -x -I -X` is `-i` or `-I`, every
///   tag starts hidden; `-i` then shows tags and `-x` hides them.
/// - A record matching an `-I` pattern is shown whatever its tag; else one matching an `-X`
///   pattern is hidden; else its tag decides.
/// - `-c`/`-b` keep only client-side/backend-side records (both together keep none, as in
///   varnishlog) and, when printing groups, only requests/backend requests (ESI subrequests
///   need `-E`).
/// - `-C` makes the `-I`/`-X` patterns given after it ignore case.
///
/// Not `Sendable`: Swift's `Regex` is not.
public struct VSLRecordFilter {
    /// `-c`: client-side records and request transactions only.
    public var clientOnly = false
    /// `-b`: backend-side records and backend transactions only.
    public var backendOnly = false
    /// `-E`: with `clientOnly`, also show ESI subrequests.
    public var includeESI = false
    /// `-C`: patterns added from now on ignore case.
    public var caseInsensitive = false

    private struct PayloadPattern {
        /// Nil for any tag.
        var tags: Set<VSLTag>?
        var regex: Regex<AnyRegexOutput>
    }

    private var hidden = Set<VSLTag>()
    private var sawTagOption = false
    private var shownByPattern: [PayloadPattern] = []
    private var hiddenByPattern: [PayloadPattern] = []

    public init() {}

    /// `-i taglist`: show these tags (names, unique prefixes or globs, comma-separated).
    public mutating func include(tags list: String) throws {
        startTagOption(including: true)
        hidden.subtract(try tags("i", list))
    }

    /// `-x taglist`: hide these tags.
    public mutating func exclude(tags list: String) throws {
        startTagOption(including: false)
        hidden.formUnion(try tags("x", list))
    }

    /// `-I [taglist:]regex`: show records whose payload matches (only of those tags if given).
    public mutating func include(matching spec: String) throws {
        startTagOption(including: true)
        shownByPattern.append(try pattern("I", spec))
    }

    /// `-X [taglist:]regex`: hide records whose payload matches.
    public mutating func exclude(matching spec: String) throws {
        startTagOption(including: false)
        hiddenByPattern.append(try pattern("X", spec))
    }

    /// Applies one varnishlog option by its letter (`c b E C i x I X`); false for a letter
    /// this filter does not handle.
    @discardableResult
    public mutating func apply(option: Character, argument: String = "") throws -> Bool {
        switch option {
        case "c": clientOnly = true
        case "b": backendOnly = true
        case "E":
            includeESI = true
            clientOnly = true
        case "C": caseInsensitive = true
        case "i": try include(tags: argument)
        case "x": try exclude(tags: argument)
        case "I": try include(matching: argument)
        case "X": try exclude(matching: argument)
        default: return false
        }
        return true
    }

    /// Whether varnishlog would print this record.
    public func matches(_ record: VSLRecord) -> Bool {
        if clientOnly, record.side != .client { return false }
        if backendOnly, record.side != .backend { return false }
        if !shownByPattern.isEmpty, Self.anyMatch(shownByPattern, record) { return true }
        if !hiddenByPattern.isEmpty, Self.anyMatch(hiddenByPattern, record) { return false }
        return !hidden.contains(record.tag)
    }

    /// Whether varnishlog prints this transaction of a group at all (`-c`, `-b`, `-E`).
    public func shows(_ transaction: VSLTransaction) -> Bool {
        guard clientOnly || backendOnly else { return true }
        switch transaction.type {
        case .request: return clientOnly && (transaction.reason != .esi || includeESI)
        case .backendRequest: return backendOnly
        case .raw: return true
        case .session, .unknown: return false
        }
    }

    // MARK: - Building

    private mutating func startTagOption(including: Bool) {
        if !sawTagOption, including { hidden = Set(VSLTag.allCases) }
        sawTagOption = true
    }

    private func tags(_ option: Character, _ list: some StringProtocol) throws -> [VSLTag] {
        do {
            return try VSLTag.matching(list: list)
        } catch .noMatch {
            throw VSLOptionError(message: "-\(option): \"\(list)\" matches zero tags")
        } catch .ambiguous {
            throw VSLOptionError(message: "-\(option): \"\(list)\" is ambiguous")
        } catch {
            throw VSLOptionError(message: "-\(option): Syntax error in \"\(list)\"")
        }
    }

    private func pattern(_ option: Character, _ spec: String) throws -> PayloadPattern {
        var tagSet: Set<VSLTag>?
        var expression = Substring(spec)
        if let colon = spec.firstIndex(of: ":") {
            tagSet = Set(try tags(option, spec[..<colon]))
            expression = spec[spec.index(after: colon)...]
        }
        do {
            var regex = try Regex(String(expression)).matchingSemantics(.unicodeScalar)
            if caseInsensitive { regex = regex.ignoresCase() }
            return PayloadPattern(tags: tagSet, regex: regex)
        } catch {
            throw VSLOptionError(message: "-\(option): Regex error (\(error))")
        }
    }

    /// varnishlog matches `-I`/`-X` patterns against the payload with its terminating NUL,
    /// so `$` never matches at the end; the same subject is used here.
    private static func anyMatch(_ patterns: [PayloadPattern], _ record: VSLRecord) -> Bool {
        let subject = String(decoding: record.payload + [0], as: UTF8.self)
        return patterns.contains { pattern in
            if let tags = pattern.tags, !tags.contains(record.tag) { return false }
            return (try? pattern.regex.firstMatch(in: subject)) != nil
        }
    }
}
