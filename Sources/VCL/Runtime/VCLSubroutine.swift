/// The built-in subroutines: the states of a request that VCL hooks into.
public enum VCLSubroutine: String, Sendable, CaseIterable {
    case recv = "vcl_recv"
    case pipe = "vcl_pipe"
    case pass = "vcl_pass"
    case hash = "vcl_hash"
    case purge = "vcl_purge"
    case hit = "vcl_hit"
    case miss = "vcl_miss"
    case deliver = "vcl_deliver"
    case synth = "vcl_synth"
    case backendFetch = "vcl_backend_fetch"
    case backendResponse = "vcl_backend_response"
    case backendError = "vcl_backend_error"
    case initialize = "vcl_init"
    case finalize = "vcl_fini"

    /// The name as written in VCL.
    public var name: String { rawValue }

    /// Position in `allCases`, without building the array (used on every run).
    var index: Int {
        switch self {
        case .recv: 0
        case .pipe: 1
        case .pass: 2
        case .hash: 3
        case .purge: 4
        case .hit: 5
        case .miss: 6
        case .deliver: 7
        case .synth: 8
        case .backendFetch: 9
        case .backendResponse: 10
        case .backendError: 11
        case .initialize: 12
        case .finalize: 13
        }
    }

    var mask: SubMask { SubMask(rawValue: 1 << UInt32(index)) }

    /// Every return action name, legal somewhere.
    static let allActions: Set<String> = allCases.reduce(into: []) { $0.formUnion($1.legalActions) }

    /// The actions `return (...)` may name here, as in Varnish 7.
    var legalActions: Set<String> {
        switch self {
        case .recv: ["hash", "pass", "pipe", "purge", "synth", "restart", "vcl", "fail"]
        case .hash: ["lookup", "fail"]
        case .hit: ["deliver", "miss", "pass", "synth", "restart", "fail"]
        case .miss: ["fetch", "pass", "synth", "restart", "fail"]
        case .pass: ["fetch", "synth", "restart", "fail"]
        case .pipe: ["pipe", "synth", "fail"]
        case .purge: ["synth", "restart", "fail"]
        case .synth: ["deliver", "restart", "fail"]
        case .deliver: ["deliver", "synth", "restart", "fail"]
        case .backendFetch: ["fetch", "abandon", "error", "fail"]
        case .backendResponse: ["deliver", "abandon", "retry", "error", "pass", "fail"]
        case .backendError: ["deliver", "retry", "abandon", "fail"]
        case .initialize: ["ok", "fail"]
        case .finalize: ["ok"]
        }
    }
}

/// A set of built-in subroutines, for access rules.
struct SubMask: OptionSet, Sendable, Hashable {
    let rawValue: UInt32

    static func of(_ subs: VCLSubroutine...) -> SubMask { subs.reduce(into: SubMask()) { $0.insert($1.mask) } }

    static let client = SubMask.of(.recv, .pipe, .pass, .hash, .purge, .hit, .miss, .deliver, .synth)
    static let backend = SubMask.of(.backendFetch, .backendResponse, .backendError)
    static let all = client.union(backend).union(.of(.initialize, .finalize))
    static let none = SubMask()

    var subroutines: [VCLSubroutine] { VCLSubroutine.allCases.filter { contains($0.mask) } }
}
