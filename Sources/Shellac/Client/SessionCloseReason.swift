/// Why a client connection closed, by Varnish's names: the `SessClose` record's first field
/// and the `MAIN.sc_*` counters.
enum SessionCloseReason: CaseIterable, Sendable {
    /// The client closed it.
    case remoteClose
    /// The request asked for it (`Connection: close`), or was HTTP/1.0 without keep-alive.
    case requestClose, requestHTTP10
    /// A request head, or a request body, that could not be read; bytes that were no request.
    case badRequest, badBody, junk
    /// A request head larger than `http_req_size`.
    case overflow
    /// No request (or no more of its body) within the timeout.
    case timeout
    /// The connection became a pipe.
    case pipe
    /// Writing to the client failed; a response framed by the close.
    case sendError, eof
    /// The response closed it (`Connection: close` from VCL or the backend, a synth).
    case responseClose
    /// VCL failed.
    case vclFailure

    /// The `SessClose` name.
    var name: StaticString {
        switch self {
        case .remoteClose: "REM_CLOSE"
        case .requestClose: "REQ_CLOSE"
        case .requestHTTP10: "REQ_HTTP10"
        case .badRequest: "RX_BAD"
        case .badBody: "RX_BODY"
        case .junk: "RX_JUNK"
        case .overflow: "RX_OVERFLOW"
        case .timeout: "RX_TIMEOUT"
        case .pipe: "TX_PIPE"
        case .sendError: "TX_ERROR"
        case .eof: "TX_EOF"
        case .responseClose: "RESP_CLOSE"
        case .vclFailure: "VCL_FAILURE"
        }
    }

    var counter: Statistics.Counter {
        switch self {
        case .remoteClose: .closeRemote
        case .requestClose: .closeRequest
        case .requestHTTP10: .closeHTTP10
        case .badRequest: .closeBadRequest
        case .badBody: .closeBadBody
        case .junk: .closeJunk
        case .overflow: .closeOverflow
        case .timeout: .closeTimeout
        case .pipe: .closePipe
        case .sendError: .closeSendError
        case .eof: .closeEOF
        case .responseClose: .closeResponse
        case .vclFailure: .closeVCLFailure
        }
    }

    /// Whether varnishstat counts it in `sess_closed_err`.
    var isError: Bool {
        switch self {
        case .remoteClose, .requestClose, .requestHTTP10, .pipe, .eof, .responseClose: false
        default: true
        }
    }
}
