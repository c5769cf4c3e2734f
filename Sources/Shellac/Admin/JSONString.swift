/// JSON text for the admin answers (`param.show -j`, `ban.list -j`) and the dashboard's data.
enum JSONString {
    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            case "<": out += "\\u003c"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
