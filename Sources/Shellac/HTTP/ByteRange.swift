import ShellacCache

/// A client's `Range` against a representation of known length (RFC 9110 §14), read as
/// Varnish reads it, one range at a time, with two differences the RFC decides (see
/// docs/rfc-vs-varnish.md): a unit other than `bytes` and a list of several ranges are
/// ignored (the whole 200), where Varnish answers 416.
enum ByteRange {
    enum Outcome: Equatable {
        /// Ignore the Range: send the whole representation.
        case full
        /// Send bytes `low...high` (inclusive) as a 206.
        case partial(low: Int, high: Int)
        /// A 416: the range is invalid or starts past the end.
        case unsatisfiable
    }

    static func evaluate(_ header: Substring, length: Int) -> Outcome {
        guard let equals = header.firstIndex(of: "=") else { return .unsatisfiable }
        let unit = header[..<equals].trimmingOWS()
        guard unit.utf8.elementsEqual("bytes".utf8) || unit.lowercased() == "bytes" else { return .full }
        let set = header[header.index(after: equals)...].trimmingOWS()
        if set.contains(",") {
            // Several ranges: valid ones may be ignored (RFC 9110 §14.2); broken ones are a 416.
            return set.split(separator: ",").allSatisfy { parse(Substring($0.trimmingOWS())) != nil } ? .full : .unsatisfiable
        }
        guard let (first, last) = parse(Substring(set)) else { return .unsatisfiable }
        guard length > 0 else { return .unsatisfiable }
        if let first {
            guard first < length else { return .unsatisfiable }
            return .partial(low: first, high: min(last ?? length - 1, length - 1))
        }
        guard let suffix = last else { return .unsatisfiable }  // parse refuses this
        return .partial(low: max(length - suffix, 0), high: length - 1)
    }

    /// `first-last`, `first-` or `-suffix`; nil when malformed (no digits, last < first, a
    /// zero suffix, trailing bytes).
    private static func parse(_ spec: Substring) -> (first: Int?, last: Int?)? {
        guard let hyphen = spec.firstIndex(of: "-") else { return nil }
        let firstText = spec[..<hyphen]
        let lastText = spec[spec.index(after: hyphen)...].trimmingOWS()
        let first = firstText.isEmpty ? nil : number(firstText)
        let last = lastText.isEmpty ? nil : number(Substring(lastText))
        if !firstText.isEmpty && first == nil { return nil }
        if !lastText.isEmpty && last == nil { return nil }
        switch (first, last) {
        case (nil, nil): return nil
        case (nil, let suffix?): return suffix > 0 ? (nil, suffix) : nil
        case (let low?, let high?): return high >= low ? (low, high) : nil
        case (let low?, nil): return (low, nil)
        }
    }

    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(text)
    }

    /// `If-Range` (RFC 9110 §13.1.5): the range applies only if the validator is the stored
    /// response's strong ETag, or its Last-Modified date exactly (and that date is at least
    /// 60 s older than its Date, as Varnish and the RFC's strong-date rule require).
    static func ifRangeHolds(_ value: String, etag: String?, lastModified: String?, date: String?) -> Bool {
        let value = value.trimmingOWS()
        if value.hasPrefix("W/") { return false }
        if value.hasPrefix("\"") {
            guard let etag, !etag.hasPrefix("W/") else { return false }
            return value == etag.trimmingOWS()
        }
        guard let wanted = HTTPDate.parse(value), let lastModified, let modified = HTTPDate.parse(lastModified),
              let date, let dated = HTTPDate.parse(date) else { return false }
        return modified <= dated - 60 && modified == wanted
    }

    /// Whether a backend response's `Content-Range` fits the request (Varnish's
    /// `VRG_CheckBo`): none at all is fine; one without a Range in the request, one that does
    /// not parse, or one whose start, end or length disagrees with the request and the
    /// `Content-Length` is not, and the fetch fails.
    static func backendResponseIsConsistent(
        requestRange: String?, contentRange: String?, contentLength: Int?, status: Int
    ) -> Bool {
        guard let contentRange else { return true }
        var requested: (first: Int?, last: Int?)?
        if let requestRange {
            guard let equals = requestRange.firstIndex(of: "="),
                  requestRange[..<equals].trimmingOWS().lowercased() == "bytes",
                  let parsed = parse(Substring(requestRange[requestRange.index(after: equals)...].trimmingOWS()))
            else { return false }
            requested = parsed
        }
        // `bytes first-last/length` or `bytes */length`.
        let text = contentRange.trimmingOWS()
        guard text.lowercased().hasPrefix("bytes "), let slash = text.firstIndex(of: "/") else { return false }
        let span = text[text.index(text.startIndex, offsetBy: 6)..<slash].trimmingOWS()
        let lengthText = text[text.index(after: slash)...].trimmingOWS()
        guard lengthText == "*" || number(Substring(lengthText)) != nil else { return false }
        guard let requested else { return false }  // a Content-Range nobody asked for
        var low: Int
        var high: Int
        if span == "*" {
            if status == 416 { return true }
            guard let total = number(Substring(lengthText)) else { return false }
            low = 0
            high = total - 1
        } else {
            guard let hyphen = span.firstIndex(of: "-"), let first = number(Substring(span[..<hyphen])),
                  let last = number(Substring(span[span.index(after: hyphen)...])), last >= first else { return false }
            low = first
            high = last
        }
        if let contentLength, contentLength != high - low + 1 { return false }
        guard let first = requested.first else { return true }  // a suffix: the end was the backend's to choose
        if first != low { return false }
        if let last = requested.last, last < high { return false }
        return true
    }
}
