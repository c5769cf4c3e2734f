/// Remembers the last formatted `Date:` value, so a server writing one per response
/// formats at most once per second. Keep one per event loop (it is a plain value).
public struct IMFFixdateCache: Sendable {
    private var second: Int64 = .min
    private var value: String = ""

    public init() {}

    /// The IMF-fixdate (RFC 9110 §5.6.7) for `epochSecond`, reusing the previous string
    /// when the second has not changed.
    public mutating func string(forEpochSecond epochSecond: Int64) -> String {
        if epochSecond != second {
            second = epochSecond
            value = HTTPDate.format(epochSecond)
        }
        return value
    }
}
