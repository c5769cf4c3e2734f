import Foundation
import Testing

/// varnishd's options beyond the core ones, as a start script gives them: those with a
/// meaning act, the others are accepted with a notice, joined values (`-Wpoll`) work.
@Suite("varnishd options", .serialized)
struct VarnishdOptionsTests {
    static var binary: String { ChildProcess.shellacExecutable() }

    static func temporaryFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-\(UUID().uuidString)").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("-x builtin, -x parameter, -x cli, -x vsl and -V print and exit 0; an unknown -x exits 2")
    func printouts() async throws {
        for (arguments, expected) in [
            (["-x", "builtin"], "sub vcl_recv"), (["-x", "parameter"], "thread_pools"), (["-x", "cli"], "param.set"),
            (["-x", "vsl"], "ReqURL\n------\n"), (["-x", "vsl"], "Hash\n----\n\nNB: This log record is masked by default.\n"),
            (["-V"], "shellac"),
        ] {
            let child = try ChildProcess.launch(Self.binary, arguments)
            #expect(await child.waitForExit() == .exited(0), "\(arguments)")
            #expect(child.stdout.contains(expected), "\(arguments): \(child.stdout.prefix(200))")
        }
        let bad = try ChildProcess.launch(Self.binary, ["-x", "bogus"])
        #expect(await bad.waitForExit() == .exited(2))
        #expect(bad.stderr.contains("bogus"))
    }

    @Test("a start script's options: -W, -h, -t, several -s (debug too), -i, -P and -I start a server that answers")
    func startScript() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "ok"))
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-\(UUID().uuidString).pid").path
        let cliFile = try Self.temporaryFile("# set up\nparam.set default_grace 7\n-vcl.use no_such_vcl\n")
        let child = try ChildProcess.launch(
            Self.binary,
            ["-a", "127.0.0.1:0", "-b", origin.address, "-Wpoll", "-h", "classic", "-t", "30", "-sTransient=malloc,1m",
             "-smalloc,16MB", "-s", "file,/tmp/shellac-unused,8m", "-s", "spare=debug,lessspace,1m", "-i", "edge1", "-P", pidFile, "-I", cliFile,
             "-pdefault_grace=5", "-F"])
        let address = try await child.waitForListening(timeout: .seconds(10))
        let response = try await fetch("http://127.0.0.1:\(address.port)/s")
        #expect(response.status == 200 && response.body == "ok")
        let pid = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(pid == String(child.pid))
        #expect(child.stderr.contains("-W poll: accepted"))
        #expect(child.stderr.contains("file,/tmp/shellac-unused,8m: a memory store of that size"))
        #expect(await child.stop() == .exited(0))
        #expect(!FileManager.default.fileExists(atPath: pidFile), "the pid file outlived the process")
    }

    @Test("a failing -I command stops the start with exit 2 and names its line")
    func failingStartupCommand() async throws {
        let cliFile = try Self.temporaryFile("param.set default_grace 7\nvcl.use no_such_vcl\n")
        let child = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0", "-b", "127.0.0.1:9", "-I", cliFile])
        #expect(await child.waitForExit() == .exited(2))
        #expect(child.stderr.contains("line 2"), "\(child.stderr)")
    }

    @Test("bad values still exit 2 and name the option", arguments: [["-t", "soon"], ["-s", "malloc,lots"], ["-s", "bogus"], ["-r", "no_such_parameter"], ["-l", "tiny"]])
    func badValues(_ option: [String]) async throws {
        let child = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0", "-b", "127.0.0.1:9"] + option)
        #expect(await child.waitForExit() == .exited(2))
        #expect(child.stderr.contains(option[0]), "\(child.stderr)")
    }

    @Test("-a /path/to.sock,mode=0600 listens on a Unix domain socket with that mode, beside a TCP listener")
    func unixSocket() async throws {
        let curl = try #require(ChildProcess.which("curl"), "curl is needed")
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=60"], body: "over uds"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shellac-\(UUID().uuidString.prefix(8)).sock").path
        let child = try ChildProcess.launch(
            Self.binary, ["-a", "\(path),mode=0600", "-a", "127.0.0.1:0", "-b", origin.address, "-F"])
        _ = try await child.waitForListening(timeout: .seconds(10))
        _ = try await child.waitForLine(containing: "listening on \(path)")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let request = try ChildProcess.launch(curl, ["-s", "--unix-socket", path, "http://localhost/uds"])
        #expect(await request.waitForExit() == .exited(0))
        #expect(request.stdout == "over uds")
        #expect(await child.stop() == .exited(0))
    }

    @Test("-a host:port,PROXY takes a PROXY header before each connection's first request (curl --haproxy-protocol)")
    func proxyListener() async throws {
        let curl = try #require(ChildProcess.which("curl"), "curl is needed")
        let origin = try await TestOrigin.start { request in
            Response(headers: ["Cache-Control": "no-store"], body: request.header("X-Forwarded-For") ?? "none")
        }
        let child = try ChildProcess.launch(Self.binary, ["-a", "127.0.0.1:0,PROXY", "-b", origin.address, "-F"])
        let listening = try await child.waitForListening(timeout: .seconds(10))
        let request = try ChildProcess.launch(curl, ["-s", "--haproxy-protocol", "http://127.0.0.1:\(listening.port)/p"])
        #expect(await request.waitForExit() == .exited(0))
        #expect(request.stdout == "127.0.0.1")  // curl sends its own address as the client's
        #expect(await child.stop() == .exited(0))
    }
}
