/// What a response's status says about its framing.
enum ResponseStatus {
    /// Whether a response with this status may have a body: 1xx, 204 and 304 never do
    /// (RFC 9112 §6.3), whatever their fields say.
    static func hasBody(_ status: Int) -> Bool {
        !(status == 204 || status == 304 || (100..<200).contains(status))
    }
}
