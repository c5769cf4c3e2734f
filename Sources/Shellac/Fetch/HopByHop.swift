import NIOHTTP1
import VCL

/// Hop-by-hop fields (RFC 9110 §7.6.1): meaningful for one connection only, never forwarded
/// or stored. Framing fields are recomputed by whoever sends the message next.
enum HopByHop {
    static let names: [String] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Copies `fields` without hop-by-hop ones, nor those named by `Connection`.
    static func endToEnd(_ fields: HeaderList, alsoDropping extra: [String] = []) -> HeaderList {
        var named: [Substring] = []
        for value in fields.values("Connection") {
            for token in value.split(separator: ",") { named.append(token.trimmingOWS()) }
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
