import VCL

/// The directives of a `Cache-Control` field (RFC 9111 §5.2), request or response.
///
/// Directive names are case-insensitive; whitespace around elements, `=` and empty list
/// elements are tolerated; arguments may be tokens or quoted strings (§5.2: recipients
/// accept both forms). When a directive appears more than once, the first occurrence wins
/// (§4.2.1). A delta-seconds argument that is missing or not a valid number counts as 0,
/// i.e. stale (the most restrictive reading, §4.2.1); overflow clamps to 2^31 (§1.2.2).
/// Unknown directives are ignored (§5.2.3).
public struct CacheControl: Sendable, Equatable {
    /// `max-age` (§5.2.1.1, §5.2.2.1).
    public var maxAge: Int?
    /// `s-maxage` (§5.2.2.10).
    public var sMaxAge: Int?
    /// `no-cache`, with or without a field list (§5.2.1.4, §5.2.2.4).
    public var noCache = false
    /// The lower-cased field names of a qualified `no-cache="a, b"`; nil when unqualified.
    public var noCacheFields: [String]?
    /// `no-store` (§5.2.1.5, §5.2.2.5).
    public var noStore = false
    /// `private`, with or without a field list (§5.2.2.7).
    public var isPrivate = false
    /// The lower-cased field names of a qualified `private="a, b"`; nil when unqualified.
    public var privateFields: [String]?
    /// `public` (§5.2.2.9).
    public var isPublic = false
    /// `must-revalidate` (§5.2.2.2).
    public var mustRevalidate = false
    /// `proxy-revalidate` (§5.2.2.8).
    public var proxyRevalidate = false
    /// `must-understand` (§5.2.2.3).
    public var mustUnderstand = false
    /// `no-transform` (§5.2.1.6, §5.2.2.6).
    public var noTransform = false
    /// `stale-while-revalidate` (RFC 5861 §3).
    public var staleWhileRevalidate: Int?
    /// `stale-if-error` (RFC 5861 §4).
    public var staleIfError: Int?
    /// `immutable` (RFC 8246).
    public var immutable = false
    /// Request `max-stale` (§5.2.1.2); without an argument, 2^31 (any staleness).
    public var maxStale: Int?
    /// Request `min-fresh` (§5.2.1.3).
    public var minFresh: Int?
    /// Request `only-if-cached` (§5.2.1.7).
    public var onlyIfCached = false

    /// No directives.
    public init() {}

    /// Parses one field value.
    public init(_ fieldValue: some StringProtocol) {
        parse(fieldValue)
    }

    /// Parses several field lines as one list (RFC 9110 §5.3), in order.
    public init<S: Sequence>(fieldValues: S) where S.Element: StringProtocol {
        for value in fieldValues { parse(value) }
    }

    /// Parses every `Cache-Control` line of `headers`.
    public init(_ headers: HeaderList) {
        for field in headers where field.name.isFieldName("cache-control") { parse(field.value) }
    }

    /// Parses every line of another field with the same syntax, e.g. `Surrogate-Control`.
    public init(_ headers: HeaderList, fieldName: String) {
        let lowercased = fieldName.lowercased()
        for field in headers where field.name.isFieldName(lowercased) { parse(field.value) }
    }

    /// True when no directive this type knows was seen.
    public var isEmpty: Bool { self == CacheControl() }

    /// Adds the directives of one more field line; earlier directives keep precedence.
    public mutating func parse(_ fieldValue: some StringProtocol) {
        withBytes(fieldValue) { bytes in
            HTTPList.forEachElement(bytes) { element in
                apply(DirectiveElement(element))
                return true
            }
        }
    }

    private mutating func apply(_ d: DirectiveElement) {
        let name = d.name
        switch name.count {
        case 6:
            if name.equalsLowercased("public") { isPublic = true }
        case 7:
            if name.equalsLowercased("max-age") {
                if maxAge == nil { maxAge = d.deltaSeconds }
            } else if name.equalsLowercased("private") {
                if !isPrivate {
                    isPrivate = true
                    privateFields = d.fieldNames
                }
            }
        case 8:
            if name.equalsLowercased("no-cache") {
                if !noCache {
                    noCache = true
                    noCacheFields = d.fieldNames
                }
            } else if name.equalsLowercased("s-maxage") {
                if sMaxAge == nil { sMaxAge = d.deltaSeconds }
            } else if name.equalsLowercased("no-store") {
                noStore = true
            }
        case 9:
            if name.equalsLowercased("immutable") {
                immutable = true
            } else if name.equalsLowercased("max-stale") {
                if maxStale == nil { maxStale = d.argument.isAbsent ? DeltaSeconds.maximum : d.deltaSeconds }
            } else if name.equalsLowercased("min-fresh") {
                if minFresh == nil { minFresh = d.deltaSeconds }
            }
        case 12:
            if name.equalsLowercased("no-transform") { noTransform = true }
        case 14:
            if name.equalsLowercased("stale-if-error") {
                if staleIfError == nil { staleIfError = d.deltaSeconds }
            } else if name.equalsLowercased("only-if-cached") {
                onlyIfCached = true
            }
        case 15:
            if name.equalsLowercased("must-revalidate") {
                mustRevalidate = true
            } else if name.equalsLowercased("must-understand") {
                mustUnderstand = true
            }
        case 16:
            if name.equalsLowercased("proxy-revalidate") { proxyRevalidate = true }
        case 22:
            if name.equalsLowercased("stale-while-revalidate") {
                if staleWhileRevalidate == nil { staleWhileRevalidate = d.deltaSeconds }
            }
        default:
            break
        }
    }
}

/// One `cache-directive = token [ "=" ( token / quoted-string ) ]` (RFC 9111 §5.2), split
/// without allocating. Malformed elements keep their name and get a `.malformed` argument.
struct DirectiveElement {
    enum Argument {
        case absent
        case token(Bytes)
        /// The bytes between the quotes; `escaped` when they contain quoted-pairs.
        case quoted(Bytes, escaped: Bool)
        case malformed

        var isAbsent: Bool { if case .absent = self { true } else { false } }
    }

    var name: Bytes
    var argument: Argument

    /// Also accepts a `;`-suffixed target (`no-store;abc`, Edge Architecture
    /// Surrogate-Control), which ends the name.
    init(_ element: Bytes) {
        var i = element.startIndex
        while i < element.endIndex, ASCII.isTokenChar(element[i]) { element.formIndex(after: &i) }
        name = element[element.startIndex..<i]
        var rest = element[i...].trimmingOWS()
        guard let first = rest.first else {
            argument = .absent
            return
        }
        guard first == ASCII.equals else {
            argument = .malformed
            return
        }
        rest = rest.dropFirst().trimmingOWS()
        guard let open = rest.first else {
            argument = .malformed
            return
        }
        if open == ASCII.quote {
            var j = rest.index(after: rest.startIndex)
            let contentStart = j
            var escaped = false
            while j < rest.endIndex, rest[j] != ASCII.quote {
                if rest[j] == ASCII.backslash {
                    escaped = true
                    rest.formIndex(after: &j)
                    if j == rest.endIndex { break }
                }
                rest.formIndex(after: &j)
            }
            // Must close, and nothing may follow the closing quote.
            guard j < rest.endIndex, rest.index(after: j) == rest.endIndex else {
                argument = .malformed
                return
            }
            argument = .quoted(rest[contentStart..<j], escaped: escaped)
        } else if rest.isToken {
            argument = .token(rest)
        } else {
            argument = .malformed
        }
    }

    /// The argument as delta-seconds; 0 when missing or invalid (treated as stale).
    var deltaSeconds: Int {
        switch argument {
        case .token(let bytes), .quoted(let bytes, escaped: false):
            return DeltaSeconds.parse(bytes) ?? 0
        case .absent, .quoted(_, escaped: true), .malformed:
            return 0
        }
    }

    /// The argument as a list of lower-cased field names; nil when there is none.
    /// A malformed argument qualifies nothing (nil: the unqualified, stricter directive).
    var fieldNames: [String]? {
        let list: Bytes
        switch argument {
        case .token(let bytes), .quoted(let bytes, escaped: false): list = bytes
        case .absent, .malformed, .quoted(_, escaped: true): return nil
        }
        var names: [String] = []
        var valid = true
        HTTPList.forEachElement(list) { element in
            guard element.isToken else {
                valid = false
                return false
            }
            names.append(element.lowercasedString())
            return true
        }
        return valid && !names.isEmpty ? names : nil
    }
}
