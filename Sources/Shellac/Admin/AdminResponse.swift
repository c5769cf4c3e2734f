import NIOCore

/// One CLI response. On the wire, as varnishd writes it: a 13-byte header line — the status
/// padded to 3, a space, the body length padded to 8, a newline — then the body, then a newline.
public struct AdminResponse: Sendable, Equatable {
    public var status: Int
    public var body: String

    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }

    public init(_ status: AdminStatus, _ body: String) {
        self.init(status: status.rawValue, body: body)
    }

    /// The length of the header line, newline included.
    public static let headerLength = 13

    public func write(to buffer: inout ByteBuffer) {
        let length = body.utf8.count
        buffer.writeString(Self.pad(String(status), to: 3) + " " + Self.pad(String(length), to: 8) + "\n")
        buffer.writeString(body)
        buffer.writeStaticString("\n")
    }

    public var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        write(to: &buffer)
        return buffer
    }

    /// Reads the header line `200 19      `; nil when it is not one.
    static func parseHeader(_ line: String) -> (status: Int, length: Int)? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 2, let status = Int(fields[0]), let length = Int(fields[1]), length >= 0 else { return nil }
        return (status, length)
    }

    private static func pad(_ text: String, to width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
