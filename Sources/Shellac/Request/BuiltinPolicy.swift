import NIOCore
import ShellacCache
import ShellacLog
import VCL

/// Varnish's `builtin.vcl` as Swift: the policy of every request when the active VCL has no
/// user code (`-b`, or a VCL that only declares backends). Stateless, so one instance serves
/// every request. The decisions are `NativeBuiltin`'s (shared with the compiled VCL), and the
/// synthetic page is the one `GuruMeditation` writes.
final class BuiltinPolicy: RequestPolicy, Sendable {
    static let shared = BuiltinPolicy()

    func receive(_ request: inout RequestHead, store: CacheStore) -> VCLAction {
        NativeBuiltin.lowercaseHost(&request.headers)
        let action = NativeBuiltin.receive(
            method: request.method, proto: request.proto, headers: request.headers, esiLevel: 0)
        // As a VCL program's run does: a synth without a reason gets its status's phrase.
        if case .synth(let status, nil) = action { return .synth(status: status, reason: HTTPReason.phrase(status)) }
        return action
    }

    func hash(_ request: RequestHead, serverAddress: () -> String) -> CacheKey {
        var key = CacheKey()
        key.append(request.uri)
        key.append(NativeBuiltin.hashHost(request.headers) ?? serverAddress())
        return key
    }

    var lookupOptions: LookupOptions { .standard }

    func hit(_ object: CachedObject, now: Double) -> VCLAction { .deliver }
    func miss() -> VCLAction { .fetch }
    func pass() -> VCLAction { .fetch }
    func pipe() -> VCLAction { .pipe }
    func purge() -> VCLAction { .synth(status: 200, reason: "Purged") }

    var continuesLate: Bool { false }

    func synthesize(status: Int, reason: String?, xid: UInt64, suggestingClose: Bool, into out: inout ByteBuffer) -> String? {
        GuruMeditation.write(status: status, reason: reason ?? HTTPReason.phrase(status), xid: xid, into: &out)
    }

    func writeDeliveryHead(
        _ object: CachedObject, metadata: ObjectMetadata, xid: UInt64, isHit: Bool, now: Double,
        into out: inout ByteBuffer
    ) -> VCLAction {
        DeliveryHead.writeStored(object, metadata: metadata, xid: xid, isHit: isHit, now: now, into: &out)
        return .deliver
    }

    /// The built-in VCL never restarts.
    func restart() -> Bool { false }

    func pipeBackend(default backend: Backend) -> Backend { backend }

    func backendPolicy(for request: BackendRequest, xid: UInt64, log: VSLBuffer) -> VCLBackendPolicy? { nil }
}

/// Varnish's "Guru Meditation" error page: the one synthetic response Shellac makes itself
/// (the built-in VCL's `vcl_synth` and `vcl_backend_error` write the same page in VCL).
enum GuruMeditation {
    /// Writes the status line and fields of the page for `status`; returns its body.
    static func write(status: Int, reason: String, xid: UInt64, into out: inout ByteBuffer) -> String {
        out.writeStaticString("HTTP/1.1 ")
        out.writeDecimal(status)
        out.writeStaticString(" ")
        out.writeString(reason)
        out.writeStaticString("\r\nDate: ")
        out.writeString(HTTPDate.format(Int64(HTTPDate.currentTime())))
        out.writeStaticString("\r\nServer: Shellac\r\nX-Varnish: ")
        out.writeDecimal(xid)
        // As the built-in vcl_synth sets them.
        out.writeStaticString("\r\nContent-Type: text/html; charset=utf-8\r\nRetry-After: 5\r\n")
        return """
            <!DOCTYPE html>
            <html>
              <head>
                <title>\(status) \(reason)</title>
              </head>
              <body>
                <h1>Error \(status) \(reason)</h1>
                <p>\(reason)</p>
                <h3>Guru Meditation:</h3>
                <p>XID: \(xid)</p>
                <hr>
                <p>Shellac cache server</p>
              </body>
            </html>

            """
    }
}
