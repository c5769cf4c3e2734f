import ArgumentParser
import Foundation

/// Runs a parsed command's async `run()` (an existential `AsyncParsableCommand` would pick the
/// synchronous requirement instead).
func runAsync<Command: AsyncParsableCommand>(_ command: Command) async throws {
    var command = command
    try await command.run()
}

// `shellac` with varnishd's flags runs the daemon; `shellac adm ...` runs the CLI client.
// A bad flag or value exits 2 (as varnishd does), not ArgumentParser's 64.
do {
    var command: any ParsableCommand
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.first == LogCommand.configuration.commandName {
        // Parsed on its own: as a subcommand, the daemon's own -T and -S would claim its flags.
        command = try LogCommand.parseAsRoot(Array(arguments.dropFirst()))
    } else if arguments.first == TopCommand.configuration.commandName {
        // varnishtop's -1 is --once here, as for stat.
        command = try TopCommand.parseAsRoot(arguments.dropFirst().map { $0 == "-1" ? "--once" : $0 })
    } else if arguments.first == HistCommand.configuration.commandName {
        command = try HistCommand.parseAsRoot(Array(arguments.dropFirst()))
    } else if arguments.first == NCSACommand.configuration.commandName {
        // On its own as well (the daemon's -n, -T, -F, -f, -b, -a, -P, -w).
        command = try NCSACommand.parseAsRoot(Array(arguments.dropFirst()))
    } else if arguments.first == StatCommand.configuration.commandName {
        // On its own too (the daemon's -n and -j); varnishstat's -1 is not a name ArgumentParser
        // takes, so it arrives as --once.
        command = try StatCommand.parseAsRoot(arguments.dropFirst().map { $0 == "-1" ? "--once" : $0 })
    } else {
        command = try ShellacCommand.parseAsRoot(ShellacCommand.splittingJoinedValues(arguments))
    }
    if let asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(asyncCommand)
    } else {
        try command.run()
    }
} catch let code as ExitCode {
    exit(code.rawValue)
} catch {
    if ShellacCommand.exitCode(for: error) == .success {
        ShellacCommand.exit(withError: error)
    }
    FileHandle.standardError.write(Data("shellac: \(ShellacCommand.message(for: error))\n".utf8))
    exit(2)
}
