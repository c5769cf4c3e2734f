import VCL

extension VCLAction {
    /// The word `VCL_return` records: the action without its arguments.
    var returnName: String {
        switch self {
        case .synth: "synth"
        case .error: "error"
        case .vcl: "vcl"
        default: description
        }
    }
}

extension VCLSubroutine {
    /// The name `VCL_call` records: `vcl_backend_fetch` is `BACKEND_FETCH`.
    var logName: String { String(name.dropFirst(4)).uppercased() }
}
