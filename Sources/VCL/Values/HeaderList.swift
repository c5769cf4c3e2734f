/// An ordered list of HTTP header fields, as VCL sees `req.http.*`, `beresp.http.*` and friends.
///
/// Names keep the case they arrived with; every lookup is ASCII case-insensitive, as RFC 9110
/// says. Small lists are the norm (10–30 fields), so a linear scan beats hashing here.
public struct HeaderList: Sendable, Equatable, Sequence {
    public typealias Field = (name: String, value: String)

    public private(set) var fields: [Field]

    public init() { fields = [] }

    public init(_ fields: [Field]) { self.fields = fields }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        for field in fields where field.name.equalsIgnoringASCIICase(name) { return field.value }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.lazy.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Appends a field, keeping any existing ones of the same name.
    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    /// Replaces every field of `name` with one field (appended where the first one stood).
    public mutating func set(_ name: String, _ value: String) {
        if let first = fields.firstIndex(where: { $0.name.equalsIgnoringASCIICase(name) }) {
            fields[first].value = value
            var index = fields.count - 1
            while index > first {
                if fields[index].name.equalsIgnoringASCIICase(name) { fields.remove(at: index) }
                index -= 1
            }
        } else {
            fields.append((name, value))
        }
    }

    /// Removes every field of `name`.
    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.equalsIgnoringASCIICase(name) }
    }

    public mutating func removeAll(where predicate: (Field) -> Bool) { fields.removeAll(where: predicate) }

    public static func == (lhs: HeaderList, rhs: HeaderList) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}

extension StringProtocol {
    /// ASCII case-insensitive equality, without allocating.
    @inlinable
    public func equalsIgnoringASCIICase<Other: StringProtocol>(_ other: Other) -> Bool {
        let a = self.utf8, b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lx = x | 0x20, ly = y | 0x20
            if lx != ly || lx < UInt8(ascii: "a") || lx > UInt8(ascii: "z") { return false }
        }
        return true
    }
}
