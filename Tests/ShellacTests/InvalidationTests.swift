import Foundation
import NIOHTTP1
import Testing

@testable import Shellac

/// RFC 9111 §4.4 over real sockets: an unsafe request that succeeds makes the stored
/// responses for its URL, and its Location and Content-Location on the same host, go.
@Suite("Invalidation by unsafe methods")
struct InvalidationTests {
    @Test("POST, PUT, DELETE, PATCH that succeed invalidate their URL and same-host Location; errors and other hosts do not")
    func invalidates() async throws {
        let counter = TestCounter()
        let origin = try await TestOrigin.start { request in
            switch request.method {
            case "GET":
                return TestOrigin.Response(headers: ["Cache-Control": "max-age=60"], body: "v\(counter.next())")
            case "DELETE":
                return TestOrigin.Response(status: .internalServerError)
            case "PUT":
                return TestOrigin.Response(status: .created, headers: ["Location": "http://example.com/other",
                                                                       "Content-Location": "http://elsewhere.com/third"])
            default:
                return TestOrigin.Response(status: .noContent)
            }
        }
        try await withProxy(origin: origin) { proxy in
            func get(_ path: String) async throws -> String { try await fetch(proxy.url(path), headers: [("Host", "example.com")]).body }
            let first = try await get("/item")
            #expect(try await get("/item") == first)  // cached
            _ = try await fetch(proxy.url("/item"), method: .POST, headers: [("Host", "example.com")], body: "x")
            let refreshed = try await get("/item")
            #expect(refreshed != first)
            _ = try await fetch(proxy.url("/item"), method: .DELETE, headers: [("Host", "example.com")])
            #expect(try await get("/item") == refreshed)  // a 500 invalidates nothing
            let other = try await get("/other")
            let third = try await get("/third")
            _ = try await fetch(proxy.url("/create"), method: .PUT, headers: [("Host", "example.com")], body: "y")
            #expect(try await get("/other") != other)  // its Location, same host
            #expect(try await get("/third") == third)  // another host's Content-Location: kept
            #expect(proxy.server.statistics.value(.invalidations) == 2)
        }
    }

    @Test("Location on the same host: a path, or an absolute URL with the request's host")
    func sameHost() {
        #expect(RequestStateMachine.sameHostPath("/a?b", host: "h") == "/a?b")
        #expect(RequestStateMachine.sameHostPath("http://H/x", host: "h") == "/x")
        #expect(RequestStateMachine.sameHostPath("https://h", host: "h") == "/")
        #expect(RequestStateMachine.sameHostPath("http://other/x", host: "h") == nil)
        #expect(RequestStateMachine.sameHostPath("//other/x", host: "h") == nil)
        #expect(RequestStateMachine.sameHostPath("relative", host: "h") == nil)
    }
}
