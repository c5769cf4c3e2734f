import VCL

/// The `Age` header field (RFC 9111 §5.1).
public enum AgeHeader {
    /// Parses an `Age` value: `delta-seconds`, i.e. one or more digits with optional
    /// surrounding OWS. A list, a sign, a fraction, letters or an empty value are not a
    /// number and give nil (the field is then ignored). Overflow clamps to 2^31.
    public static func parse(_ value: some StringProtocol) -> Int? {
        withBytes(value) { DeltaSeconds.parse($0.trimmingOWS()) }
    }

    /// The `Age` of a response's header fields. Age is a singleton field, so several
    /// `Age` field lines are treated as one invalid value (nil) unless they are identical.
    public static func parse(_ headers: HeaderList) -> Int? {
        var found: String?
        for field in headers where field.name.isFieldName("age") {
            if let previous = found {
                guard previous == field.value else { return nil }
            } else {
                found = field.value
            }
        }
        guard let found else { return nil }
        return parse(found)
    }

    /// The `Age` to send with a stored response (RFC 9111 §4.2.3 / §5.1): the age the
    /// response had when it was stored (`originAge`, the backend's `Age`) plus the whole
    /// seconds it has been resident since `storedAt`. Never negative (a clock going
    /// backwards gives `originAge`), clamped to 2^31.
    public static func value(originAge: Int, storedAt: Double, now: Double) -> Int {
        let resident = now - storedAt
        let residentSeconds: Int
        if resident.isNaN || resident <= 0 {
            residentSeconds = 0
        } else if resident >= Double(DeltaSeconds.maximum) {
            residentSeconds = DeltaSeconds.maximum
        } else {
            residentSeconds = Int(resident.rounded(.down))
        }
        let origin = min(max(originAge, 0), DeltaSeconds.maximum)
        return min(origin + residentSeconds, DeltaSeconds.maximum)
    }
}
