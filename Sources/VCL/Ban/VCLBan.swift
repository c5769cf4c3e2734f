/// A parsed ban expression (`req.url ~ ^/news && obj.http.X-Tag == sport`), as issued by
/// `ban()`, legacy `purge_url()` or the admin `ban` command, ready to test cached objects.
///
/// Fields: `req.url`, `req.http.NAME`, `obj.status`, `obj.http.NAME`, `obj.ttl`, `obj.age`,
/// `obj.grace`, `obj.keep`. Operators: `==`, `!=`, `~`, `!~`, and `<`, `<=`, `>`, `>=` for
/// `obj.status` and the durations. Arguments are bare words or `"quoted"` (with `\"` escapes).
public struct VCLBan: Sendable, CustomStringConvertible {
    public enum Field: Sendable, Equatable {
        case url
        case requestHeader(String)
        case status
        case objectHeader(String)
        case ttl, age, grace, keep
    }

    public enum Operator: String, Sendable {
        case equal = "==", notEqual = "!=", matches = "~", notMatches = "!~"
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    public struct Condition: Sendable {
        public let field: Field
        public let op: Operator
        public let argument: String
        let regex: VCLRegex?
        let number: Double?
    }

    /// Why a ban expression was refused, with the byte offset in it.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public let offset: Int
        public var description: String { "\(message) (at offset \(offset))" }
    }

    public let text: String
    public let conditions: [Condition]

    public var description: String { text }

    /// True when a condition reads `req.*`: such a ban can only be tested at lookup time,
    /// not by a background lurker.
    public var usesRequest: Bool { conditions.contains(where: \.readsRequest) }

    /// True when a condition reads `obj.*` (varnishstat's `bans_obj` counts these bans, as
    /// `bans_req` counts those that read `req.*`; a ban may read both).
    public var readsObject: Bool { conditions.contains { !$0.readsRequest } }

    /// True when a condition reads a request field a stored object's cache key does not hold
    /// (a header other than Host): only a lookup, with its request, can test the ban.
    public var needsRequest: Bool {
        conditions.contains { condition in
            if case .requestHeader(let name) = condition.field { return name.lowercased() != "host" }
            return false
        }
    }

    public init(_ text: String) throws(ParseError) {
        self.text = text
        var scanner = BanScanner(text: text)
        var conditions: [Condition] = []
        repeat {
            conditions.append(try scanner.condition())
        } while try scanner.conjunction()
        self.conditions = conditions
    }

    /// True when every condition holds for `object` (and `request`, which fields `req.*` read;
    /// without one, such conditions are false). Pass a `scratch` owned by the calling thread to
    /// match regexes without allocating.
    public func matches(object: VCLObject, request: VCLClientRequest?, scratch: VCLRegex.Scratch? = nil) -> Bool {
        let space = scratch ?? VCLRegex.Scratch(pairs: 1)
        return conditions.allSatisfy { $0.holds(object: object, request: request, scratch: space) }
    }

    /// As `matches`, adding to `tests` how many conditions were evaluated (they stop at the
    /// first that fails): varnishstat's `bans_tests_tested` and `bans_lurker_tests_tested`.
    public func matches(
        object: VCLObject, request: VCLClientRequest?, scratch: VCLRegex.Scratch, tests: inout Int
    ) -> Bool {
        for condition in conditions {
            tests += 1
            if !condition.holds(object: object, request: request, scratch: scratch) { return false }
        }
        return true
    }
}

extension VCLBan.Condition {
    var readsRequest: Bool {
        switch field {
        case .url, .requestHeader: true
        default: false
        }
    }

    func holds(object: VCLObject, request: VCLClientRequest?, scratch: VCLRegex.Scratch) -> Bool {
        let value: String?
        var numeric: Double?
        switch field {
        case .url: value = request?.url
        case .requestHeader(let name): value = request?.headers[name]
        case .objectHeader(let name): value = object.headers[name]
        case .status:
            value = String(object.status)
            numeric = Double(object.status)
        case .ttl: numeric = object.ttl; value = ValueFormat.real(object.ttl)
        case .age: numeric = object.age; value = ValueFormat.real(object.age)
        case .grace: numeric = object.grace; value = ValueFormat.real(object.grace)
        case .keep: numeric = object.keep; value = ValueFormat.real(object.keep)
        }
        if case .url = field, request == nil { return false }
        if case .requestHeader = field, request == nil { return false }
        switch op {
        case .equal:
            if let numeric, let number { return numeric == number }
            return value == argument
        case .notEqual:
            if let numeric, let number { return numeric != number }
            return value != argument
        case .matches: return value.map { regex?.matches($0, scratch: scratch) ?? false } ?? false
        case .notMatches: return !(value.map { regex?.matches($0, scratch: scratch) ?? false } ?? false)
        case .less: return (numeric ?? .nan) < (number ?? .nan)
        case .lessOrEqual: return (numeric ?? .nan) <= (number ?? .nan)
        case .greater: return (numeric ?? .nan) > (number ?? .nan)
        case .greaterOrEqual: return (numeric ?? .nan) >= (number ?? .nan)
        }
    }
}
