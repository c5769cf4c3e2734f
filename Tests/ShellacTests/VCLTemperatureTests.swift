import Foundation
import Testing

@testable import Shellac

/// VCL temperatures as varnishd keeps them: `vcl.state`, `vcl_cooldown`, `vcl.use` of a cold
/// program; a cold program runs no probes and reports no backend counters.
@Suite("VCL temperature")
struct VCLTemperatureTests {
    @Test("an unused auto VCL goes cold after vcl_cooldown: its probes stop, its VBE counters go; vcl.use warms it")
    func cooldown() async throws {
        let origin = try await TestOrigin.start { _ in TestOrigin.Response(body: "origin") }
        try await withProxy(origin: origin, parameters: ["vcl_cooldown=1"]) { proxy in
            let admin = BackendHealthTests.admin(proxy)
            let probed = """
                vcl 4.1;
                backend spare {
                    .host = "127.0.0.1"; .port = "\(origin.port)";
                    .probe = { .url = "/spare-health"; .interval = 0.1s; .window = 2; .threshold = 1; }
                }
                """
            #expect(admin.execute(["vcl.inline", "spare", probed]).status == 200)
            let listed = admin.execute(["vcl.list"]).body
            #expect(listed.contains("available   auto    warm") && listed.contains("spare"), "\(listed)")
            #expect(Self.counterNames(admin).contains("VBE.spare.spare.happy"))
            // The probe runs while it is warm; the poker cools it between 1 and 3 s later.
            try await Self.waitUntil(seconds: 6) { admin.execute(["vcl.list"]).body.contains("available   auto    cold") }
            #expect(origin.requestCount(path: "/spare-health") > 0)
            #expect(!Self.counterNames(admin).contains("VBE.spare.spare.happy"))
            let asked = origin.requestCount(path: "/spare-health")
            try await Task.sleep(for: .milliseconds(500))
            #expect(origin.requestCount(path: "/spare-health") == asked)  // no probe while cold
            #expect(admin.execute(["vcl.use", "spare"]).status == 200)
            #expect(admin.execute(["vcl.list"]).body.contains("active      auto    warm"))
            try await Self.waitUntil(seconds: 3) { origin.requestCount(path: "/spare-health") > asked }
            #expect(Self.counterNames(admin).contains("VBE.spare.spare.happy"))
        }
    }

    @Test("vcl.state: cold is refused for the active VCL; a VCL set cold cannot be used until set auto or warm")
    func states() async throws {
        let origin = try await TestOrigin.start { _ in TestOrigin.Response(body: "origin") }
        try await withProxy(origin: origin) { proxy in
            let admin = BackendHealthTests.admin(proxy)
            let other = "vcl 4.1;\nbackend b { .host = \"127.0.0.1\"; }\n"
            #expect(admin.execute(["vcl.state", "boot", "cold"]).status == 300)
            #expect(admin.execute(["vcl.inline", "frozen", other, "cold"]).status == 200)
            #expect(admin.execute(["vcl.list"]).body.contains("available   cold    cold"))
            let refused = admin.execute(["vcl.use", "frozen"])
            #expect(refused.status == 300 && refused.body == "VCL 'frozen' is cold - set to auto or warm first")
            #expect(admin.execute(["vcl.state", "frozen", "tepid"]).status == 106)
            #expect(admin.execute(["vcl.inline", "other", other, "tepid"]).status == 106)
            #expect(admin.execute(["vcl.state", "frozen", "warm"]).status == 200)
            #expect(admin.execute(["vcl.list"]).body.contains("available   warm    warm"))
            #expect(admin.execute(["vcl.use", "frozen"]).status == 200)
            #expect(admin.execute(["vcl.list", "-j"]).body.contains("\"temperature\": \"warm\""))
        }
    }

    static func counterNames(_ admin: AdminCommands) -> Set<String> {
        Set(admin.counters().map(\.name))
    }

    static func waitUntil(seconds: Double, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within \(seconds) s")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
