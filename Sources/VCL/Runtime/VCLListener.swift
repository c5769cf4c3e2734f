/// The listen socket a session came in on, as VCL reads it: `local.socket` is its name
/// (`-a name=...`, else `a0`, `a1`, ... for the unnamed ones in order) and `local.endpoint`
/// its address as written (`host:port`, or a Unix domain socket's path).
public struct VCLListener: Sendable, Equatable {
    public let name: String
    public let endpoint: String

    public init(name: String, endpoint: String) {
        self.name = name
        self.endpoint = endpoint
    }

    /// For a context no connection filled in.
    public static let none = VCLListener(name: "", endpoint: "")
}
