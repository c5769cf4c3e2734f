import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import Shellac
@testable import ShellacCache
import VCL

/// Health probes, `backend.set_health` and directors over real sockets: origins the tests
/// start, flip and stop; a probe's verdict decides where (and whether) requests go.
@Suite("Backend health: probes, set_health, directors")
struct BackendHealthTests {
    /// An origin whose `/health` answers 200 while `up` is set and 500 otherwise; every other
    /// path answers its name.
    final class Switch: Sendable {
        let up = Atomic<Bool>(true)
        func set(_ value: Bool) { up.store(value, ordering: .relaxed) }
    }

    static func origin(_ health: Switch, name: String) async throws -> TestOrigin {
        try await TestOrigin.start(routes: [
            "/health": { _ in TestOrigin.Response(status: health.up.load(ordering: .relaxed) ? .ok : .internalServerError) },
        ]) { _ in TestOrigin.Response(body: name) }
    }

    static func admin(_ proxy: ShellacFixture) -> AdminCommands {
        AdminCommands(
            registry: proxy.server.vcl, loader: VCLLoader(), store: proxy.server.store,
            parameters: proxy.server.parameters, log: proxy.server.log, statistics: proxy.server.statistics,
            backendCounters: proxy.server.backendCounters, threads: proxy.server.threadCount)
    }

    static func probedVCL(port: Int, initial: Int) -> String {
        """
        vcl 4.1;
        import std;
        backend origin {
            .host = "127.0.0.1"; .port = "\(port)";
            .probe = { .url = "/health"; .interval = 0.1s; .timeout = 0.5s; .window = 3; .threshold = 2; .initial = \(initial); }
        }
        sub vcl_recv {
            if (req.url == "/healthy") {
                if (std.healthy(req.backend_hint)) { return (synth(200, "healthy")); }
                return (synth(503, "sick"));
            }
            return (pass);
        }
        """
    }

    /// Polls `/healthy` until it answers `status`; returns the seconds it took, or nil.
    static func secondsUntil(_ proxy: ShellacFixture, status: Int, limit: Double = 5) async throws -> Double? {
        let start = ContinuousClock.now
        for _ in 0..<Int(limit * 50) {
            if try await fetch(proxy.url("/healthy")).status == status {
                let elapsed = ContinuousClock.now - start
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    @Test("a probe flips the backend sick and healthy again within interval x threshold; sick means 503 without asking it")
    func probeFlips() async throws {
        let health = Switch()
        let origin = try await Self.origin(health, name: "a")
        let vcl = try VCLRequestStatesTests.file(Self.probedVCL(port: origin.port, initial: 2))
        try await withProxy(origin: origin, vclFile: vcl, keepBackends: true) { proxy in
            #expect(try await fetch(proxy.url("/page")).body == "a")
            health.set(false)
            // interval 0.1 s x threshold 2: two bad pokes; allow one poke in flight and slack.
            let toSick = try await Self.secondsUntil(proxy, status: 503)
            #expect(toSick != nil && toSick! < 0.2 * 2 + 0.6, "went sick after \(String(describing: toSick)) s")
            let asked = origin.requestCount(path: "/page")
            let refused = try await fetch(proxy.url("/page"))
            #expect(refused.status == 503)
            #expect(origin.requestCount(path: "/page") == asked)
            #expect(proxy.server.statistics.value(.backendUnhealthy) >= 1)

            let listing = Self.admin(proxy).execute(["backend.list", "-p"])
            #expect(listing.status == 200)
            #expect(listing.body.contains("boot.origin") && listing.body.contains("sick"))
            #expect(listing.body.contains("Happy") && listing.body.contains("Good Recv"))
            let json = Self.admin(proxy).execute(["backend.list", "-j", "-p"])
            let parsed = try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [Any]
            let entry = (parsed?[3] as? [String: Any])?["boot.origin"] as? [String: Any]
            #expect(entry?["admin_health"] as? String == "probe")
            #expect((entry?["probe_message"] as? [Any])?.last as? String == "sick")

            health.set(true)
            let toHealthy = try await Self.secondsUntil(proxy, status: 200)
            #expect(toHealthy != nil && toHealthy! < 0.2 * 2 + 0.6, "went healthy after \(String(describing: toHealthy)) s")
            #expect(try await fetch(proxy.url("/page")).body == "a")
        }
    }

    @Test("backend.set_health: sick refuses, healthy overrides a failing probe, auto gives the probe back its say")
    func setHealth() async throws {
        let health = Switch()
        health.set(false)
        let origin = try await Self.origin(health, name: "a")
        let vcl = try VCLRequestStatesTests.file(Self.probedVCL(port: origin.port, initial: 0))
        try await withProxy(origin: origin, vclFile: vcl, keepBackends: true) { proxy in
            let admin = Self.admin(proxy)
            let page = proxy.url("/page")
            var response = try await fetch(page)
            #expect(response.status == 503)
            #expect(admin.execute(["backend.set_health", "origin", "healthy"]).status == 200)
            response = try await fetch(page)
            #expect(response.body == "a")
            #expect(admin.execute(["backend.list"]).body.contains("healthy"))
            #expect(admin.execute(["backend.set_health", "boot.*", "sick"]).status == 200)
            response = try await fetch(page)
            #expect(response.status == 503)
            #expect(admin.execute(["backend.set_health", "origin", "auto"]).status == 200)
            response = try await fetch(page)
            #expect(response.status == 503)
            #expect(admin.execute(["backend.set_health", "origin", "maybe"]).status == 106)
            #expect(admin.execute(["backend.set_health", "nosuch", "auto"]).status == 106)
            #expect(admin.execute(["backend.list", "-x"]).status == 106)
        }
    }

    @Test("round-robin over two probed origins: one goes down, its probe marks it sick, clients see no error")
    func directorSkipsDeadOrigin() async throws {
        let healthA = Switch()
        let healthB = Switch()
        let a = try await Self.origin(healthA, name: "a")
        let b = try await Self.origin(healthB, name: "b")
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            import directors;
            probe quick { .url = "/health"; .interval = 0.1s; .timeout = 0.3s; .window = 2; .threshold = 1; .initial = 1; }
            backend a { .host = "127.0.0.1"; .port = "\(a.port)"; .probe = quick; }
            backend b { .host = "127.0.0.1"; .port = "\(b.port)"; .probe = quick; }
            sub vcl_init {
                new pool = directors.round_robin();
                pool.add_backend(a);
                pool.add_backend(b);
            }
            sub vcl_recv {
                set req.backend_hint = pool.backend();
                return (pass);
            }
            """)
        try await withProxy(origin: b, vclFile: vcl, keepBackends: true) { proxy in
            var bodies: [String] = []
            for _ in 0..<4 { bodies.append(try await fetch(proxy.url("/page")).body) }
            #expect(Set(bodies) == ["a", "b"])
            await a.shutdown()
            // window 2, threshold 1: two failed pokes (0.2 s) make it sick; wait a little more.
            try await Task.sleep(for: .milliseconds(600))
            var statuses: [Int] = []
            bodies = []
            for _ in 0..<10 {
                let response = try await fetch(proxy.url("/page"))
                statuses.append(response.status)
                bodies.append(response.body)
            }
            #expect(statuses.allSatisfy { $0 == 200 })
            #expect(Set(bodies) == ["b"])
        }
    }
}

/// `.max_connections` and its wait queue, over real sockets against a slow origin.
@Suite("Backend connection limits")
struct BackendLimitTests {
    static func vcl(port: Int) throws -> String {
        try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend slow { .host = "127.0.0.1"; .port = "\(port)"; .max_connections = 1; }
            sub vcl_recv { return (pass); }
            """)
    }

    static func slowOrigin() async throws -> TestOrigin {
        try await TestOrigin.start { _ in
            var response = TestOrigin.Response(body: "slow")
            response.delayBeforeHeaders = .milliseconds(400)
            return response
        }
    }

    /// Sends `count` requests at once; returns their statuses, sorted.
    static func concurrent(_ proxy: ShellacFixture, _ count: Int) async throws -> [Int] {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<count { group.addTask { try await fetch(proxy.url("/p\(index)")).status } }
            return try await group.reduce(into: []) { $0.append($1) }.sorted()
        }
    }

    @Test("past .max_connections a fetch is a 503 at once (MAIN.backend_busy), as in Varnish 7.1")
    func refusesAtLimit() async throws {
        let origin = try await Self.slowOrigin()
        try await withProxy(origin: origin, vclFile: try Self.vcl(port: origin.port), keepBackends: true) { proxy in
            let started = ContinuousClock.now
            let statuses = try await Self.concurrent(proxy, 2)
            #expect(statuses == [200, 503])
            #expect(ContinuousClock.now - started < .milliseconds(1200))
            #expect(proxy.server.statistics.value(.backendBusy) == 1)
            #expect(origin.requestCount == 1)
        }
    }

    @Test("backend_wait_limit and backend_wait_timeout: a bounded queue waits for the connection, the rest fail")
    func waitQueue() async throws {
        let origin = try await Self.slowOrigin()
        try await withProxy(
            origin: origin, parameters: ["backend_wait_limit=1", "backend_wait_timeout=3"],
            vclFile: try Self.vcl(port: origin.port), keepBackends: true
        ) { proxy in
            let two = try await Self.concurrent(proxy, 2)
            #expect(two == [200, 200])
            let three = try await Self.concurrent(proxy, 3)
            #expect(three == [200, 200, 503])
            #expect(proxy.server.statistics.value(.backendWait) >= 2)
            #expect(proxy.server.statistics.value(.backendBusy) == 1)
        }
    }
}

/// Backends on Unix domain sockets (`.path`, `-b /path`), over a real socket file.
@Suite("Unix domain socket backends")
struct UnixSocketBackendTests {
    /// Answers every request head it reads with `200 unix`; closes after one that asked to.
    final class Responder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let text = String(buffer: unwrapInboundIn(data))
            for _ in text.components(separatedBy: "\r\n\r\n").dropFirst() {
                context.write(NIOAny(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nunix")), promise: nil)
            }
            context.flush()
            if text.lowercased().contains("connection: close") { context.close(promise: nil) }
        }
    }

    @Test("a VCL backend with .path, probed and fetched over the socket; -b /path parses as one")
    func unixBackend() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-uds-\(UUID().uuidString.prefix(8)).sock").path
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Responder()) }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        defer {
            server.close(promise: nil)
            try? FileManager.default.removeItem(atPath: path)
        }
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend local { .path = "\(path)"; .probe = { .interval = 0.1s; .initial = 0; .window = 2; .threshold = 1; } }
            sub vcl_recv { return (pass); }
            """)
        try await withProxy(backendPort: 1, vclFile: vcl, keepBackends: true) { proxy in
            let healthy = await pollUntil(timeout: .seconds(3)) {
                proxy.server.vcl.active.health["local"]?.isHealthy == true
            }
            #expect(healthy)
            let response = try await fetch(proxy.url("/over-uds"))
            #expect(response.status == 200 && response.body == "unix")
            let listing = BackendHealthTests.admin(proxy).execute(["backend.list", "-p"]).body
            #expect(listing.contains("Good UNIX"))
        }
        #expect(Backend(parsing: "/run/app.sock")?.unixPath == "/run/app.sock")
        #expect(throws: VCLCompileError.self) {
            try VCLCompiler.compile(source: "vcl 4.1; backend b { .host = \"127.0.0.1\"; .path = \"/x.sock\"; }", name: "both.vcl")
        }
    }
}
