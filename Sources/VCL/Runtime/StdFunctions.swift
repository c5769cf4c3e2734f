/// The run-time parts of `std` that are more than a line.
enum StdFunctions {
    /// Parses `"10s"`, `"1.5h"`, `"100ms"`; nil when malformed.
    static func parseDuration(_ text: String) -> Double? {
        let trimmed = text.trimmingASCIISpaces
        let units: [(String, Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800), ("y", 31_536_000),
        ]
        for (unit, scale) in units where trimmed.hasSuffix(unit) {
            let number = trimmed.dropLast(unit.count)
            if let value = Double(number), !number.isEmpty, number.last != "m" { return value * scale }
        }
        return nil
    }

    /// Sorts the query parameters of a URL by name (stable), as std.querysort does.
    static func querysort(_ url: String) -> String {
        guard let question = url.firstIndex(of: "?") else { return url }
        let path = url[..<question]
        let query = url[url.index(after: question)...]
        let parameters = query.split(separator: "&", omittingEmptySubsequences: true)
        if parameters.isEmpty { return String(path) }
        let sorted = parameters.enumerated().sorted { lhs, rhs in
            let a = lhs.element.prefix { $0 != "=" }, b = rhs.element.prefix { $0 != "=" }
            return a == b ? lhs.offset < rhs.offset : a < b
        }
        return path + "?" + sorted.map(\.element).joined(separator: "&")
    }

    /// All values of the header that a `*.http.NAME` variable names, in order.
    static func headerValues(_ variable: String, _ header: String, _ context: VCLContext) -> [String] {
        if variable.hasPrefix("req.") { return context.req.headers.values(header) }
        if variable.hasPrefix("bereq.") { return context.bereq.headers.values(header) }
        if variable.hasPrefix("beresp.") { return context.beresp.headers.values(header) }
        if variable.hasPrefix("obj.") { return context.obj.headers.values(header) }
        return context.resp.headers.values(header)
    }
}

extension StringProtocol {
    /// The text without leading and trailing ASCII spaces and tabs.
    var trimmingASCIISpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
