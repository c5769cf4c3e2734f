import Foundation

/// A ban as `ban.list` prints it (Varnish's `ban_render`): each condition from its parsed
/// parts, durations in the largest unit that divides them (`0.456s` is `456ms`, `24h` is
/// `1d`), so equal bans print alike however they were written.
extension VCLBan {
    public var rendered: String {
        conditions.map { condition in
            let field: String
            switch condition.field {
            case .url: field = "req.url"
            case .requestHeader(let name): field = "req.http." + name
            case .status: field = "obj.status"
            case .objectHeader(let name): field = "obj.http." + name
            case .ttl: field = "obj.ttl"
            case .age: field = "obj.age"
            case .grace: field = "obj.grace"
            case .keep: field = "obj.keep"
            }
            var argument = condition.argument
            switch condition.field {
            case .ttl, .age, .grace, .keep:
                if let seconds = condition.number { argument = Self.renderDuration(seconds) }
            default: break
            }
            return "\(field) \(condition.op.rawValue) \(argument)"
        }.joined(separator: " && ")
    }

    /// `seconds` as Varnish's `vdur_render` writes it.
    static func renderDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return ValueFormat.real(seconds) }
        let whole = UInt64(seconds.rounded(.down))
        let milliseconds = UInt64((seconds * 1e3).rounded(.down)) % 1000
        if whole == 0 && milliseconds == 0 { return "0s" }
        if whole == 0 { return "\(milliseconds)ms" }
        if milliseconds != 0 { return String(format: "%llu.%03llus", whole, milliseconds) }
        for (unit, size) in [("y", UInt64(365 * 86400)), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)]
        where whole >= size && whole % size == 0 {
            return "\(whole / size)\(unit)"
        }
        return "\(whole)s"
    }
}
