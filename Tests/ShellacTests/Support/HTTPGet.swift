import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// A response as a test reads it: status, headers, whole body.
struct FetchedResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: String

    func header(_ name: String) -> String? { headers.first(name: name) }

    /// The transaction ids of `X-Varnish`: one on a miss or pass, two on a hit.
    var xids: [Substring] { (header("X-Varnish") ?? "").split(separator: " ") }
    var isHit: Bool { xids.count == 2 }
}

/// One request through AsyncHTTPClient (a real client on a real socket).
func fetch(
    _ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil
) async throws -> FetchedResponse {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
    let bytes = try await response.body.collect(upTo: 16 << 20)
    return FetchedResponse(
        status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
}
