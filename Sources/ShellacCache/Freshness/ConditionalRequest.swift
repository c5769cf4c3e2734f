import VCL

/// Answering a client's conditional GET or HEAD from a stored response (RFC 9110 §13,
/// RFC 9111 §4.3.2).
public enum ConditionalRequest {
    /// Whether a hit should be answered `304 Not Modified` (RFC 9110 §13.2.2):
    /// - only for `GET` and `HEAD` (methods are case-sensitive) and a stored 2xx (§13.2.1);
    /// - `If-None-Match`, when present, decides alone (If-Modified-Since is then ignored,
    ///   §13.1.3): `*` matches (a stored response is a current representation), otherwise
    ///   any listed entity-tag that weakly matches the stored `ETag` (§8.8.3.2). A malformed
    ///   list, or a missing or malformed stored `ETag`, matches nothing;
    /// - otherwise `If-Modified-Since` (a single valid HTTP-date, else ignored) matches when
    ///   the stored `Last-Modified` — or `Date`, or the time it was stored (RFC 9111
    ///   §4.3.2) — is not later than it.
    public static func isNotModified(
        method: some StringProtocol,
        request: HeaderList,
        status: Int = 200,
        response: HeaderList,
        storedAt: Double? = nil,
        now: Double? = nil,
        strong: Bool = false
    ) -> Bool {
        guard method == "GET" || method == "HEAD", (200...299).contains(status) else { return false }
        var sawIfNoneMatch = false
        for field in request where field.name.isFieldName("if-none-match") {
            sawIfNoneMatch = true
            break
        }
        if sawIfNoneMatch {
            let etag = response.firstValue("etag") ?? ""
            var matched = false
            var malformed = false
            for field in request where field.name.isFieldName("if-none-match") {
                switch ifNoneMatch(field.value, matches: etag, strong: strong) {
                case .match: matched = true
                case .noMatch: break
                case .malformed: malformed = true
                }
            }
            return matched && !malformed
        }
        var ifModifiedSince: String?
        for field in request where field.name.isFieldName("if-modified-since") {
            guard ifModifiedSince == nil else { return false }  // more than one member: ignore
            ifModifiedSince = field.value
        }
        guard let ifModifiedSince, let since = HTTPDate.parse(ifModifiedSince, now: now) else { return false }
        let modified: Double
        if let value = response.firstValue("last-modified") {
            guard let lastModified = HTTPDate.parse(value, now: now) else { return false }
            modified = Double(lastModified)
        } else if let value = response.firstValue("date"), let date = HTTPDate.parse(value, now: now) {
            modified = Double(date)
        } else if let storedAt {
            modified = storedAt.rounded(.down)
        } else {
            return false
        }
        return modified <= Double(since)
    }

    enum Match { case match, noMatch, malformed }

    /// Evaluates one `If-None-Match` line (`"*"` or `1#entity-tag`) against `etag` with the
    /// weak comparison of RFC 9110 §8.8.3.2, or the strong one when `strong` is set (as
    /// Varnish compares when the request also has a Range: neither tag may be weak).
    static func ifNoneMatch(
        _ value: some StringProtocol, matches etag: some StringProtocol, strong: Bool = false
    ) -> Match {
        withBytes(value) { value in
            let trimmed = value.trimmingOWS()
            if trimmed.count == 1, trimmed.first == UInt8(ascii: "*") { return .match }
            return withBytes(etag) { etag in
                guard let stored = opaqueTag(etag.trimmingOWS()) else {
                    // An unparsable stored ETag matches nothing, but the request may still be malformed.
                    return EntityTagList.isValid(trimmed) ? .noMatch : .malformed
                }
                var result = Match.noMatch
                let storedIsWeak = etag.trimmingOWS().first == UInt8(ascii: "W")
                let valid = EntityTagList.forEach(trimmed) { candidate, isWeak in
                    if candidate.elementsEqual(stored) && !(strong && (isWeak || storedIsWeak)) { result = .match }
                }
                return valid ? result : .malformed
            }
        }
    }

    /// The quoted opaque-tag of an `entity-tag` (RFC 9110 §8.8.3), without any `W/`.
    static func opaqueTag(_ tag: Bytes) -> Bytes? {
        var tag = tag
        if tag.count >= 2, tag.first == UInt8(ascii: "W"), tag.dropFirst().first == UInt8(ascii: "/") {
            tag = tag.dropFirst(2)
        }
        guard tag.count >= 2, tag.first == ASCII.quote, tag.last == ASCII.quote else { return nil }
        for b in tag.dropFirst().dropLast() where !isETagChar(b) { return nil }
        return tag
    }

    /// `etagc = %x21 / %x23-7E / obs-text`
    @inline(__always) static func isETagChar(_ b: UInt8) -> Bool { b == 0x21 || (b >= 0x23 && b != 0x7F) }
}

/// `1#entity-tag` (RFC 9110 §13.1.2), where commas may appear inside the quotes and
/// there are no quoted-pairs.
enum EntityTagList {
    static func isValid(_ list: Bytes) -> Bool { forEach(list) { _, _ in } }

    /// Calls `body` with each opaque-tag (quotes included, `W/` removed) and whether it was
    /// weak; false when the list is malformed (or empty).
    @discardableResult
    static func forEach(_ list: Bytes, _ body: (Bytes, Bool) -> Void) -> Bool {
        var i = list.startIndex
        var count = 0
        while true {
            // Skip OWS and empty elements.
            while i < list.endIndex, ASCII.isOWS(list[i]) || list[i] == ASCII.comma { list.formIndex(after: &i) }
            if i == list.endIndex { return count > 0 }
            let isWeak = list[i] == UInt8(ascii: "W")
            if isWeak {
                list.formIndex(after: &i)
                guard i < list.endIndex, list[i] == UInt8(ascii: "/") else { return false }
                list.formIndex(after: &i)
            }
            guard i < list.endIndex, list[i] == ASCII.quote else { return false }
            let start = i
            list.formIndex(after: &i)
            while i < list.endIndex, list[i] != ASCII.quote {
                guard ConditionalRequest.isETagChar(list[i]) else { return false }
                list.formIndex(after: &i)
            }
            guard i < list.endIndex else { return false }
            list.formIndex(after: &i)
            body(list[start..<i], isWeak)
            count += 1
            // After a tag: OWS then a comma or the end.
            while i < list.endIndex, ASCII.isOWS(list[i]) { list.formIndex(after: &i) }
            if i == list.endIndex { return true }
            guard list[i] == ASCII.comma else { return false }
        }
    }
}
