/// The status codes of varnishd's CLI protocol (its `CLIS_*` values).
public enum AdminStatus: Int, Sendable, Equatable {
    case syntax = 100
    case unknown = 101
    case unimplemented = 102
    case tooFew = 104
    case tooMany = 105
    case parameter = 106
    case authenticate = 107
    case ok = 200
    case truncated = 201
    case cannot = 300
    case communication = 400
    case close = 500
}
