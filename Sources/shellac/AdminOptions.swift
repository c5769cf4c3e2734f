import ArgumentParser
import Foundation
import Shellac

/// `-T`, `-S` and `-n` of the commands that talk to a running shellac's admin CLI (`adm`,
/// `log`, `stat`), and the session they open.
struct AdminOptions: ParsableArguments {
    @Option(name: .customShort("T"), help: ArgumentHelp("Admin CLI address, host:port (default: the one -n's shellac left, else 127.0.0.1:6082).", valueName: "address"))
    var explicitAddress: String?

    @Option(name: .customShort("S"), help: ArgumentHelp("Secret file (default: the one -n's shellac uses).", valueName: "file"))
    var explicitSecretFile: String?

    @Option(name: .customShort("n"), help: ArgumentHelp("Work directory of the shellac to reach (its -n).", valueName: "dir"))
    var workdir: String?

    /// What the shellac with work directory `-n` left there.
    private var published: (address: String, secretFile: String?)? {
        workdir.flatMap { WorkDirectory(path: $0).published() }
    }

    var address: String { explicitAddress ?? published?.address ?? "127.0.0.1:6082" }

    var secretFile: String? { explicitSecretFile ?? (explicitAddress == nil ? published?.secretFile : nil) }

    func endpoint() throws -> Endpoint {
        guard let endpoint = Endpoint(parsing: address, defaultPort: nil), !endpoint.host.isEmpty else {
            throw ValidationError("-T \(address): expected host:port")
        }
        return endpoint
    }

    func secret() throws -> [UInt8]? {
        guard let secretFile else { return nil }
        guard let contents = FileManager.default.contents(atPath: secretFile) else {
            throw ValidationError("-S \(secretFile): cannot read the secret file")
        }
        return Array(contents)
    }

    /// Connects to the admin CLI, authenticates and runs `body` with the session. Any failure
    /// (no CLI, a refused secret, an answer `body` cannot use) is printed as
    /// `shellac TOOL: ADDRESS: ERROR` and ends the tool with exit status 2.
    func withClient<Result: Sendable>(tool: String, _ body: (AdminClient) async throws -> Result) async throws -> Result {
        let endpoint = try endpoint()
        let secret = try secret()
        do {
            return try await AdminClient.withConnection(host: endpoint.host, port: endpoint.port) { client in
                try await client.authenticate(secret: secret)
                return try await body(client)
            }
        } catch {
            FileHandle.standardError.write(Data("shellac \(tool): \(address): \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
