import Foundation
import Testing

/// A `shellac` daemon started as a child with an admin CLI (`-T 127.0.0.1:0`, optionally
/// `-S`), in a scratch directory for its VCL and secret files; `adm` runs `shellac adm`
/// against it as varnishadm would be used.
struct AdminDaemon {
    let child: ChildProcess
    let port: Int
    let adminPort: Int
    let directory: String
    let secretFile: String?

    /// Starts `shellac -a 127.0.0.1:0 -T 127.0.0.1:0 [-S secret] arguments -F`.
    static func start(_ arguments: [String], secret: String? = nil, directory: ScratchDirectory) async throws -> AdminDaemon {
        var all = ["-a", "127.0.0.1:0", "-T", "127.0.0.1:0", "-F"] + arguments
        var secretFile: String?
        if let secret {
            let path = try directory.write("secret", secret)
            all += ["-S", path]
            secretFile = path
        }
        let child = try ChildProcess.launch(ChildProcess.shellacExecutable(), all)
        do {
            let address = try await child.waitForListening(timeout: .seconds(10))
            let adminLine = try await child.waitForLine(containing: "admin CLI on", in: .stdout, timeout: .seconds(10))
            guard let adminPort = adminLine.split(separator: ":").last.flatMap({ Int($0) }) else {
                throw ChildProcess.ChildError.timeout(waitingFor: "the admin port", stdout: child.stdout, stderr: child.stderr)
            }
            return AdminDaemon(child: child, port: address.port, adminPort: adminPort, directory: directory.path, secretFile: secretFile)
        } catch {
            await child.stop(grace: .seconds(2))
            throw error
        }
    }

    struct AdmResult {
        let status: ChildProcess.ExitStatus?
        let stdout: String
        let stderr: String
    }

    /// `shellac adm -T 127.0.0.1:<admin port> [-S secret] words...`.
    func adm(_ words: [String], secretFile: String? = nil, useSecret: Bool = true) async throws -> AdmResult {
        try await tool("adm", words, secretFile: secretFile, useSecret: useSecret)
    }

    /// `shellac <command> -T 127.0.0.1:<admin port> [-S secret] arguments...`: a companion tool
    /// (`adm`, `log`) run against this daemon, stopped if it has not exited within `timeout`.
    func tool(
        _ command: String, _ arguments: [String], secretFile: String? = nil, useSecret: Bool = true,
        timeout: Duration = .seconds(10)
    ) async throws -> AdmResult {
        var all = [command, "-T", "127.0.0.1:\(adminPort)"]
        if useSecret, let secret = secretFile ?? self.secretFile { all += ["-S", secret] }
        let child = try ChildProcess.launch(ChildProcess.shellacExecutable(), all + arguments)
        let status = await child.waitForExit(timeout: timeout)
        if status == nil { await child.stop(grace: .seconds(1)) }
        return AdmResult(status: status, stdout: child.stdout, stderr: child.stderr)
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    @discardableResult
    func stop() async -> ChildProcess.ExitStatus? { await child.stop(grace: .seconds(5)) }
}
