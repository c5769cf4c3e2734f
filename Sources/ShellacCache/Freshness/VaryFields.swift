import VCL

/// The field names a response varies on (RFC 9110 §12.5.5, RFC 9111 §4.1).
public enum VaryFields: Sendable, Equatable {
    /// Lower-cased, de-duplicated field names in first-seen order; empty when the
    /// response has no (or an empty) `Vary`.
    case fields([String])
    /// `Vary: *`, alone or in a list: no later request matches (uncacheable). A `Vary`
    /// whose elements are not field names also lands here, so a malformed Vary can never
    /// make two different requests share a variant.
    case any

    public static let none = VaryFields.fields([])

    /// Parses one `Vary` field value.
    public init(_ fieldValue: some StringProtocol) {
        var names: [String] = []
        self = withBytes(fieldValue) { Self.parse($0, into: &names) } ? .fields(names) : .any
    }

    /// Parses every `Vary` line of `headers` as one list.
    public init(_ headers: HeaderList) {
        var names: [String] = []
        for field in headers where field.name.isFieldName("vary") {
            guard withBytes(field.value, { Self.parse($0, into: &names) }) else {
                self = .any
                return
            }
        }
        self = .fields(names)
    }

    /// False for `*` or a malformed element. Whitespace inside an element separates
    /// names, as Varnish reads it (varying on more fields is always safe).
    private static func parse(_ value: Bytes, into names: inout [String]) -> Bool {
        var ok = true
        HTTPList.forEachElement(value) { element in
            var i = element.startIndex
            while i < element.endIndex {
                while i < element.endIndex, ASCII.isOWS(element[i]) { element.formIndex(after: &i) }
                let start = i
                while i < element.endIndex, !ASCII.isOWS(element[i]) { element.formIndex(after: &i) }
                let name = element[start..<i]
                if name.isEmpty { break }
                guard name.isToken, !(name.count == 1 && name.first == UInt8(ascii: "*")) else {
                    ok = false
                    return false
                }
                let lowered = name.lowercasedString()
                if !names.contains(lowered) { names.append(lowered) }
            }
            return true
        }
        return ok
    }
}

/// The request header values a stored variant was selected with (RFC 9111 §4.1).
public struct VariantKey: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// Lower-case field name.
        public var name: String
        /// The request's field lines joined with ", " (`Accept-Encoding` normalised to
        /// `gzip` or absent); nil when the request had no such field.
        public var value: String?

        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }

        /// Byte-wise, like `matches(_:)` (not Unicode canonical equivalence).
        public static func == (lhs: Entry, rhs: Entry) -> Bool {
            guard lhs.name.utf8.elementsEqual(rhs.name.utf8) else { return false }
            switch (lhs.value, rhs.value) {
            case (nil, nil): return true
            case (let a?, let b?): return a.utf8.elementsEqual(b.utf8)
            default: return false
            }
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// Captures `request`'s values of the `fields` of a response's Vary (see `VaryFields`).
    public init(fields: [String], request: HeaderList) {
        entries = fields.map { name in
            let lowercased = name.lowercased()
            return Entry(name: lowercased, value: Self.requestValue(lowercased, in: request))
        }
    }

    /// No fields: matches every request.
    public var isEmpty: Bool { entries.isEmpty }

    /// Whether `request` selects this variant: every varied field is absent in both or
    /// present in both with the same value after combining lines (RFC 9111 §4.1).
    /// Allocates nothing unless a varied field has several lines in `request`.
    public func matches(_ request: HeaderList) -> Bool {
        for entry in entries {
            if entry.name.isFieldName("accept-encoding") {
                if AcceptEncoding.normalized(request) != entry.value { return false }
                continue
            }
            var lines = 0
            var firstLineMatches = false
            for field in request where field.name.isFieldName(entry.name) {
                lines += 1
                if lines == 1, let stored = entry.value {
                    firstLineMatches = withBytes(field.value) { value in
                        withBytes(stored) { value.trimmingOWS().elementsEqual($0) }
                    }
                }
            }
            switch (lines, entry.value) {
            case (0, nil): continue
            case (0, _), (_, nil): return false
            case (1, _):
                if !firstLineMatches { return false }
            case (_, let stored?):
                guard let combined = Self.requestValue(entry.name, in: request),
                    combined.utf8.elementsEqual(stored.utf8)
                else { return false }
            }
        }
        return true
    }

    /// The value stored for field `name` of `request`.
    public static func requestValue(_ name: String, in request: HeaderList) -> String? {
        if name.isFieldName("accept-encoding") { return AcceptEncoding.normalized(request) }
        var combined: String?
        for field in request where field.name.isFieldName(name) {
            let value = withBytes(field.value) { $0.trimmingOWS().string }
            if combined == nil {
                combined = value
            } else {
                combined?.append(", ")
                combined?.append(value)
            }
        }
        return combined
    }
}
