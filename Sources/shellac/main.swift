import ArgumentParser
import Foundation

// A bad flag or value exits 2 (as varnishd does), not ArgumentParser's 64.
do {
    let command = try ShellacCommand.parse()
    try await command.run()
} catch {
    if ShellacCommand.exitCode(for: error) == .success {
        ShellacCommand.exit(withError: error)
    }
    FileHandle.standardError.write(Data("shellac: \(ShellacCommand.message(for: error))\n".utf8))
    exit(2)
}
