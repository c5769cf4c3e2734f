import ArgumentParser
import Foundation
import Shellac

/// `shellac adm`: varnishadm. Connects to the admin CLI (`-T`), authenticates with the secret
/// file (`-S`), sends the command given on the line (or each line of standard input when there
/// is none) and prints the answers. Exit 0 when every answer is 200, 1 otherwise, 2 when the
/// CLI cannot be reached or authentication fails.
struct AdmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adm",
        abstract: "Send commands to a running shellac's admin CLI (as varnishadm).")

    @OptionGroup var admin: AdminOptions

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, e.g. vcl.list.")
    var command: [String] = []

    func run() async throws {
        let command = self.command
        let allOK = try await admin.withClient(tool: "adm") { client in
            if !command.isEmpty { return Self.show(try await client.send(command)) }
            var ok = true
            while let line = readLine() {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                let response = try await client.send(line: line)
                ok = Self.show(response) && ok
                if response.status == AdminStatus.close.rawValue { break }
            }
            return ok
        }
        if !allOK { throw ExitCode(1) }
    }

    /// Prints a 200 answer's body on stdout, anything else on stderr as varnishadm does.
    static func show(_ response: AdminResponse) -> Bool {
        if response.status == AdminStatus.ok.rawValue {
            FileHandle.standardOutput.write(Data((response.body + "\n").utf8))
            return true
        }
        FileHandle.standardError.write(Data("Command failed with error code \(response.status)\n\(response.body)\n".utf8))
        return false
    }
}
