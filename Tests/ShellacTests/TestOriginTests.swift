// Tests of the integration-test tools in Support/: TestOrigin, RawHTTPClient, ChildProcess.
// Everything runs over real loopback sockets.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

private func get(_ url: String, method: HTTPMethod = .GET, headers: HTTPHeaders = [:], body: String? = nil,
                 timeout: TimeAmount = .seconds(5)) async throws -> (HTTPClientResponse, String) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    request.headers = headers
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: timeout)
    let bytes = try await response.body.collect(upTo: 8 << 20)
    return (response, String(buffer: bytes))
}

/// Starts an origin, runs `body`, and always shuts the origin down.
private func withOrigin<T>(
    configuration: TestOrigin.Configuration = .init(),
    handler: @escaping TestOrigin.Handler = { _ in .init(status: .notFound, body: "no route\n") },
    _ body: (TestOrigin) async throws -> T
) async throws -> T {
    let origin = try await TestOrigin.start(configuration: configuration, handler: handler)
    do {
        let result = try await body(origin)
        await origin.shutdown()
        return result
    } catch {
        await origin.shutdown()
        throw error
    }
}

@Suite("TestOrigin with AsyncHTTPClient")
struct TestOriginHTTPClientTests {
    @Test func fixedBodyWithContentLength() async throws {
        try await withOrigin { origin in
            origin.route("/hello", .init(headers: ["X-Test": "1"], body: "hello"))
            #expect(origin.port > 0)
            let (response, body) = try await get(origin.url("/hello"))
            #expect(response.status == .ok)
            #expect(body == "hello")
            #expect(response.headers.first(name: "content-length") == "5")
            #expect(response.headers.first(name: "x-test") == "1")
            #expect(origin.requestCount(path: "/hello") == 1)
            #expect(origin.requestCount(path: "/other") == 0)
        }
    }

    @Test func defaultHandlerRoutesAndLog() async throws {
        try await withOrigin { origin in
            origin.route("/a", .init(body: "A"))
            let (notFound, _) = try await get(origin.url("/nothing?x=1"))
            #expect(notFound.status == .notFound)
            origin.setDefaultHandler { request in .init(body: "echo \(request.method) \(request.bodyString)") }
            let (echo, echoBody) = try await get(origin.url("/up?q=2"), method: .POST,
                                                 headers: ["X-Trace": "abc"], body: "payload")
            #expect(echo.status == .ok)
            #expect(echoBody == "echo POST payload")
            let (_, a) = try await get(origin.url("/a"))
            #expect(a == "A")

            let log = origin.requests
            #expect(log.count == 3)
            let post = try #require(log.first { $0.method == "POST" })
            #expect(post.uri == "/up?q=2")
            #expect(post.path == "/up")
            #expect(post.query == "q=2")
            #expect(post.header("x-trace") == "abc")
            #expect(post.bodyString == "payload")
            #expect(origin.requestCount == 3)
            origin.resetLog()
            #expect(origin.requestCount == 0)
        }
    }

    @Test func handlerErrorBecomes500() async throws {
        struct Boom: Error {}
        try await withOrigin(handler: { _ in throw Boom() }) { origin in
            let (response, body) = try await get(origin.url("/"))
            #expect(response.status == .internalServerError)
            #expect(body.contains("Boom"))
        }
    }

    @Test func chunkedBody() async throws {
        try await withOrigin { origin in
            origin.route("/c", .chunked(chunks: ["ab", "cde", "f"]))
            let (response, body) = try await get(origin.url("/c"))
            #expect(response.headers.first(name: "transfer-encoding") == "chunked")
            #expect(response.headers.first(name: "content-length") == nil)
            #expect(body == "abcdef")
        }
    }

    @Test func largeBody() async throws {
        try await withOrigin { origin in
            origin.route("/big", .sized(1_300_000))
            var request = HTTPClientRequest(url: origin.url("/big"))
            request.method = .GET
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let bytes = try await response.body.collect(upTo: 2 << 20)
            #expect(bytes.readableBytes == 1_300_000)
            #expect(Array(buffer: bytes) == TestOrigin.body(size: 1_300_000))
        }
    }

    @Test(arguments: [TestOrigin.Response.Framing.chunked, .contentLength])
    func streamedBodyArrivesBeforeTheFetchEnds(framing: TestOrigin.Response.Framing) async throws {
        try await withOrigin { origin in
            origin.route("/s", .streamed(chunks: ["one ", "two ", "three"], delayBetweenChunks: .milliseconds(400),
                                         framing: framing))
            let start = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: origin.url("/s")), timeout: .seconds(5))
            var firstChunkAfter: Duration?
            var text = ""
            for try await chunk in response.body {
                if firstChunkAfter == nil { firstChunkAfter = ContinuousClock.now - start }
                text += String(buffer: chunk)
            }
            let total = ContinuousClock.now - start
            #expect(text == "one two three")
            let first = try #require(firstChunkAfter)
            // Streaming: the first bytes arrive while the origin is still pausing between
            // pieces (2 × 400 ms), not together with the rest. Measured from the first chunk, so
            // connection set-up time on a loaded machine does not matter; a buffered body
            // would give a gap near 0.
            #expect(total - first >= .milliseconds(300), "first bytes must not wait for the whole body")
            #expect(total >= .milliseconds(780))
            if framing == .contentLength {
                #expect(response.headers.first(name: "content-length") == "13")
            }
        }
    }

    @Test func delayBeforeHeaders() async throws {
        try await withOrigin { origin in
            origin.route("/slow", TestOrigin.Response(body: "late").delayed(by: .milliseconds(500)))
            let start = ContinuousClock.now
            let (_, body) = try await get(origin.url("/slow"))
            let elapsed = ContinuousClock.now - start
            #expect(body == "late")
            #expect(elapsed >= .milliseconds(480))
            #expect(elapsed < .seconds(3))

            // A client deadline shorter than the delay fails (first-byte timeout shape).
            await #expect(throws: (any Error).self) {
                _ = try await get(origin.url("/slow"), timeout: .milliseconds(150))
            }
        }
    }

    @Test func concurrentDelayedRequestsAreServedConcurrently() async throws {
        try await withOrigin { origin in
            origin.route("/wait", TestOrigin.Response(body: "w").delayed(by: .milliseconds(300)))
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await get(origin.url("/wait")).1 }
                }
                for try await body in group { #expect(body == "w") }
            }
            // One at a time would take 20 × 300 ms = 6 s.
            #expect(ContinuousClock.now - start < .seconds(4))
            #expect(origin.requestCount(path: "/wait") == 20)
            #expect(origin.connectionCount >= 2)
        }
    }
}

@Suite("TestOrigin connection behaviour, seen with RawHTTPClient")
struct TestOriginConnectionTests {
    @Test func keepAliveCountsOneConnection() async throws {
        try await withOrigin(handler: { .init(body: "n\($0.indexOnConnection)") }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            for i in 0..<3 {
                try await client.send("GET /k HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try await client.readResponse()
                #expect(response.status == 200)
                #expect(response.bodyString == "n\(i)")
            }
            #expect(origin.connectionCount == 1)
            #expect(origin.openConnectionCount == 1)
            #expect(origin.requests.map(\.indexOnConnection) == [0, 1, 2])
            #expect(Set(origin.requests.map(\.connectionID)).count == 1)
            await client.close()
            #expect(await origin.waitForOpenConnections(0, timeout: .seconds(2)))
        }
    }

    @Test func connectionCountPerClient() async throws {
        try await withOrigin(handler: { _ in .init(body: "x") }) { origin in
            for _ in 0..<3 {
                let response = try await RawHTTPClient.exchange(port: origin.port, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(response.bodyString == "x")
            }
            #expect(origin.connectionCount == 3)
            #expect(await origin.waitForOpenConnections(0, timeout: .seconds(2)))
        }
    }

    @Test func closeAfterResponse() async throws {
        try await withOrigin(handler: { _ in TestOrigin.Response(body: "bye").closingConnection() }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.bodyString == "bye")
            #expect(response.saysClose)
            #expect(await client.waitForClose(timeout: .seconds(2)))
            await client.close()
        }
    }

    @Test func clientConnectionCloseIsHonoured() async throws {
        try await withOrigin(handler: { _ in .init(body: "ok") }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.saysClose)
            #expect(await client.waitForClose(timeout: .seconds(2)))
            await client.close()
        }
    }

    @Test func idleKeepAliveConnectionIsClosedAfterTimeout() async throws {
        try await withOrigin(configuration: .init(idleTimeout: .milliseconds(150)), handler: { _ in .init(body: "i") }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            let sent = ContinuousClock.now
            try await client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try await client.readResponse()
            #expect(await client.waitForClose(timeout: .seconds(2)))
            let closedAt = try #require(client.closedAt)
            // The idle timer starts after the response, so the close cannot come sooner.
            #expect(closedAt - sent >= .milliseconds(150))
            #expect(closedAt - sent < .milliseconds(1500))
            await client.close()
        }
    }

    @Test func dropConnectionOnReuse() async throws {
        try await withOrigin(handler: { request in
            request.indexOnConnection == 0 ? .init(body: "first") : .dropConnection
        }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().bodyString == "first")
            try await client.send("GET /2 HTTP/1.1\r\nHost: t\r\n\r\n")
            await #expect(throws: RawHTTPClient.ClientError.self) {
                _ = try await client.readResponse(timeout: .seconds(2))
            }
            #expect(client.isClosedByPeer)
            #expect(origin.requestCount == 2)
            await client.close()
        }
    }

    @Test func neverRespondIsBoundedByTheClientTimeout() async throws {
        try await withOrigin(handler: { _ in .neverRespond }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let start = ContinuousClock.now
            await #expect(throws: RawHTTPClient.ClientError.self) {
                _ = try await client.readResponse(timeout: .milliseconds(300))
            }
            let waited = ContinuousClock.now - start
            #expect(waited >= .milliseconds(280))
            #expect(waited < .seconds(2))
            #expect(await origin.waitForRequests(1))
            // Shutting the origin down closes the hanging connection.
            await origin.shutdown()
            #expect(await client.waitForClose(timeout: .seconds(2)))
            await client.close()
        }
    }

    @Test func waitForCloseReturnsFalseOnAnOpenConnection() async throws {
        try await withOrigin { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET / HTTP/1.1\r\nHost: t\r\n")  // half a request head
            let start = ContinuousClock.now
            #expect(await client.waitForClose(timeout: .milliseconds(200)) == false)
            #expect(ContinuousClock.now - start < .seconds(1))
            await client.close()
        }
    }

    @Test func malformedRequestMakesOriginHangUp() async throws {
        try await withOrigin(handler: { _ in .init(body: "no") }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            #expect(await client.waitForClose(timeout: .seconds(2)))
            #expect(origin.requestCount == 0)
            await client.close()
        }
    }
}

@Suite("RawHTTPClient")
struct RawHTTPClientTests {
    @Test func pipelinedRequestsAnsweredInOrder() async throws {
        try await withOrigin { origin in
            origin.route("/slow", TestOrigin.Response(body: "slow").delayed(by: .milliseconds(200)))
            origin.route("/fast", .init(body: "fast"))
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
            let responses = try await client.readResponses(2)
            #expect(responses.map(\.bodyString) == ["slow", "fast"])
            #expect(origin.requests.map(\.path) == ["/slow", "/fast"])
            #expect(origin.connectionCount == 1)
            #expect(client.unreadBytes.isEmpty)
            await client.close()
        }
    }

    @Test func headResponseHasNoBody() async throws {
        try await withOrigin(handler: { _ in .init(body: "hello") }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\nGET /h HTTP/1.1\r\nHost: t\r\n\r\n")
            let responses = try await client.readResponses(2, forHEAD: [true, false])
            #expect(responses[0].header("Content-Length") == "5")
            #expect(responses[0].body.isEmpty)
            #expect(responses[0].framing == .none)
            #expect(responses[1].bodyString == "hello")
            #expect(origin.requests.map(\.method) == ["HEAD", "GET"])
            await client.close()
        }
    }

    @Test func expect100Continue() async throws {
        try await withOrigin(handler: { .init(body: "got \($0.bodyString)") }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let interim = try await client.readResponse()
            #expect(interim.status == 100)
            #expect(interim.isInformational)
            try await client.send("hello")
            let final = try await client.readResponse()
            #expect(final.status == 200)
            #expect(final.bodyString == "got hello")
            await client.close()
        }
    }

    @Test func chunkedResponseIsDecoded() async throws {
        try await withOrigin { origin in
            origin.route("/c", .chunked(chunks: ["ab", "cde"]))
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET /c HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.framing == .chunked)
            #expect(response.chunkSizes == [2, 3])
            #expect(response.bodyString == "abcde")
            #expect(String(decoding: response.raw, as: UTF8.self).hasSuffix("2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"))
            await client.close()
        }
    }

    @Test func rawChunkedWithExtensionsAndTrailers() async throws {
        let wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A:  spaced  \r\n\r\n"
            + "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
        try await withOrigin(handler: { _ in .raw(wire) }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.bodyString == "hello0123456789")
            #expect(response.chunkSizes == [5, 10])
            #expect(response.trailers == [.init(name: "X-Trailer", value: "t")])
            #expect(response.header("x-a") == "spaced")
            await client.close()
        }
    }

    @Test func closeDelimitedBody() async throws {
        try await withOrigin { origin in
            origin.route("/cd", .streamed(chunks: ["to ", "the ", "end"], delayBetweenChunks: .milliseconds(50),
                                          framing: .closeDelimited))
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET /cd HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.framing == .closeDelimited)
            #expect(response.bodyString == "to the end")
            #expect(response.header("content-length") == nil)
            #expect(client.isClosedByPeer)
            await client.close()
        }
    }

    @Test func noBodyFor204And304() async throws {
        try await withOrigin(handler: { request in
            request.path == "/204" ? .init(status: .noContent) : .init(status: .notModified, headers: ["ETag": "\"x\""])
        }) { origin in
            let client = try await RawHTTPClient.connect(port: origin.port)
            try await client.send("GET /204 HTTP/1.1\r\nHost: t\r\n\r\nGET /304 HTTP/1.1\r\nHost: t\r\n\r\n")
            let responses = try await client.readResponses(2)
            #expect(responses.map(\.status) == [204, 304])
            #expect(responses[1].header("etag") == "\"x\"")
            #expect(client.unreadBytes.isEmpty)
            await client.close()
        }
    }

    @Test func parserRejectsGarbage() {
        let garbage = Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)
        if case .malformed = RawHTTPClient.parse(garbage, from: 0, forHEAD: false, peerClosed: false) {
        } else {
            Issue.record("garbage should be malformed")
        }
        let partial = Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8)
        if case .needMore = RawHTTPClient.parse(partial, from: 0, forHEAD: false, peerClosed: false) {
        } else {
            Issue.record("a short body needs more bytes")
        }
        let conflicting = Array("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".utf8)
        if case .malformed = RawHTTPClient.parse(conflicting, from: 0, forHEAD: false, peerClosed: false) {
        } else {
            Issue.record("conflicting Content-Length should be malformed")
        }
    }

    @Test func connectToClosedPortFailsFast() async throws {
        let origin = try await TestOrigin.start { _ in .init() }
        let port = origin.port
        await origin.shutdown()
        let start = ContinuousClock.now
        await #expect(throws: (any Error).self) {
            _ = try await RawHTTPClient.connect(port: port, timeout: .seconds(1))
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}

@Suite("ChildProcess")
struct ChildProcessTests {
    static let script = """
        echo starting
        echo "Info: listening on 127.0.0.1:4321"
        echo oops >&2
        trap 'echo reloaded' HUP
        trap 'echo bye; exit 7' TERM
        i=0
        while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
        exit 0
        """

    @Test func listeningLineSignalsAndExit() async throws {
        let child = try ChildProcess.launch("/bin/sh", ["-c", Self.script])
        let address = try await child.waitForListening(timeout: .seconds(5))
        #expect(address.host == "127.0.0.1")
        #expect(address.port == 4321)
        #expect(try await child.waitForLine(containing: "oops", in: .stderr, timeout: .seconds(5)) == "oops")
        #expect(child.isRunning)
        child.hangUp()
        _ = try await child.waitForLine(matching: "^reload(ed)?$", in: .stdout, timeout: .seconds(5))
        child.terminate()
        let status = await child.waitForExit(timeout: .seconds(5))
        #expect(status == .exited(7))
        #expect(child.stdout.contains("bye"))
        #expect(child.lines(.stdout).first == "starting")
    }

    @Test func killedBySignal() async throws {
        let child = try ChildProcess.launch("/bin/sleep", ["5"])
        #if os(Linux)
        // The test's threads block SIGTERM/SIGHUP/SIGINT; the child must not inherit that.
        let mask = try #require(child.blockedSignalMask)
        for signal in [SIGTERM, SIGHUP, SIGINT] {
            #expect(mask & (UInt64(1) << UInt64(signal - 1)) == 0, "signal \(signal) blocked in the child")
        }
        #endif
        child.terminate()
        #expect(await child.waitForExit(timeout: .seconds(5)) == .killed(by: SIGTERM))
    }

    @Test func waitForExitTimesOutThenStopEscalates() async throws {
        let child = try ChildProcess.launch("/bin/sh", ["-c", "trap '' TERM; echo ready; exec sleep 5"])
        _ = try await child.waitForLine(containing: "ready", timeout: .seconds(5))
        child.terminate()
        let start = ContinuousClock.now
        #expect(await child.waitForExit(timeout: .milliseconds(300)) == nil)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(await child.stop(grace: .milliseconds(200)) == .killed(by: SIGKILL))
    }

    @Test func waitingForALineThatNeverComesFailsWhenTheProcessExits() async throws {
        let child = try ChildProcess.launch("/bin/sh", ["-c", "echo nothing to see; exit 3"])
        await #expect(throws: ChildProcess.ChildError.self) {
            _ = try await child.waitForListening(timeout: .seconds(5))
        }
        #expect(await child.waitForExit(timeout: .seconds(5)) == .exited(3))
    }

    @Test func waitingForALineTimesOut() async throws {
        let child = try ChildProcess.launch("/bin/sleep", ["5"])
        let start = ContinuousClock.now
        await #expect(throws: ChildProcess.ChildError.self) {
            _ = try await child.waitForLine(containing: "never", timeout: .milliseconds(200))
        }
        #expect(ContinuousClock.now - start < .seconds(2))
        await child.stop()
    }

    @Test func missingExecutable() {
        #expect(throws: ChildProcess.ChildError.self) {
            _ = try ChildProcess.launch("/nonexistent/shellac")
        }
    }

    @Test(arguments: [
        ("listening on 127.0.0.1:6081", "127.0.0.1", 6081),
        ("Info: Listening on [::1]:8080.", "::1", 8080),
        ("shellac: listening on :80 (client)", "0.0.0.0", 80),
        ("listening on localhost:1, admin", "localhost", 1),
    ])
    func parseListening(line: String, host: String, port: Int) throws {
        let parsed = try #require(ChildProcess.parseListening(line))
        #expect(parsed.host == host)
        #expect(parsed.port == port)
    }

    @Test func parseListeningRejects() {
        #expect(ChildProcess.parseListening("started") == nil)
        #expect(ChildProcess.parseListening("listening on 127.0.0.1") == nil)
        #expect(ChildProcess.parseListening("listening on 127.0.0.1:99999") == nil)
    }

    @Test func locatesPackageAndShellacBinary() throws {
        let root = ChildProcess.packageRoot()
        #expect(FileManager.default.fileExists(atPath: root + "/Package.swift"))
        #expect(ChildProcess.shellacExecutable().hasSuffix("/shellac"))
        let dir = try #require(ChildProcess.testBundleDirectory())
        #expect(FileManager.default.fileExists(atPath: dir))
    }

    @Test(.enabled(if: ChildProcess.which("curl") != nil))
    func curlAgainstTestOrigin() async throws {
        try await withOrigin { origin in
            origin.route("/c", .chunked(chunks: ["cu", "rl"]))
            let curl = try #require(ChildProcess.which("curl"))
            let child = try ChildProcess.launch(curl, ["-sS", "-i", "--max-time", "5", origin.url("/c")])
            let status = await child.waitForExit(timeout: .seconds(10))
            #expect(status == .exited(0))
            #expect(child.stdout.hasPrefix("HTTP/1.1 200 OK"))
            #expect(child.stdout.lowercased().contains("transfer-encoding: chunked"))
            #expect(child.stdout.hasSuffix("\r\n\r\ncurl"))
            #expect(origin.requests.first?.header("user-agent")?.hasPrefix("curl/") == true)
        }
    }
}

@Suite("ChildProcess with the shellac binary")
struct ShellacBinarySmokeTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: ChildProcess.shellacExecutable())),
          .timeLimit(.minutes(1)))
    func startsServesAndStopsOnSIGTERM() async throws {
        try await withOrigin(handler: { _ in .init(headers: ["Cache-Control": "max-age=60"], body: "from origin") }) { origin in
            let shellac = try ChildProcess.launch(
                ChildProcess.shellacExecutable(), ["-a", "127.0.0.1:0", "-b", origin.address, "-F"])
            do {
                let address = try await shellac.waitForListening(timeout: .seconds(10))
                #expect(address.host == "127.0.0.1")
                #expect(address.port > 0)
                let (response, body) = try await get("http://127.0.0.1:\(address.port)/smoke")
                #expect(response.status == .ok)
                #expect(body == "from origin")
                #expect(origin.requestCount(path: "/smoke") == 1)
                shellac.terminate()
                #expect(await shellac.waitForExit(timeout: .seconds(10)) == .exited(0))
            } catch {
                await shellac.stop(grace: .seconds(1))
                throw error
            }
            await shellac.stop(grace: .seconds(1))  // no-op when it has already exited
        }
    }
}
