/// The built-in subroutines of the client side, run as Swift rather than as compiled VCL.
///
/// They run on every request that falls through the user's code, so a closure per comparison
/// is worth saving. `BuiltinVCL.source` stays the reference: its text is still parsed and
/// checked with the user's code, and the tests run both forms side by side and require the
/// same action, hash parts and failures.
public enum NativeBuiltin {
    /// The native form of the built-in part of subroutine `name`, or nil to compile its VCL.
    static func step(for name: String) -> Step? {
        switch name {
        case "vcl_recv": return { recv($0) }
        case "vcl_hash": return { hash($0) }
        case "vcl_pipe": return { _ in .exit(.pipe) }
        case "vcl_pass", "vcl_miss": return { _ in .exit(.fetch) }
        case "vcl_hit", "vcl_deliver": return { _ in .exit(.deliver) }
        case "vcl_purge": return { _ in .exit(.synth(status: 200, reason: "Purged")) }
        case "vcl_backend_fetch":
            return { context in
                if context.bereq.method == "GET" { context.bereq.bodyUnset = true }  // unset bereq.body
                return .exit(.fetch)
            }
        default: return nil
        }
    }

    private static let host = HeaderKey("Host")
    private static let authorization = HeaderKey("Authorization")
    private static let cookie = HeaderKey("Cookie")

    private static let understoodMethods: [String] = ["GET", "HEAD", "PUT", "POST", "PATCH", "TRACE", "OPTIONS", "DELETE"]

    private static func recv(_ context: VCLContext) -> Flow {
        lowercaseHost(&context.req.headers)
        return .exit(receive(method: context.req.method, proto: context.req.proto, headers: context.req.headers,
                      esiLevel: context.req.esiLevel))
    }

    /// The built-in `vcl_recv`'s decision for a request. The server's Swift built-in policy
    /// calls this too, so the rules exist once in Swift (and once as the VCL text).
    public static func receive(method: String, proto: String, headers: HeaderList, esiLevel: Int) -> VCLAction {
        // vcl_req_host, then vcl_req_method (as Varnish 7 orders them).
        if !headers.contains(host) && esiLevel == 0 && isHTTP11(proto) {
            return .synth(status: 400, reason: nil)
        }
        if method == "PRI" { return .synth(status: 405, reason: nil) }
        // GET and HEAD first: literal comparisons, no hashing of the method on the usual path.
        if method != "GET" && method != "HEAD" {
            return understoodMethods.contains(method) ? .pass : .pipe
        }
        if headers.contains(authorization) || headers.contains(cookie) {
            return .pass
        }
        return .hash
    }

    /// vcl_req_host's first step: a Host with upper-case letters is lower-cased (one cache
    /// key for `Example.COM` and `example.com`).
    public static func lowercaseHost(_ headers: inout HeaderList) {
        guard let value = headers.first(host), value.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return }
        headers.set(host, ValueFormat.asciiCase(value, upper: false))
    }

    /// `req.proto ~ "^(?i)HTTP/1\.1"`.
    private static func isHTTP11(_ proto: String) -> Bool {
        proto.utf8.count >= 8
            && proto.utf8.prefix(8).elementsEqual("http/1.1".utf8) { byte, lower in
                byte == lower || (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z") && byte | 0x20 == lower)
            }
    }

    private static func hash(_ context: VCLContext) -> Flow {
        context.hashData.append(context.req.url)
        context.hashData.append(hashHost(context.req.headers) ?? context.serverIP.description)
        return .exit(.lookup)
    }

    /// The built-in `vcl_hash` hashes the URL, then this (or, when it is nil, the server's
    /// address).
    public static func hashHost(_ headers: HeaderList) -> String? {
        headers.first(Self.host)
    }
}
