import Foundation
import Testing

@testable import Shellac

/// Counters varnishstat has that Shellac now keeps too: VBE.<vcl>.<backend>.req and fail*,
/// MAIN.sess_readahead, MAIN.threads and MAIN.pools, n_objectcore.
@Suite("more varnishstat counters", .serialized)
struct MoreCountersTests {
    static func value(_ counters: [(name: String, value: Int)], _ name: String) -> Int? {
        counters.first { $0.name == name }?.value
    }

    @Test("a refused connect counts in VBE.boot.default.fail and fail_econnrefused; requests in .req")
    func backendCounters() async throws {
        // A port nothing listens on: bind one, close it.
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        let port = origin.port
        await origin.shutdown()
        try await withProxy(backendPort: port) { proxy in
            let response = try await fetch(proxy.url("/refused"))
            #expect(response.status == 503)
            let counters = BackendHealthTests.admin(proxy).counters()
            #expect(Self.value(counters, "VBE.boot.default.req") == 1, "\(counters.filter { $0.name.hasPrefix("VBE") })")
            #expect(Self.value(counters, "VBE.boot.default.fail") == 1)
            #expect(Self.value(counters, "VBE.boot.default.fail_econnrefused") == 1)
            #expect(Self.value(counters, "MAIN.threads") == proxy.server.threadCount)
            #expect(Self.value(counters, "MAIN.pools") == 1)
        }
    }

    @Test("two pipelined requests: the second counts in sess_readahead; n_objectcore follows n_object")
    func readAhead() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "x"))
        try await withProxy(origin: origin) { proxy in
            let client = try await RawHTTPClient.connect(port: proxy.port)
            try await client.send("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
            _ = try await client.readResponse()
            _ = try await client.readResponse()
            await client.close()
            let counters = BackendHealthTests.admin(proxy).counters()
            #expect(Self.value(counters, "MAIN.sess_readahead") == 1)
            #expect(Self.value(counters, "MAIN.n_objectcore") == Self.value(counters, "MAIN.n_object"))
            #expect(Self.value(counters, "MAIN.n_object") == 2)
        }
    }

    @Test("after a refused connect the backend is held down for backend_remote_error_holddown: fetches fail at once (helddown), then it is tried again")
    func holddown() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        let port = origin.port
        await origin.shutdown()
        try await withProxy(backendPort: port, parameters: ["backend_remote_error_holddown=0.5"]) { proxy in
            #expect(try await fetch(proxy.url("/1")).status == 503)
            #expect(try await fetch(proxy.url("/2")).status == 503)
            var counters = BackendHealthTests.admin(proxy).counters()
            #expect(Self.value(counters, "VBE.boot.default.fail_econnrefused") == 1)
            #expect(Self.value(counters, "VBE.boot.default.helddown") == 1)
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await fetch(proxy.url("/3")).status == 503)
            counters = BackendHealthTests.admin(proxy).counters()
            #expect(Self.value(counters, "VBE.boot.default.fail_econnrefused") == 2, "tried again after the holddown")
            #expect(Self.value(counters, "VBE.boot.default.helddown") == 1)
        }
    }
}
