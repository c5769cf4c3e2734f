import Foundation
import Shellac
import Testing

/// The admin CLI (`-T`, `-S`), varnishd's protocol, and `shellac adm` as its client.
@Suite("Admin CLI", .serialized)
struct AdminTests {
    static let secret = "a secret of this test\n"

    /// Runs `body` with a daemon in front of `origin` with an admin CLI and a secret file.
    static func withDaemon(
        origin: TestOrigin, vcl: String? = nil, secret: String? = AdminTests.secret,
        _ body: (AdminDaemon, ScratchDirectory) async throws -> Void
    ) async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        var arguments = ["-b", origin.address]
        if let vcl { arguments += ["-f", try directory.write("boot.vcl", vcl)] }
        let daemon = try await AdminDaemon.start(arguments, secret: secret, directory: directory)
        do {
            try await body(daemon, directory)
        } catch {
            await daemon.stop()
            throw error
        }
        let status = await daemon.stop()
        #expect(status == .exited(0), "after SIGTERM: \(status.map(\.description) ?? "still running"); stderr: \(daemon.child.stderr)")
    }

    // MARK: - protocol

    @Test("on connect: '107 59' and a challenge of 32 lowercase letters, framed as varnishd frames it")
    func challengeOnConnect() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        try await Self.withDaemon(origin: origin) { daemon, _ in
            let client = try await RawHTTPClient.connect(port: daemon.adminPort)
            let bytes = await client.waitForBytes(13 + 59 + 1, timeout: .seconds(5))
            await client.close()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix("107 59      \n"), "got \(text.debugDescription)")
            let challenge = text.dropFirst(13).prefix(32)
            #expect(challenge.count == 32 && challenge.allSatisfy { ("a"..."z").contains($0) })
            #expect(text.hasSuffix("\n\nAuthentication required.\n\n"), "got \(text.debugDescription)")
        }
        await origin.shutdown()
    }

    @Test("auth with the right secret answers 200; a wrong one gets 107 and a new challenge; commands need auth")
    func authentication() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        try await Self.withDaemon(origin: origin) { daemon, _ in
            try await AdminClient.withConnection(host: "127.0.0.1", port: daemon.adminPort) { client in
                #expect(client.greeting.status == 107)
                let first = try #require(AdminChallenge(body: client.greeting.body))

                let early = try await client.send(["ping"])
                #expect(early.status == 107 && early.body.hasPrefix(first.text), "before auth: \(early)")

                let wrong = try await client.send(["auth", first.response(secret: Array("not it\n".utf8))])
                #expect(wrong.status == 107)
                let second = try #require(AdminChallenge(body: wrong.body))
                #expect(second != first)

                let stale = try await client.send(["auth", first.response(secret: Array(Self.secret.utf8))])
                #expect(stale.status == 107, "an answer to the old challenge must not work")
                let third = try #require(AdminChallenge(body: stale.body))

                let right = try await client.send(["auth", third.response(secret: Array(Self.secret.utf8))])
                #expect(right.status == 200)
                let pong = try await client.send(["ping"])
                #expect(pong.status == 200)
            }

            let good = try await daemon.adm(["status"])
            #expect(good.status == .exited(0) && good.stdout == "Child in state running\n", "\(good.stderr)")

            let wrongFile = try ScratchDirectory()
            defer { wrongFile.remove() }
            let bad = try await daemon.adm(["status"], secretFile: try wrongFile.write("wrong", "guess\n"))
            #expect(bad.status != .exited(0))
            #expect(bad.stderr.contains("authentication failed"), "stderr: \(bad.stderr)")

            let none = try await daemon.adm(["status"], useSecret: false)
            #expect(none.status != .exited(0))
        }
        await origin.shutdown()
    }

    @Test("without -S there is no challenge: the banner comes with 200")
    func noSecret() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        try await Self.withDaemon(origin: origin, secret: nil) { daemon, _ in
            try await AdminClient.withConnection(host: "127.0.0.1", port: daemon.adminPort) { client in
                #expect(client.greeting.status == 200)
                let status = try await client.send(["status"])
                #expect(status == AdminResponse(status: 200, body: "Child in state running"))
            }
        }
        await origin.shutdown()
    }

    @Test("ping, status, help, unknown command 101, wrong arguments 104, quit 500")
    func basicCommands() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        try await Self.withDaemon(origin: origin) { daemon, _ in
            try await AdminClient.withConnection(host: "127.0.0.1", port: daemon.adminPort) { client in
                try await client.authenticate(secret: Array(Self.secret.utf8))
                let pong = try await client.send(["ping"])
                #expect(pong.status == 200 && pong.body.utf8.count == 19)
                let words = pong.body.split(separator: " ")
                #expect(words.count == 3 && words[0] == "PONG" && words[2] == "1.0")
                if words.count == 3, let time = Double(words[1]) {
                    #expect(abs(time - Date().timeIntervalSince1970) < 60)
                }
                #expect(try await client.send(["status"]) == AdminResponse(status: 200, body: "Child in state running"))
                let help = try await client.send(["help"])
                #expect(help.status == 200)
                for command in ["vcl.load", "vcl.use", "vcl.list", "vcl.discard", "ban", "param.show", "param.set", "ping", "status"] {
                    #expect(help.body.contains(command), "help lacks \(command)")
                }
                #expect(try await client.send(["no.such.command"]).status == 101)
                #expect(try await client.send(["vcl.use"]).status == 104)
                #expect(try await client.send(["vcl.load", "only-a-name"]).status == 104)
                #expect(try await client.send(["vcl.list", "-j", "extra"]).status == 105)
                #expect(try await client.send(line: "vcl.use \"unterminated").status == 100)
                // A leading '-' (a CLI script's "ignore errors") is dropped; alone it is an empty command.
                #expect(try await client.send(line: "-").status == 100)
                #expect(try await client.send(line: "-ping").status == 200)
                #expect(try await client.send(["quit"]).status == 500)
            }
            let unknown = try await daemon.adm(["no.such.command"])
            #expect(unknown.status == .exited(1) && unknown.stderr.contains("101"))
            let pong = try await daemon.adm(["ping"])
            #expect(pong.status == .exited(0) && pong.stdout.hasPrefix("PONG "))
        }
        await origin.shutdown()
    }

    // MARK: - VCL

    @Test("with -b and no -f, a VCL loaded later keeps its own backends (and its probes reach them)")
    func laterVCLKeepsItsBackends() async throws {
        let boot = try await TestOrigin.start(always: Response(body: "boot"))
        let other = try await TestOrigin.start(always: Response(body: "other"))
        try await Self.withDaemon(origin: boot) { daemon, directory in
            let file = try directory.write("other.vcl", """
                vcl 4.1;
                probe default { .url = "/probe"; .interval = 0.1s; }
                backend other { .host = "\(other.host)"; .port = "\(other.port)"; }
                """)
            #expect(try await daemon.adm(["vcl.load", "other", file]).status == .exited(0))
            #expect(try await daemon.adm(["vcl.use", "other"]).status == .exited(0))
            let response = try await fetch("http://127.0.0.1:\(daemon.port)/page")
            #expect(response.body == "other")
            #expect(await other.waitForRequests(1, path: "/probe", timeout: .seconds(3)))
        }
        await boot.shutdown()
        await other.shutdown()
    }

    @Test("vcl.load, vcl.use, vcl.list, vcl.discard")
    func vclCommands() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        try await Self.withDaemon(origin: origin, vcl: TestVCL.good(name: "first")) { daemon, directory in
            let second = try directory.write("second.vcl", TestVCL.good(name: "second"))
            let broken = try directory.write("broken.vcl", TestVCL.broken)

            var listing = try await daemon.adm(["vcl.list"])
            #expect(listing.status == .exited(0))
            #expect(Self.lines(listing.stdout) == [["active", "auto", "warm", "0", "boot"]], "\(listing.stdout)")

            let loaded = try await daemon.adm(["vcl.load", "second", second])
            #expect(loaded.status == .exited(0) && loaded.stdout.contains("VCL compiled"), "\(loaded.stderr)")
            listing = try await daemon.adm(["vcl.list"])
            #expect(Self.lines(listing.stdout) == [["active", "auto", "warm", "0", "boot"], ["available", "auto", "warm", "0", "second"]])

            let failed = try await daemon.adm(["vcl.load", "bad", broken])
            #expect(failed.status == .exited(1))
            #expect(failed.stderr.contains("error code 106"), "\(failed.stderr)")
            #expect(VCLLoadingTests.showsError(failed.stderr, file: broken, line: 4, source: "req.no_such_thing"), "\(failed.stderr)")
            listing = try await daemon.adm(["vcl.list"])
            #expect(!listing.stdout.contains("bad"))

            #expect(try await daemon.adm(["vcl.load", "second", second]).status == .exited(1), "a name is loaded once")
            #expect(try await daemon.adm(["vcl.load", "third", directory.path + "/missing.vcl"]).status == .exited(1))

            #expect(try await daemon.adm(["vcl.use", "nope"]).status == .exited(1))
            let used = try await daemon.adm(["vcl.use", "second"])
            #expect(used.status == .exited(0))
            listing = try await daemon.adm(["vcl.list"])
            #expect(Self.lines(listing.stdout) == [["available", "auto", "warm", "0", "boot"], ["active", "auto", "warm", "0", "second"]])

            let refused = try await daemon.adm(["vcl.discard", "second"])
            #expect(refused.status == .exited(1) && refused.stderr.contains("300"), "the active VCL cannot be discarded: \(refused.stderr)")
            #expect(try await daemon.adm(["vcl.discard", "boot"]).status == .exited(0))
            #expect(try await daemon.adm(["vcl.discard", "boot"]).status == .exited(1))
            listing = try await daemon.adm(["vcl.list"])
            #expect(Self.lines(listing.stdout) == [["active", "auto", "warm", "0", "second"]])

            // The daemon still answers.
            #expect(try await fetch(daemon.url("/still")).status == 200)
        }
        await origin.shutdown()
    }

    static func lines(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }

    // MARK: - bans and parameters

    @Test("ban req.url ~ ^/a removes the cached /a objects: the next request is a miss")
    func banRemovesObject() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=300"], body: "cached"))
        try await Self.withDaemon(origin: origin) { daemon, _ in
            _ = try await fetch(daemon.url("/a/page"))
            _ = try await fetch(daemon.url("/b/page"))
            #expect(try await fetch(daemon.url("/a/page")).isHit)
            #expect(try await fetch(daemon.url("/b/page")).isHit)
            #expect(origin.requestCount == 2)

            let banned = try await daemon.adm(["ban", "req.url", "~", "^/a"])
            #expect(banned.status == .exited(0), "\(banned.stderr)")

            let again = try await fetch(daemon.url("/a/page"))
            #expect(again.status == 200 && !again.isHit, "X-Varnish: \(again.header("X-Varnish") ?? "-")")
            #expect(try await fetch(daemon.url("/b/page")).isHit, "a ban on ^/a must keep /b")
            #expect(origin.requestCount == 3)
        }
        await origin.shutdown()
    }

    @Test("ban by host, by exact URL and by object header")
    func banVariants() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=300", "X-Tag": "sport"], body: "cached"))
        try await Self.withDaemon(origin: origin) { daemon, _ in
            func warm(_ path: String, host: String = "one.example") async throws -> Bool {
                try await fetch(daemon.url(path), headers: [("Host", host)]).isHit
            }
            _ = try await warm("/x")
            _ = try await warm("/x", host: "two.example")
            _ = try await warm("/y")
            #expect(try await warm("/x"))
            #expect(try await warm("/x", host: "two.example"))
            #expect(try await warm("/y"))

            #expect(try await daemon.adm(["ban", "req.http.host", "~", "^two\\."]).status == .exited(0))
            #expect(try await warm("/x"))
            #expect(!(try await warm("/x", host: "two.example")))

            #expect(try await daemon.adm(["ban", "req.url", "==", "/y"]).status == .exited(0))
            #expect(!(try await warm("/y")))
            #expect(try await warm("/x"))

            #expect(try await daemon.adm(["ban", "obj.http.X-Tag", "~", "sport"]).status == .exited(0))
            #expect(!(try await warm("/x")))

            let bad = try await daemon.adm(["ban", "req.url", "~~", "x"])
            #expect(bad.status == .exited(1) && bad.stderr.contains("106"), "\(bad.stderr)")
        }
        await origin.shutdown()
    }

    @Test("param.show lists default_ttl; param.set checks the value and changes the running server")
    func parameters() async throws {
        let origin = try await TestOrigin.start(always: Response(body: "x"))
        try await Self.withDaemon(origin: origin) { daemon, _ in
            let shown = try await daemon.adm(["param.show"])
            #expect(shown.status == .exited(0))
            #expect(shown.stdout.split(separator: "\n").contains { $0.hasPrefix("default_ttl") && $0.contains("120") }, "\(shown.stdout)")
            let one = try await daemon.adm(["param.show", "default_ttl"])
            #expect(one.status == .exited(0) && one.stdout.hasPrefix("default_ttl"))
            #expect(try await daemon.adm(["param.show", "no_such_param"]).status == .exited(1))

            // With the default TTL (120 s) a response without freshness information is cached.
            _ = try await fetch(daemon.url("/before"))
            #expect(try await fetch(daemon.url("/before")).isHit)
            #expect(origin.requestCount(path: "/before") == 1)

            let set = try await daemon.adm(["param.set", "default_ttl", "0"])
            #expect(set.status == .exited(0), "\(set.stdout) \(set.stderr)")
            #expect(try await daemon.adm(["param.set", "default_grace", "0s"]).status == .exited(0))
            #expect(try await daemon.adm(["param.set", "default_ttl", "soon"]).status == .exited(1))
            #expect(try await daemon.adm(["param.set", "no_such_param", "1"]).status == .exited(1))
            let after = try await daemon.adm(["param.show", "default_ttl"])
            #expect(after.stdout.hasPrefix("default_ttl") && after.stdout.contains(" 0"), "\(after.stdout)")

            // Now new responses are not kept: each request reaches the origin.
            for _ in 0..<3 { #expect(try await !fetch(daemon.url("/after")).isHit) }
            #expect(origin.requestCount(path: "/after") == 3)
            // A live limit too: the request body maximum applies to the next request.
            #expect(try await daemon.adm(["param.set", "http_req_body_max", "10"]).status == .exited(0))
            let tooLarge = try await fetch(daemon.url("/post"), method: .POST, body: String(repeating: "b", count: 64))
            #expect(tooLarge.status == 413)
        }
        await origin.shutdown()
    }
}

/// The protocol's pieces without a server: digest, words, frames, challenge, registry.
@Suite("Admin protocol units")
struct AdminUnitTests {
    @Test func sha256KnownAnswers() {
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexDigest([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hexDigest(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hexDigest([UInt8](repeating: 0x61, count: 1_000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func challengeResponseIsVarnishs() {
        let challenge = AdminChallenge(text: String(repeating: "a", count: 32))
        let secret = Array("foo\n".utf8)
        let message = Array((challenge.text + "\nfoo\n" + challenge.text + "\n").utf8)
        #expect(challenge.response(secret: secret) == SHA256.hexDigest(message))
        #expect(challenge.accepts(SHA256.hexDigest(message), secret: secret))
        #expect(!challenge.accepts(SHA256.hexDigest(message + [0]), secret: secret))
        #expect(AdminChallenge(body: challenge.body) == challenge)
        #expect(AdminChallenge.random() != AdminChallenge.random())
    }

    @Test func wordsSplitAndQuote() throws {
        #expect(try AdminWords.split("ban req.url ~ ^/a") == ["ban", "req.url", "~", "^/a"])
        #expect(try AdminWords.split("  vcl.load  x \"/tmp/a b.vcl\" ") == ["vcl.load", "x", "/tmp/a b.vcl"])
        #expect(try AdminWords.split("say \"a \\\"q\\\" \\\\ b\"") == ["say", "a \"q\" \\ b"])
        #expect(throws: AdminWords.SplitError.unterminatedQuote) { try AdminWords.split("x \"open") }
        for words in [["a", "b c", ""], ["ban", "obj.http.X", "~", "\"quoted\""], ["tab\there"]] {
            #expect(try AdminWords.split(AdminWords.join(words)) == words)
        }
    }

    @Test func responseFraming() {
        let frame = AdminResponse(status: 200, body: "PONG 1795463517 1.0").encoded
        #expect(String(buffer: frame) == "200 19      \nPONG 1795463517 1.0\n")
        #expect(String(buffer: AdminResponse(.authenticate, "").encoded) == "107 0       \n\n")
    }

    @Test func registrySwapsAtomically() throws {
        let boot = try VCLLoader.builtin(for: Backend(host: "127.0.0.1", port: 8080))
        let registry = VCLRegistry(boot: boot)
        let held = registry.current
        #expect(held.name == "boot")
        try registry.load(boot, as: "next")
        #expect(throws: VCLRegistry.RegistryError.nameTaken("next")) { try registry.load(boot, as: "next") }
        #expect(throws: VCLRegistry.RegistryError.badName("9lives")) { try registry.load(boot, as: "9lives") }
        try registry.use("next")
        #expect(registry.activeName == "next")
        #expect(held.name == "boot", "a reference taken before the switch keeps its program")
        try registry.discard("boot")
        #expect(held.program.backends.first?.port == "8080", "a discarded program lives while it is held")
        #expect(throws: VCLRegistry.RegistryError.discardingActive("next")) { try registry.discard("next") }
        let name = registry.loadAndUse(boot, namePrefix: "reload_x")
        let again = registry.loadAndUse(boot, namePrefix: "reload_x")
        #expect(name == "reload_x" && again == "reload_x_2" && registry.activeName == again)
        #expect(registry.list().map(\.name) == ["next", "reload_x", "reload_x_2"])
    }
}
