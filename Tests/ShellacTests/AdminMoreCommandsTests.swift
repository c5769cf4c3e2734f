import Foundation
import Testing
import VCL

@testable import Shellac
@testable import ShellacCache

/// The rest of varnishd's CLI commands, run on `AdminCommands` directly (no socket).
@Suite("Admin CLI: varnishd's other commands")
struct AdminMoreCommandsTests {
    static func commands() throws -> AdminCommands {
        let program = try VCLCompiler.compile(
            source: "vcl 4.1;\nbackend web { .host = \"127.0.0.1\"; .port = \"8080\"; }\n", name: "boot.vcl")
        return AdminCommands(
            registry: VCLRegistry(boot: program), loader: VCLLoader(), store: CacheStore(capacity: 1 << 20),
            parameters: LiveParameters(Parameters()), log: TransactionLog())
    }

    @Test("ban.list lists the bans, newest first, above the store's first (complete) one")
    func banList() throws {
        let admin = try Self.commands()
        #expect(admin.execute(["ban", "req.url", "~", "^/a"]).status == 200)
        #expect(admin.execute(["ban", "obj.status", "==", "404"]).status == 200)
        let listing = admin.execute(["ban.list"])
        #expect(listing.status == 200)
        let lines = listing.body.split(separator: "\n").map(String.init)
        #expect(lines.first == "Present bans:")
        #expect(lines.count == 4)
        #expect(lines[1].hasSuffix("    0 -  obj.status == 404") && lines[2].hasSuffix("    0 -  req.url ~ ^/a"))
        #expect(lines[3].hasSuffix("    0 C  "))  // no object is stored: none is checked up to a ban
        let json = admin.execute(["ban.list", "-j"]).body
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any])
        #expect(parsed.count == 6)  // version, command, time, two bans and the first, complete one
        #expect((parsed[3] as? [String: Any])?["spec"] as? String == "obj.status == 404")
        #expect((parsed[3] as? [String: Any])?["refs"] as? Int == 0)
        #expect((parsed[5] as? [String: Any])?["spec"] as? String == "")
        // Durations as varnishd renders them. An identical newer ban completes the older, which
        // then shows no expression (varnishd drops it); obj.ttl and obj.age bans never do.
        for ban in [["obj.keep", "==", "0.456s"], ["obj.ttl", ">", "24h"], ["obj.ttl", ">", "86400"], ["obj.keep", "==", "456ms"]] {
            #expect(admin.execute(["ban"] + ban).status == 200)
        }
        let rendered = admin.execute(["ban.list"]).body.split(separator: "\n").map(String.init)
        #expect(rendered[1].hasSuffix("-  obj.keep == 456ms"))
        #expect(rendered[2].hasSuffix("-  obj.ttl > 1d") && rendered[3].hasSuffix("-  obj.ttl > 1d"))
        #expect(rendered[4].hasSuffix(" C  "))
    }

    @Test("vcl.inline compiles VCL given as text; errors come back as 106 with the compiler's message")
    func vclInline() throws {
        let admin = try Self.commands()
        let ok = admin.execute(["vcl.inline", "v2", "vcl 4.1; backend b { .host = \"127.0.0.1\"; } sub vcl_recv { return (pass); }"])
        #expect(ok.status == 200 && ok.body.contains("VCL compiled."))
        #expect(admin.execute(["vcl.use", "v2"]).status == 200)
        let broken = admin.execute(["vcl.inline", "v3", "vcl 4.1; sub vcl_recv { return (nonsense); }"])
        #expect(broken.status == 106 && broken.body.contains("VCL compilation failed"))
    }

    @Test("vcl.show gives back the text a VCL was compiled from; -v adds the built-in VCL")
    func vclShow() throws {
        let admin = try Self.commands()
        let text = "vcl 4.1;\nbackend b { .host = \"127.0.0.1\"; }\nsub vcl_recv { return (pass); }\n"
        #expect(admin.execute(["vcl.inline", "shown", text]).status == 200)
        #expect(admin.execute(["vcl.show", "shown"]) == AdminResponse(.ok, text))
        let verbose = admin.execute(["vcl.show", "-v", "shown"])
        #expect(verbose.status == 200 && verbose.body.contains(text) && verbose.body.contains("sub vcl_synth"))
        #expect(admin.execute(["vcl.show", "nosuch"]).status == 106)
        #expect(admin.execute(["vcl.show", "boot"]).body.contains("built-in VCL only"))
    }

    @Test("param.reset puts a parameter back to its default; status -j, backend.list, storage.list answer")
    func others() throws {
        let admin = try Self.commands()
        #expect(admin.execute(["param.set", "default_ttl", "30"]).status == 200)
        #expect(admin.parameters.current.defaultTTL == 30)
        #expect(admin.execute(["param.reset", "default_ttl"]).status == 200)
        #expect(admin.parameters.current.defaultTTL == 120)
        #expect(admin.execute(["param.reset", "no_such"]).status == 106)
        #expect(admin.execute(["status", "-j"]).body.contains("\"running\""))
        #expect(admin.execute(["backend.list"]).body.contains("boot.web"))
        #expect(admin.execute(["storage.list"]).body.contains("storage.s0"))
        #expect(admin.execute(["panic.show"]).status == 300)
        #expect(admin.execute(["stop"]).status == 300)
    }

    @Test("-r: param.set and param.reset of a protected parameter answer 107; param.show -j is varnishd's JSON")
    func protectedAndJSON() throws {
        let program = try VCLCompiler.compile(
            source: "vcl 4.1;\nbackend web { .host = \"127.0.0.1\"; .port = \"8080\"; }\n", name: "boot.vcl")
        let admin = AdminCommands(
            registry: VCLRegistry(boot: program), loader: VCLLoader(), store: CacheStore(capacity: 1 << 20),
            parameters: LiveParameters(Parameters()), log: TransactionLog(), readOnly: ["default_ttl"])
        let set = admin.execute(["param.set", "default_ttl", "30"])
        #expect(set.status == 107 && set.body == "parameter \"default_ttl\" is protected.")
        #expect(admin.execute(["param.reset", "default_ttl"]).status == 107)
        #expect(admin.parameters.current.defaultTTL == 120)
        #expect(admin.execute(["param.set", "default_grace", "30"]).status == 200)

        let shown = admin.execute(["param.show", "-j", "default_ttl"])
        #expect(shown.status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(shown.body.utf8)) as? [Any])
        #expect(json.first as? Int == 2)
        #expect(json.dropFirst().first as? [String] == ["param.show", "-j", "default_ttl"])
        let entry = try #require(json.last as? [String: Any])
        #expect(entry["name"] as? String == "default_ttl" && entry["value"] as? String == Parameters().value(of: "default_ttl"))
        #expect(entry["implemented"] as? Bool == true && entry["read_only"] as? Bool == true)
        let all = admin.execute(["param.show", "-j"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(all.body.utf8)) as? [Any]).dropFirst(3)
        #expect(entries.count == Parameters.names.count)
        #expect(entries.contains { ($0 as? [String: Any])?["name"] as? String == "thread_pools" && ($0 as? [String: Any])?["implemented"] as? Bool == false })
    }
}
