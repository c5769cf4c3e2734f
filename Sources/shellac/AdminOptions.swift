import ArgumentParser
import Foundation
import Shellac

/// `-T` and `-S` of the commands that talk to a running shellac's admin CLI (`adm`, `log`).
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
}
