import NIOHTTP1
import VCL

/// Hop-by-hop fields (RFC 9110 §7.6.1): meaningful for one connection only, never forwarded
/// or stored. Framing fields are recomputed by whoever sends the message next.
enum HopByHop {
    static let names: [String] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Fields a `Connection` may not name: a request that does is refused (Varnish's
    /// well-known fields that it would otherwise pass on).
    static let endToEndOnly: [String] = [
        "age", "cache-control", "content-range", "if-match", "if-modified-since", "if-none-match", "if-range",
        "if-unmodified-since", "proxy-authenticate", "proxy-authorization", "range",
    ]

    /// Copies `fields` without hop-by-hop ones, nor those named by `Connection` (or, when
    /// `connectionNamed` is given, by those names: the client's, read before VCL ran).
    static func endToEnd(
        _ fields: HeaderList, alsoDropping extra: [String] = [], connectionNamed: [String]? = nil
    ) -> HeaderList {
        var named: [Substring] = connectionNamed?.map { Substring($0) } ?? []
        if connectionNamed == nil {
            for value in fields.values("Connection") {
                for token in value.split(separator: ",") { named.append(token.trimmingOWS()) }
            }
        }
        var result = fields
        result.removeAll { field in
            names.contains(where: { field.name.equalsIgnoringASCIICase($0) })
                || named.contains(where: { field.name.equalsIgnoringASCIICase($0) })
                || extra.contains(where: { field.name.equalsIgnoringASCIICase($0) })
        }
        return result
    }

    static func endToEnd(_ headers: HTTPHeaders, alsoDropping extra: [String] = []) -> HeaderList {
        endToEnd(HeaderList(headers.map { ($0.name, $0.value) }), alsoDropping: extra)
    }
}
