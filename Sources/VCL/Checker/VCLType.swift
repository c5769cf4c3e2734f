/// VCL's value types, named as vcc names them in messages.
public enum VCLType: String, Sendable {
    case string = "STRING"
    case int = "INT"
    case real = "REAL"
    case duration = "DURATION"
    case bytes = "BYTES"
    case bool = "BOOL"
    case ip = "IP"
    case time = "TIME"
    case backend = "BACKEND"
    case header = "HEADER"
    case acl = "ACL"
    case probe = "PROBE"
    case void = "VOID"

    var isNumeric: Bool { [.int, .real, .duration, .bytes, .time].contains(self) }
}
