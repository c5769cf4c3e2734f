/// What a subroutine returned: the next state of the request.
public enum VCLAction: Sendable, Equatable, CustomStringConvertible {
    case hash
    case pass
    case pipe
    case purge
    case synth(status: Int, reason: String?)
    case restart
    case lookup
    case deliver
    case fetch
    case miss
    case retry
    case abandon
    case error(status: Int, reason: String?)
    case ok
    case fail
    /// `return (vcl(label))` in vcl_recv: switch to another loaded VCL.
    case vcl(String)

    public var description: String {
        switch self {
        case .synth(let status, let reason): "synth(\(status)\(reason.map { ", \"\($0)\"" } ?? ""))"
        case .error(let status, let reason): "error(\(status)\(reason.map { ", \"\($0)\"" } ?? ""))"
        case .vcl(let label): "vcl(\(label))"
        case .hash: "hash"
        case .pass: "pass"
        case .pipe: "pipe"
        case .purge: "purge"
        case .restart: "restart"
        case .lookup: "lookup"
        case .deliver: "deliver"
        case .fetch: "fetch"
        case .miss: "miss"
        case .retry: "retry"
        case .abandon: "abandon"
        case .ok: "ok"
        case .fail: "fail"
        }
    }
}
