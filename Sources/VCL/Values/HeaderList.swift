/// An ordered list of HTTP header fields, as VCL sees `req.http.*`, `beresp.http.*` and friends.
///
/// Names keep the case they arrived with; every lookup is ASCII case-insensitive, as RFC 9110
/// says. Small lists are the norm (10–30 fields), so a linear scan beats hashing here.
///
/// A list may start from stored lines (`init(raw:)`): those fields stay bytes until read, and
/// names removed from them are only remembered, so a cache hit's VCL that adds a field or two
/// costs no decoding and `serialize` copies the stored lines out as they are. The first change
/// to a stored field itself (`set` of a stored name, `removeAll(where:)`) decodes the list.
public struct HeaderList: Sendable, Equatable, Sequence {
    public typealias Field = (name: String, value: String)

    /// Stored lines not yet decoded (they come before `added`). Nil for a list built field by
    /// field: no cost there.
    private var stored: StoredLines?
    /// Decoded fields, after the stored ones.
    private var added: [Field]
    /// `RawHeaderLines.nameBit` of every name in `added`, or'ed. A removal may leave its bit
    /// set (a false alarm, never a miss), so asking for a field that was never added (the
    /// usual case: VCL adding a field, the server removing framing fields) needs no scan.
    private var addedNames: UInt64

    public init() {
        added = []
        addedNames = 0
    }

    public init(_ fields: [Field]) {
        added = fields
        addedNames = Self.summary(of: fields)
    }

    /// A list made of stored header lines, decoded only as they are read.
    public init(raw: RawHeaderLines) {
        stored = StoredLines(lines: raw)
        added = []
        addedNames = 0
    }

    /// Makes this list `raw`'s lines and nothing else, keeping the room its added fields had:
    /// a connection refills `obj` and `resp` on every delivery without allocating.
    public mutating func reset(toStored raw: RawHeaderLines) {
        stored = StoredLines(lines: raw)
        added.removeAll(keepingCapacity: true)
        addedNames = 0
    }

    /// Stored lines, the names removed from them, and a one-word summary of the names they
    /// hold (from the lines' own summary, or made on the first change that asks), so changes
    /// naming a field they lack need no scan. A list that is only read never pays for it.
    private struct StoredLines: Sendable {
        let lines: RawHeaderLines
        var removed: [String] = []
        private var names: UInt64?

        init(lines: RawHeaderLines) {
            self.lines = lines
            names = lines.nameSummary
        }

        mutating func summarise() {
            guard names == nil else { return }
            var names: UInt64 = 0
            lines.forEachLine { name, _, _ in
                names |= RawHeaderLines.nameBit(name)
                return true
            }
            self.names = names
        }

        /// False when no stored line can be named `name` (true may still be a false alarm).
        func mayContain(_ name: String) -> Bool {
            guard let names else { return true }
            return names & RawHeaderLines.nameBit(name.utf8) != 0
        }

        func isRemoved(_ name: String) -> Bool {
            !removed.isEmpty && removed.contains { $0.equalsIgnoringASCIICase(name) }
        }

        func isRemoved(_ lineName: UnsafeBufferPointer<UInt8>) -> Bool {
            !removed.isEmpty && removed.contains { RawHeaderLines.matches(lineName, $0) }
        }

        /// Whether a line not removed is named `name`.
        func contains(_ name: String) -> Bool {
            mayContain(name) && !isRemoved(name) && lines.contains(name)
        }
    }

    private static func summary(of fields: [Field]) -> UInt64 {
        fields.reduce(0) { $0 | RawHeaderLines.nameBit($1.name.utf8) }
    }

    /// False when no added field can be named `name`.
    private func mayHaveAdded(_ name: String) -> Bool {
        addedNames & RawHeaderLines.nameBit(name.utf8) != 0
    }

    /// Every field, in order.
    public var fields: [Field] {
        guard let raw = stored?.lines else { return added }
        var all: [Field] = []
        raw.forEachLine { name, value, _ in
            if !isRemoved(name) { all.append((RawHeaderLines.string(name), RawHeaderLines.string(value))) }
            return true
        }
        all.append(contentsOf: added)
        return all
    }

    public var count: Int {
        guard let raw = stored?.lines else { return added.count }
        var count = added.count
        raw.forEachLine { name, _, _ in
            if !isRemoved(name) { count += 1 }
            return true
        }
        return count
    }

    public var isEmpty: Bool { count == 0 }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        if let value = rawValue(name) { return value }
        guard mayHaveAdded(name) else { return nil }
        for field in added where field.name.equalsIgnoringASCIICase(name) { return field.value }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        var values: [String] = []
        if let raw = stored?.lines, !isRemoved(name) {
            raw.forEachLine { lineName, value, _ in
                if RawHeaderLines.matches(lineName, name) { values.append(RawHeaderLines.string(value)) }
                return true
            }
        }
        for field in added where field.name.equalsIgnoringASCIICase(name) { values.append(field.value) }
        return values
    }

    public func contains(_ name: String) -> Bool {
        rawContains(name) || addedContains(name)
    }

    /// Appends a field, keeping any existing ones of the same name.
    public mutating func add(_ name: String, _ value: String) {
        // A delivery adds a few fields to the stored ones (Age, X-Varnish, Via, VCL's own):
        // one allocation for all. Only on the first add, so a list that is only read has none.
        if added.isEmpty && stored != nil { added.reserveCapacity(8) }
        added.append((name, value))
        addedNames |= RawHeaderLines.nameBit(name.utf8)
    }

    /// Replaces every field of `name` with one field (appended where the first one stood).
    public mutating func set(_ name: String, _ value: String) {
        stored?.summarise()
        if rawContains(name) { decode() }
        if mayHaveAdded(name), let first = added.firstIndex(where: { $0.name.equalsIgnoringASCIICase(name) }) {
            added[first].value = value
            var index = added.count - 1
            while index > first {
                if added[index].name.equalsIgnoringASCIICase(name) { added.remove(at: index) }
                index -= 1
            }
        } else {
            add(name, value)
        }
    }

    /// Removes every field of `name`.
    public mutating func remove(_ name: String) {
        stored?.summarise()
        if rawContains(name) { stored?.removed.append(name) }
        removeAdded(name)
    }

    /// Removes every field of `name` that is not a stored line, for a caller that knows the
    /// stored lines cannot hold `name` (a cached object never stores framing fields).
    public mutating func removeAdded(_ name: String) {
        // Removing what is not there (the usual case) must not pay for an in-place rewrite.
        if addedContains(name) { added.removeAll { $0.name.equalsIgnoringASCIICase(name) } }
    }

    public mutating func removeAll(where predicate: (Field) -> Bool) {
        decode()
        added.removeAll(where: predicate)
    }

    /// Writes the list out: `rawRun` gets runs of stored lines as they are (CRLFs included),
    /// then `field` each decoded field, in order.
    public func serialize(rawRun: (UnsafeBufferPointer<UInt8>) -> Void, field: (Field) -> Void) {
        if let stored {
            let raw = stored.lines
            raw.bytes.withUnsafeBufferPointer { all in
                if stored.removed.isEmpty {
                    rawRun(UnsafeBufferPointer(rebasing: all[raw.range]))
                    return
                }
                var run = raw.range.lowerBound..<raw.range.lowerBound
                raw.forEachLine { name, _, line in
                    if stored.isRemoved(name) {
                        if !run.isEmpty { rawRun(UnsafeBufferPointer(rebasing: all[run])) }
                        run = line.upperBound..<line.upperBound
                    } else {
                        run = run.lowerBound..<line.upperBound
                    }
                    return true
                }
                if !run.isEmpty { rawRun(UnsafeBufferPointer(rebasing: all[run])) }
            }
        }
        for each in added { field(each) }
    }

    /// The bytes `write(to:)` writes.
    public var serializedCount: Int {
        var count = 0
        if let stored {
            if stored.removed.isEmpty {
                count = stored.lines.range.count
            } else {
                stored.lines.forEachLine { name, _, line in
                    if !stored.isRemoved(name) { count += line.count }
                    return true
                }
            }
        }
        for field in added { count += field.name.utf8.count + field.value.utf8.count + 4 }
        return count
    }

    /// Writes every field as `Name: value\r\n` at `target`, which has room for
    /// `serializedCount` bytes; returns how many it wrote. One pass, no per-field checks.
    public func write(to target: UnsafeMutableRawPointer) -> Int {
        var offset = 0
        serialize(
            rawRun: { run in
                if let base = run.baseAddress { (target + offset).copyMemory(from: base, byteCount: run.count) }
                offset += run.count
            },
            field: { field in
                offset += Self.write(field.name, at: target + offset)
                target.storeBytes(of: UInt8(ascii: ":"), toByteOffset: offset, as: UInt8.self)
                target.storeBytes(of: UInt8(ascii: " "), toByteOffset: offset + 1, as: UInt8.self)
                offset += 2
                offset += Self.write(field.value, at: target + offset)
                target.storeBytes(of: UInt8(ascii: "\r"), toByteOffset: offset, as: UInt8.self)
                target.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: offset + 1, as: UInt8.self)
                offset += 2
            })
        return offset
    }

    private static func write(_ string: String, at target: UnsafeMutableRawPointer) -> Int {
        var string = string
        return string.withUTF8 { bytes in
            if let base = bytes.baseAddress { target.copyMemory(from: base, byteCount: bytes.count) }
            return bytes.count
        }
    }

    public static func == (lhs: HeaderList, rhs: HeaderList) -> Bool {
        let left = lhs.fields, right = rhs.fields
        return left.count == right.count
            && zip(left, right).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    // MARK: - Compiled VCL's header access (names known at load)

    /// The first value of the header `key` names, or nil. Scans in place, without copying fields.
    func first(_ key: HeaderKey) -> String? {
        if let found = storedValue(named: key.name, matching: key.matches) { return found }
        guard mayHaveAdded(key.name) else { return nil }
        return added.withUnsafeBufferPointer { buffer in
            for index in buffer.indices where key.matches(buffer[index].name) { return buffer[index].value }
            return nil
        }
    }

    /// Whether a field `key` names is present (no value is made).
    func contains(_ key: HeaderKey) -> Bool {
        if stored?.mayContain(key.name) == true, stored?.isRemoved(key.name) == false {
            var found = false
            stored?.lines.forEachLine { lineName, _, _ in
                found = key.matches(lineName)
                return !found
            }
            if found { return true }
        }
        return addedContains(key)
    }

    /// Sets the header `key` names to one field with `value` (as `set(_:_:)` does), appending
    /// directly when the header is absent, the usual case.
    mutating func set(_ key: HeaderKey, _ value: String) {
        stored?.summarise()
        if rawContains(key.name) { decode() }
        if addedContains(key) { set(key.name, value) } else { add(key.name, value) }
    }

    /// Removes every field `key` names.
    mutating func remove(_ key: HeaderKey) {
        stored?.summarise()
        if rawContains(key.name) { stored?.removed.append(key.name) }
        // Rebuilding is cheaper than the generic in-place removeAll for these small lists.
        if addedContains(key) { added = added.filter { !key.matches($0.name) } }
    }

    // MARK: - Lookups that copy nothing

    private func addedContains(_ name: String) -> Bool {
        mayHaveAdded(name) && added.contains { $0.name.equalsIgnoringASCIICase(name) }
    }

    private func addedContains(_ key: HeaderKey) -> Bool {
        mayHaveAdded(key.name)
            && added.withUnsafeBufferPointer { buffer in buffer.indices.contains { key.matches(buffer[$0].name) } }
    }

    private func isRemoved(_ lineName: UnsafeBufferPointer<UInt8>) -> Bool {
        stored?.isRemoved(lineName) ?? false
    }

    private func isRemoved(_ name: String) -> Bool {
        stored?.isRemoved(name) ?? false
    }

    private func rawContains(_ name: String) -> Bool {
        stored?.contains(name) ?? false
    }

    private func rawValue(_ name: String) -> String? {
        storedValue(named: name) { RawHeaderLines.matches($0, name) }
    }

    /// The value of the first stored line `matches` accepts, unless `name` was removed.
    private func storedValue(named name: String, matching matches: (UnsafeBufferPointer<UInt8>) -> Bool) -> String? {
        guard stored?.mayContain(name) == true, stored?.isRemoved(name) == false else { return nil }
        var found: String?
        stored?.lines.forEachLine { lineName, value, _ in
            if matches(lineName) { found = RawHeaderLines.string(value) }
            return found == nil
        }
        return found
    }

    /// Turns the stored lines into decoded fields, so any change can be made in place.
    private mutating func decode() {
        guard stored != nil else { return }
        added = fields
        addedNames = Self.summary(of: added)
        stored = nil
    }
}

extension StringProtocol {
    /// ASCII case-insensitive equality, without allocating.
    @inlinable
    public func equalsIgnoringASCIICase<Other: StringProtocol>(_ other: Other) -> Bool {
        let a = self.utf8, b = other.utf8
        guard a.count == b.count else { return false }
        // Native strings compare as two byte buffers; the iterator pair is the general case.
        let fast = a.withContiguousStorageIfAvailable { left in
            b.withContiguousStorageIfAvailable { right in
                for index in 0..<left.count where left[index] != right[index] {
                    if !Self.sameLetter(left[index], right[index]) { return false }
                }
                return true
            }
        }
        if let fast = fast ?? nil { return fast }
        for (x, y) in zip(a, b) where x != y {
            if !Self.sameLetter(x, y) { return false }
        }
        return true
    }

    /// Whether two different bytes are one ASCII letter in two cases.
    @inlinable
    static func sameLetter(_ x: UInt8, _ y: UInt8) -> Bool {
        let lx = x | 0x20
        return lx == y | 0x20 && lx >= UInt8(ascii: "a") && lx <= UInt8(ascii: "z")
    }
}
