import ArgumentParser
import Foundation
import Shellac

/// `-T` and `-S` of the commands that talk to a running shellac's admin CLI (`adm`, `log`).
struct AdminOptions: ParsableArguments {
    @Option(name: .customShort("T"), help: ArgumentHelp("Admin CLI address, host:port.", valueName: "address"))
    var address: String = "127.0.0.1:6082"

    @Option(name: .customShort("S"), help: ArgumentHelp("Secret file.", valueName: "file"))
    var secretFile: String?

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
