import VCL

/// `Accept-Encoding` normalisation before Vary matching (RFC 9110 §12.5.3), as Varnish
/// does with `http_gzip_support`: the value becomes `gzip` when the client accepts gzip,
/// else the field is dropped, so clients fall into two variants instead of hundreds.
public enum AcceptEncoding {
    /// `"gzip"` if `value` accepts gzip (`gzip` or its alias `x-gzip` with q > 0, or, when
    /// neither is listed, `*` with q > 0); otherwise nil. Codings are case-insensitive.
    /// An invalid qvalue counts as 0 (never send gzip to a client that may not want it).
    public static func normalized(_ value: String?) -> String? {
        guard let value else { return nil }
        var state = State()
        withBytes(value) { state.scan($0) }
        return state.result
    }

    /// The same over every `Accept-Encoding` line of `headers`.
    public static func normalized(_ headers: HeaderList) -> String? {
        var state = State()
        var seen = false
        for field in headers where field.name.isFieldName("accept-encoding") {
            seen = true
            withBytes(field.value) { state.scan($0) }
        }
        return seen ? state.result : nil
    }

    private struct State {
        var gzip: Bool?  // first explicit gzip / x-gzip: acceptable?
        var star: Bool?  // first `*`: acceptable?

        var result: String? { (gzip ?? star ?? false) ? "gzip" : nil }

        mutating func scan(_ value: Bytes) {
            HTTPList.forEachElement(value) { element in
                var i = element.startIndex
                while i < element.endIndex, ASCII.isTokenChar(element[i]) { element.formIndex(after: &i) }
                let coding = element[element.startIndex..<i]
                let isGzip = coding.equalsLowercased("gzip") || coding.equalsLowercased("x-gzip")
                let isStar = coding.count == 1 && coding.first == UInt8(ascii: "*")
                guard (isGzip && gzip == nil) || (isStar && star == nil) else { return true }
                let acceptable = AcceptEncoding.weightIsPositive(element[i...])
                if isGzip { gzip = acceptable } else { star = acceptable }
                return true
            }
        }
    }

    /// The parameters after a coding: `*( OWS ";" OWS name "=" value )`. True when there
    /// is no `q` or a valid qvalue above 0; false for q=0, an invalid qvalue or junk.
    static func weightIsPositive(_ params: Bytes) -> Bool {
        var rest = params.trimmingOWS()
        var positive = true
        var sawQ = false
        while let first = rest.first {
            guard first == ASCII.semicolon else { return false }
            rest = rest.dropFirst().trimmingOWS()
            var end = rest.startIndex
            while end < rest.endIndex, rest[end] != ASCII.semicolon { rest.formIndex(after: &end) }
            let param = rest[rest.startIndex..<end].trimmingOWS()
            rest = rest[end...]
            guard let eq = param.firstIndex(of: ASCII.equals) else { return false }
            let name = param[param.startIndex..<eq].trimmingOWS()
            let value = param[param.index(after: eq)...].trimmingOWS()
            if name.equalsLowercased("q") {
                guard !sawQ else { return false }
                sawQ = true
                guard let q = qvalue(value) else { return false }
                positive = q > 0
            }
        }
        return positive
    }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths.
    static func qvalue(_ text: some StringProtocol) -> Int? { withBytes(text) { qvalue($0) } }

    static func qvalue(_ bytes: Bytes) -> Int? {
        guard let first = bytes.first, first == ASCII.zero || first == ASCII.zero + 1 else { return nil }
        var value = first == ASCII.zero ? 0 : 1000
        var rest = bytes.dropFirst()
        guard let dot = rest.first else { return value }
        guard dot == UInt8(ascii: "."), rest.count <= 4 else { return nil }
        rest = rest.dropFirst()
        var scale = 100
        for b in rest {
            guard ASCII.isDigit(b) else { return nil }
            if value == 1000, b != ASCII.zero { return nil }
            value += Int(b - ASCII.zero) * scale
            scale /= 10
        }
        return value
    }
}

/// `"gzip"` when `value` accepts gzip, else nil. See `AcceptEncoding.normalized(_:)`.
public func normalizedAcceptEncoding(_ value: String?) -> String? {
    AcceptEncoding.normalized(value)
}
