import Foundation
import Testing

@testable import VCL

/// vmod_directors as Shellac has it, without sockets: each director skips sick members
/// (health set on the program's board, as probes and `backend.set_health` set it), directors
/// nest, fallback can be sticky, and the shard director moves few keys when a member turns sick.
@Suite("Directors and backend health")
struct DirectorTests {
    static func program(_ body: String, backends: Int = 3) throws -> VCLProgram {
        var text = "vcl 4.1;\nimport directors;\nimport std;\n"
        for index in 1...backends { text += "backend b\(index) { .host = \"127.0.0.1\"; .port = \"\(8000 + index)\"; }\n" }
        return try VCLCompiler.compile(source: text + body, name: "directors.vcl")
    }

    /// The backend a request for `url` ends on (through every director).
    static func chosen(_ program: VCLProgram, _ url: String) -> String? {
        let context = Support.request(program, "GET", url)
        _ = program.run(.recv, context)
        return program.resolveBackend(context.req.backendHint, context: context)?.name
    }

    static func setSick(_ program: VCLProgram, _ names: String...) {
        for name in names { program.health[name]?.setAdmin(.sick, now: 0) }
    }

    @Test("a director is usable wherever a backend is: nested in another director, sick members skipped")
    func nested() throws {
        let p = try Self.program("""
            sub vcl_init {
                new pool = directors.round_robin();
                pool.add_backend(b1);
                pool.add_backend(b2);
                new fb = directors.fallback();
                fb.add_backend(pool.backend());
                fb.add_backend(b3);
            }
            sub vcl_recv {
                set req.backend_hint = fb.backend();
                if (std.healthy(req.backend_hint)) { set req.http.X-Healthy = "yes"; }
            }
            """)
        #expect(Set((0..<4).compactMap { _ in Self.chosen(p, "/") }) == ["b1", "b2"])
        Self.setSick(p, "b1")
        #expect(Set((0..<4).compactMap { _ in Self.chosen(p, "/") }) == ["b2"])
        Self.setSick(p, "b2")
        #expect(Self.chosen(p, "/") == "b3")
        #expect(p.isHealthy("fb") && !p.isHealthy("pool"))
        Self.setSick(p, "b3")
        #expect(Self.chosen(p, "/") == nil)
        #expect(!p.isHealthy("fb"))
    }

    @Test("a sticky fallback stays with the member it moved to while that one is healthy")
    func stickyFallback() throws {
        let p = try Self.program("""
            sub vcl_init {
                new fb = directors.fallback(sticky = true);
                fb.add_backend(b1);
                fb.add_backend(b2);
            }
            sub vcl_recv { set req.backend_hint = fb.backend(); }
            """)
        #expect(Self.chosen(p, "/") == "b1")
        Self.setSick(p, "b1")
        #expect(Self.chosen(p, "/") == "b2")
        p.health["b1"]?.setAdmin(.auto, now: 0)
        #expect(Self.chosen(p, "/") == "b2")  // sticky: stays on b2
        Self.setSick(p, "b2")
        #expect(Self.chosen(p, "/") == "b1")
    }

    @Test("shard: the same key always lands on the same backend; one of N turning sick moves about 1/N of the keys")
    func shardMovement() throws {
        let p = try Self.program("""
            sub vcl_init {
                new s = directors.shard();
                s.add_backend(b1);
                s.add_backend(b2);
                s.add_backend(b3);
                s.add_backend(b4);
                s.reconfigure(replicas = 67);
            }
            sub vcl_recv {
                if (req.url ~ "^/key/") {
                    set req.backend_hint = s.backend(by = KEY, key = s.key(req.url));
                } else {
                    set req.backend_hint = s.backend(by = URL);
                }
            }
            """, backends: 4)
        let keys = (0..<4000).map { "/key/\($0)" }
        let before = keys.map { Self.chosen(p, $0) }
        #expect(before == keys.map { Self.chosen(p, $0) })
        let counts = Dictionary(grouping: before.compactMap { $0 }, by: { $0 }).mapValues(\.count)
        #expect(counts.count == 4)
        #expect(counts.values.allSatisfy { $0 > 600 && $0 < 1400 }, "spread: \(counts)")
        Self.setSick(p, "b3")
        let after = keys.map { Self.chosen(p, $0) }
        let moved = zip(before, after).filter { $0 != $1 }.count
        // Only the keys b3 owned move, and each to a healthy member.
        #expect(moved == counts["b3"])
        #expect(!after.contains("b3") && !after.contains(nil))
        let share = Double(moved) / Double(keys.count)
        print("shard: \(moved) of \(keys.count) keys moved (\(String(format: "%.1f", share * 100))%) when 1 of 4 backends turned sick")
        #expect(share < 0.25 * 1.4)
        #expect(Self.chosen(p, "/some/url") == Self.chosen(p, "/some/url"))
    }

    @Test("directors that contain themselves, unknown members and unknown shard words are compile errors")
    func errors() {
        #expect(throws: VCLCompileError.self) {
            try Self.program("sub vcl_init { new a = directors.round_robin(); a.add_backend(a.backend()); }")
        }
        #expect(throws: VCLCompileError.self) {
            try Self.program("sub vcl_init { new a = directors.round_robin(); a.add_backend(nosuch); }")
        }
        #expect(throws: VCLCompileError.self) {
            try Self.program("""
                sub vcl_init { new s = directors.shard(); s.add_backend(b1); }
                sub vcl_recv { set req.backend_hint = s.backend(by = COLOUR); }
                """)
        }
    }

    @Test("a probed backend starts sick unless .initial reaches .threshold; pokes decide over the window")
    func probeHistory() {
        var probe = VCLProbe(name: "p")
        probe.window = 3
        probe.threshold = 2
        var history = ProbeHistory(probe: probe)
        #expect(history.good == 1 && !history.isHealthy)  // initial = threshold - 1
        history.startPoke()
        history.happy |= 1
        history.finishPoke()
        #expect(history.isHealthy)
        for _ in 0..<2 {
            history.startPoke()
            history.finishPoke()
        }
        #expect(history.good == 1 && !history.isHealthy)  // one good left in the window of 3
        probe.initial = 2
        #expect(ProbeHistory(probe: probe).isHealthy)
        let health = BackendHealth(name: "b", probe: probe, now: 0)
        #expect(health.isHealthy)
        health.setAdmin(.sick, now: 1)
        #expect(!health.isHealthy)
        health.setAdmin(.healthy, now: 2)
        health.recordPoke(now: 3) { _ in }
        health.recordPoke(now: 4) { _ in }
        #expect(health.isHealthy && !(health.snapshot.history?.isHealthy ?? true))
        health.setAdmin(.auto, now: 5)
        #expect(!health.isHealthy)
    }

    @Test("vcc reads a unit apart from its number: `1 s` is a duration")
    func spacedUnit() throws {
        let p = try Self.program("""
            probe slow { .timeout = 1 s; .interval = 0.5 s; }
            sub vcl_recv { set req.http.X-T = 1 m; }
            """)
        #expect(p.probes.first?.timeout == 1 && p.probes.first?.interval == 0.5)
    }
}
