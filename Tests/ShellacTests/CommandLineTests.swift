import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `shellac` daemon as a start script uses it: varnishd's flags, exit status 2 with a
/// message naming a bad flag or value, and a graceful stop on SIGTERM / SIGINT.
@Suite("Command line", .serialized)
struct CommandLineTests {
    static var binary: String { ChildProcess.shellacExecutable() }

    /// Runs `shellac arguments` and expects it to refuse them: exit 2, stderr naming `named`.
    static func expectRefused(_ arguments: [String], naming named: String) async throws {
        let child = try ChildProcess.launch(binary, arguments)
        let status = await child.waitForExit(timeout: .seconds(10))
        if status == nil { await child.stop(grace: .seconds(2)) }
        #expect(status == .exited(2), "shellac \(arguments.joined(separator: " ")) → \(status.map(\.description) ?? "still running after 10 s"); stdout: \(child.stdout) stderr: \(child.stderr)")
        #expect(child.stderr.contains(named), "stderr does not name \(named.debugDescription): \(child.stderr.debugDescription)")
    }

    @Test("an unknown flag exits 2 and names it")
    func unknownFlag() async throws {
        try await Self.expectRefused(["-a", "127.0.0.1:0", "-b", "127.0.0.1:9", "--nope"], naming: "--nope")
    }

    @Test("a bad -s value exits 2 and names it")
    func badStorage() async throws {
        try await Self.expectRefused(["-a", "127.0.0.1:0", "-b", "127.0.0.1:9", "-s", "malloc,lots"], naming: "malloc,lots")
    }

    @Test("an unknown -p name exits 2 and names it")
    func unknownParameter() async throws {
        try await Self.expectRefused(["-a", "127.0.0.1:0", "-b", "127.0.0.1:9", "-p", "no_such_param=1"], naming: "no_such_param")
    }

    @Test("a bad -p value exits 2 and names it")
    func badParameterValue() async throws {
        try await Self.expectRefused(["-a", "127.0.0.1:0", "-b", "127.0.0.1:9", "-p", "timeout_idle=soon"], naming: "timeout_idle")
    }

    @Test("a bad value for a parameter Shellac only accepts exits 2 and names it")
    func badAcceptedParameterValue() async throws {
        try await Self.expectRefused(["-a", "127.0.0.1:0", "-b", "127.0.0.1:9", "-p", "thread_pools=lots"], naming: "thread_pools")
    }

    @Test("varnishd parameters with no effect in Shellac do not stop the start")
    func acceptedParametersStart() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "ok"))
        let child = try ChildProcess.launch(
            Self.binary,
            ["-a", "127.0.0.1:0", "-b", origin.address, "-p", "thread_pools=2", "-p", "feature=+esi_disable_xml_check",
             "-p", "vsl_mask=-Debug", "-p", "debug=+syncvsl", "-p", "workspace_client=128k", "-F"])
        let address = try await child.waitForListening(timeout: .seconds(10))
        let response = try await fetch("http://127.0.0.1:\(address.port)/p")
        #expect(response.status == 200 && response.body == "ok")
        #expect(await child.stop() == .exited(0))
    }

    @Test("a bad -a address exits 2 and names it")
    func badListenAddress() async throws {
        try await Self.expectRefused(["-a", "127.0.0.1:notaport", "-b", "127.0.0.1:9"], naming: "127.0.0.1:notaport")
    }

    @Test("-a 127.0.0.1:0 -b ... -s malloc,16m -F starts, prints its address and answers")
    func startsAndAnswers() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "from the origin"))
        let child = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0", "-b", origin.address, "-s", "malloc,16m", "-F"])
        do {
            let address = try await child.waitForListening(timeout: .seconds(10))
            #expect(address.host == "127.0.0.1" && address.port > 0)
            let first = try await fetch("http://127.0.0.1:\(address.port)/cli")
            #expect(first.status == 200 && first.body == "from the origin")
            #expect(first.header("Via") == "1.1 shellac")
            let second = try await fetch("http://127.0.0.1:\(address.port)/cli")
            #expect(second.isHit && second.body == "from the origin")
            #expect(origin.requestCount == 1)
        } catch {
            await child.stop(grace: .seconds(2))
            await origin.shutdown()
            throw error
        }
        let status = await child.stop(grace: .seconds(5))
        await origin.shutdown()
        #expect(status == .exited(0), "after SIGTERM: \(status.map(\.description) ?? "still running"); stderr: \(child.stderr)")
    }

    @Test("SIGTERM while a slow response is in flight: the response completes, then exit 0")
    func sigtermDrainsInFlight() async throws {
        let body = TestOrigin.body(size: 100_000)
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], bytes: body).delayed(by: .milliseconds(1500)))
        try await withDaemon(origin: origin, ["-a", "127.0.0.1:0", "-b", origin.address, "-s", "malloc,16m", "-F"]) { child in
            let address = try await child.waitForListening(timeout: .seconds(10))
            let client = try await RawHTTPClient.connect(port: address.port)
            try await client.send("GET /inflight HTTP/1.1\r\nHost: example.com\r\n\r\n")
            #expect(await origin.waitForRequests(1, timeout: .seconds(3)), "the request never reached the origin")
            let signalled = ContinuousClock.now
            child.terminate()

            // No new connections once stopping (checked while the slow response is pending).
            try await Task.sleep(for: .milliseconds(300))
            let late = try? await RawHTTPClient.connect(port: address.port, timeout: .milliseconds(500))
            if let late {
                await late.close()
                Issue.record("a new connection was accepted 300 ms after SIGTERM")
            }

            let response = try await client.readResponse(timeout: .seconds(5))
            await client.close()
            #expect(response.status == 200)
            #expect(response.body == body, "got \(response.body.count) of \(body.count) body bytes")
            let status = await child.waitForExit(timeout: .seconds(5))
            let elapsed = ContinuousClock.now - signalled
            #expect(status == .exited(0), "after SIGTERM: \(status.map(\.description) ?? "still running 5 s after the response"); stderr: \(child.stderr)")
            #expect(elapsed < .seconds(6), "stop took \(elapsed)")
        }
    }

    @Test("SIGINT when idle: exit 0 promptly")
    func sigintIdle() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        let child = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0", "-b", origin.address, "-F"])
        do {
            _ = try await child.waitForListening(timeout: .seconds(10))
        } catch {
            await child.stop(grace: .seconds(2))
            await origin.shutdown()
            throw error
        }
        let signalled = ContinuousClock.now
        child.interrupt()
        let status = await child.waitForExit(timeout: .seconds(5))
        let elapsed = ContinuousClock.now - signalled
        if status == nil { await child.stop(grace: .seconds(1)) }
        await origin.shutdown()
        #expect(status == .exited(0), "after SIGINT: \(status.map(\.description) ?? "still running after 5 s"); stderr: \(child.stderr)")
        #expect(elapsed < .seconds(3), "exit took \(elapsed)")
    }

    // MARK: more

    @Test("a missing -b exits 2 and says what is needed")
    func missingBackend() async throws {
        try await Self.expectRefused(["-a", "127.0.0.1:0"], naming: "-b")
    }

    @Test("-a on a port already in use exits 2")
    func listenPortInUse() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        try await Self.expectRefused(["-a", "127.0.0.1:\(origin.port)", "-b", origin.address], naming: "\(origin.port)")
        await origin.shutdown()
    }

    @Test("two -a flags: both addresses listen and answer")
    func twoListenAddresses() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "both"))
        let child = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0", "-a", "127.0.0.1:0", "-b", origin.address, "-F"])
        do {
            _ = try await child.waitForListening(timeout: .seconds(10))
            try await Task.sleep(for: .milliseconds(200))
            let ports = child.lines(.stdout).compactMap { ChildProcess.parseListening($0)?.port }
            #expect(ports.count == 2 && Set(ports).count == 2, "listening lines: \(child.lines(.stdout))")
            for port in ports {
                let response = try await fetch("http://127.0.0.1:\(port)/two")
                #expect(response.status == 200 && response.body == "both")
            }
        } catch {
            await child.stop(grace: .seconds(2))
            await origin.shutdown()
            throw error
        }
        let status = await child.stop(grace: .seconds(5))
        await origin.shutdown()
        #expect(status == .exited(0))
    }

    @Test("-p http_req_size is honoured by the daemon")
    func parameterTakesEffect() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        let child = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0", "-b", origin.address, "-p", "http_req_size=4k", "-F"])
        do {
            let address = try await child.waitForListening(timeout: .seconds(10))
            let filler = String(repeating: "a", count: 1000)
            let headers = (0..<8).map { "X-Pad-\($0): \(filler)\r\n" }.joined()
            let response = try await RawHTTPClient.exchange(port: address.port, "GET /big HTTP/1.1\r\nHost: example.com\r\n\(headers)\r\n")
            #expect(response.status == 431)
        } catch {
            await child.stop(grace: .seconds(2))
            await origin.shutdown()
            throw error
        }
        await child.stop(grace: .seconds(5))
        await origin.shutdown()
    }

    @Test("SIGTERM with an idle keep-alive client connected: exit 0 promptly, the idle connection closed")
    func sigtermWithIdleKeepAlive() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "x"))
        try await withDaemon(origin: origin, ["-a", "127.0.0.1:0", "-b", origin.address, "-F"]) { child in
            let address = try await child.waitForListening(timeout: .seconds(10))
            let client = try await RawHTTPClient.connect(port: address.port)
            try await client.send("GET /ka HTTP/1.1\r\nHost: example.com\r\n\r\n")
            #expect(try await client.readResponse().status == 200)
            let signalled = ContinuousClock.now
            child.terminate()
            let status = await child.waitForExit(timeout: .seconds(8))
            let elapsed = ContinuousClock.now - signalled
            #expect(status == .exited(0), "\(status.map(\.description) ?? "still running 8 s after SIGTERM")")
            // timeout_idle is 5 s: a graceful stop must not wait for idle clients to time out.
            #expect(elapsed < .seconds(3), "exit took \(elapsed)")
            #expect(await client.waitForClose(timeout: .seconds(1)))
            await client.close()
        }
    }

    @Test("SIGTERM with a response that never completes: the stop is bounded by shutdown_timeout, exit 0")
    func sigtermBounded() async throws {
        let origin = try await TestOrigin.start(always: .neverRespond)
        try await withDaemon(origin: origin, ["-a", "127.0.0.1:0", "-b", origin.address, "-p", "shutdown_timeout=1", "-F"]) { child in
            let address = try await child.waitForListening(timeout: .seconds(10))
            let client = try await RawHTTPClient.connect(port: address.port)
            try await client.send("GET /forever HTTP/1.1\r\nHost: example.com\r\n\r\n")
            #expect(await origin.waitForRequests(1, timeout: .seconds(3)))
            let signalled = ContinuousClock.now
            child.terminate()
            let status = await child.waitForExit(timeout: .seconds(8))
            let elapsed = ContinuousClock.now - signalled
            #expect(status == .exited(0), "\(status.map(\.description) ?? "still running 8 s after SIGTERM")")
            #expect(elapsed >= .milliseconds(800) && elapsed < .seconds(4), "exit took \(elapsed)")
            await client.close()
        }
    }

    @Test("other bad -s values exit 2 and name the value",
          arguments: ["malloc,16x", "file,/tmp/shellac-store", "malloc,", "malloc,1m,2m"])
    func badStorageVariants(_ value: String) async throws {
        try await Self.expectRefused(["-a", "127.0.0.1:0", "-b", "127.0.0.1:9", "-s", value], naming: value)
    }

    @Test("a bad -b exits 2 and names it")
    func badBackend() async throws {
        try await Self.expectRefused(["-a", "127.0.0.1:0", "-b", "127.0.0.1:99999"], naming: "127.0.0.1:99999")
    }

    @Test("-p without = exits 2 and names it")
    func malformedParameter() async throws {
        try await Self.expectRefused(["-a", "127.0.0.1:0", "-b", "127.0.0.1:9", "-p", "timeout_idle"], naming: "timeout_idle")
    }
}
