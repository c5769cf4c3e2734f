import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Request coalescing and streaming: many clients on a cold URL make one backend request, and
/// all of them receive bytes as they arrive, not when the fetch ends.
@Suite("Coalescing and streaming")
struct CoalescingTests {
    @Test("concurrent misses on one URL make exactly one backend request")
    func coalesces() async throws {
        let origin = try await TestOrigin.start(
            always: Response.sized(75 * 1024, headers: ["Cache-Control": "max-age=60"]).delayed(by: .milliseconds(500)))
        try await withProxy(origin: origin) { proxy in
            let bodies = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await fetch(proxy.url("/cold")).body.utf8.count }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(bodies.count == 100)
            #expect(bodies.allSatisfy { $0 == 75 * 1024 })
            #expect(origin.requestCount == 1)
        }
    }

    @Test("clients receive the first bytes before the fetch ends, waiters included")
    func streams() async throws {
        let origin = try await TestOrigin.start(
            always: .chunked(
                headers: ["Cache-Control": "max-age=60"], chunks: ["first-", "second"],
                delayBetweenChunks: .milliseconds(3000)))
        try await withProxy(origin: origin) { proxy in
            async let owner = firstChunkAndTotal(proxy.url("/stream"))
            try await Task.sleep(for: .milliseconds(200))
            async let waiter = firstChunkAndTotal(proxy.url("/stream"))
            let (ownerResult, waiterResult) = try await (owner, waiter)
            for result in [ownerResult, waiterResult] {
                #expect(result.body == "first-second")
                // Streamed: the first bytes come well before the origin's 3 s pause ends.
                #expect(result.firstChunk < .milliseconds(2000))
                #expect(result.total >= .milliseconds(2500))
                #expect(result.total - result.firstChunk >= .milliseconds(1000))
            }
            #expect(origin.requestCount == 1)
        }
    }

    @Test("a fetch whose client went away still completes for the others")
    func clientDisconnect() async throws {
        let origin = try await TestOrigin.start(
            always: .chunked(
                headers: ["Cache-Control": "max-age=60"], chunks: ["a", "b", "c"],
                delayBetweenChunks: .milliseconds(300)))
        try await withProxy(origin: origin) { proxy in
            let quitter = try await RawHTTPClient.connect(host: "127.0.0.1", port: proxy.port)
            // Same Host and Accept-Encoding as AsyncHTTPClient's, so both requests share one key.
            try await quitter.send(
                "GET /gone HTTP/1.1\r\nHost: 127.0.0.1:\(proxy.port)\r\nAccept-Encoding: gzip\r\n\r\n")
            try await Task.sleep(for: .milliseconds(100))
            async let stayer = fetch(proxy.url("/gone"))
            try await Task.sleep(for: .milliseconds(100))
            await quitter.close()
            let result = try await stayer
            #expect(result.body == "abc")
            let later = try await fetch(proxy.url("/gone"))
            #expect(later.isHit && later.body == "abc")
            #expect(origin.requestCount == 1)
        }
    }

    @Test("a hit-for-miss answer releases its waiters at once to fetch on their own")
    func hitForMissReleasesWaiters() async throws {
        let origin = try await TestOrigin.start { request in
            Response(headers: ["Set-Cookie": "s=\(request.connectionID)"], body: "mine").delayed(by: .milliseconds(1000))
        }
        try await withProxy(origin: origin) { proxy in
            let started = ContinuousClock.now
            async let a = fetch(proxy.url("/hfm"))
            try await Task.sleep(for: .milliseconds(50))
            async let b = fetch(proxy.url("/hfm"))
            let (ra, rb) = try await (a, b)
            #expect(ra.body == "mine" && rb.body == "mine")
            // b waited for a's headers, then fetched on its own: never shares a's cookie.
            #expect(ra.header("Set-Cookie") != nil && rb.header("Set-Cookie") != nil)
            #expect(origin.requestCount == 2)
            // b waits only for a's headers (1 s), then fetches for itself (1 s); it never waits
            // for some longer queue. Serialising more would take 3 s or more.
            #expect(ContinuousClock.now - started < .milliseconds(2900))
        }
    }

    struct Timing {
        var body: String
        var firstChunk: Duration
        var total: Duration
    }

    func firstChunkAndTotal(_ url: String) async throws -> Timing {
        let start = ContinuousClock.now
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        var first: Duration?
        var body = ""
        for try await chunk in response.body {
            if first == nil, chunk.readableBytes > 0 { first = ContinuousClock.now - start }
            body += String(buffer: chunk)
        }
        return Timing(body: body, firstChunk: first ?? .seconds(99), total: ContinuousClock.now - start)
    }
}

/// The store's bounds, seen from outside: eviction and objects larger than the store.
@Suite("Store bounds")
struct StoreBoundsTests {
    @Test("the least recently used object is evicted to make room; the store never overflows")
    func evictsLRU() async throws {
        let origin = try await TestOrigin.start(always: Response.sized(30 * 1024, headers: ["Cache-Control": "max-age=60"]))
        try await withProxy(origin: origin, storageBytes: 80 * 1024) { proxy in
            _ = try await fetch(proxy.url("/1"))
            _ = try await fetch(proxy.url("/2"))
            #expect(try await fetch(proxy.url("/1")).isHit)  // /1 is now more recent than /2
            _ = try await fetch(proxy.url("/3"))  // needs room: evicts /2
            #expect(try await fetch(proxy.url("/1")).isHit)
            #expect(!(try await fetch(proxy.url("/2")).isHit))
            let statistics = proxy.server.store.statistics
            #expect(statistics.usedBytes <= 80 * 1024)
            #expect(statistics.evictions >= 1)
            #expect(origin.requestCount(path: "/2") == 2)
        }
    }

    @Test("an object larger than the whole store is delivered, not stored")
    func tooLarge() async throws {
        let origin = try await TestOrigin.start(always: Response.sized(100 * 1024, headers: ["Cache-Control": "max-age=60"]))
        try await withProxy(origin: origin, storageBytes: 64 * 1024) { proxy in
            let first = try await fetch(proxy.url("/big"))
            let second = try await fetch(proxy.url("/big"))
            #expect(first.body.utf8.count == 100 * 1024 && second.body.utf8.count == 100 * 1024)
            #expect(!second.isHit)
            #expect(origin.requestCount == 2)
            #expect(proxy.server.store.statistics.usedBytes <= 64 * 1024)
        }
    }
}
