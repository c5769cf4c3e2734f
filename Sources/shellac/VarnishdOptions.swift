import ArgumentParser
import Foundation
import Shellac
import ShellacLog
import VCL

/// varnishd's options beyond the ones Shellac's own design needs, so that a varnishd start
/// script runs unchanged. Those with no meaning here are accepted and said so once on stderr.
struct VarnishdOptions: ParsableArguments {
    @Option(name: .customShort("t"), help: ArgumentHelp("Default TTL (the default_ttl parameter).", valueName: "ttl"))
    var defaultTTL: String?

    @Option(name: .customShort("P"), help: ArgumentHelp("Write the process id to this file (removed at exit).", valueName: "file"))
    var pidFile: String?

    @Option(name: .customShort("I"), help: ArgumentHelp("Admin CLI commands run at start, one per line; a failing one stops the start.", valueName: "file"))
    var cliFile: String?

    @Option(name: .customShort("x"), help: ArgumentHelp("Print parameter, builtin, cli or optstring, then exit.", valueName: "what"))
    var print: String?

    @Flag(name: .customShort("V"), help: "Print the version and exit.")
    var version = false

    // Accepted, with no meaning in Shellac.
    @Option(name: .customShort("W", allowingJoined: true), help: ArgumentHelp("Waiter (accepted; NIO's event loops wait).", valueName: "waiter"))
    var waiter: String?

    @Option(name: .customShort("h", allowingJoined: true), help: ArgumentHelp("Hash algorithm (accepted; Shellac has one).", valueName: "hash"))
    var hash: String?

    @Option(name: .customShort("i"), help: ArgumentHelp("Identity (accepted).", valueName: "identity"))
    var identity: String?

    @Option(name: .customShort("j"), help: ArgumentHelp("Jail (accepted; Shellac does not change user).", valueName: "jail"))
    var jail: String?

    @Option(name: .customShort("l"), help: ArgumentHelp("Size of the transaction log's ring in shared memory (vsl_space).", valueName: "size"))
    var logSize: String?

    @Option(name: .customShort("r"), help: ArgumentHelp("Parameters param.set and param.reset may not change (comma-separated, repeatable).", valueName: "params"))
    var readOnly: [String] = []

    @Option(name: .customShort("M"), help: ArgumentHelp("Reverse CLI address (accepted; not connected).", valueName: "address"))
    var reverseCLI: String?

    @Flag(name: .customShort("d"), help: "Debug mode (accepted; runs in the foreground).")
    var debugMode = false

    /// Notices for the options given that have no meaning here.
    var notices: [String] {
        var lines: [String] = []
        if let waiter { lines.append("-W \(waiter): accepted, no effect (NIO's event loops wait for I/O)") }
        if let hash { lines.append("-h \(hash): accepted, no effect (Shellac has one hash table)") }
        if let identity { lines.append("-i \(identity): accepted, no effect") }
        if let jail { lines.append("-j \(jail): accepted, no effect (Shellac does not change user)") }
        if let reverseCLI { lines.append("-M \(reverseCLI): accepted, not connected") }
        if debugMode { lines.append("-d: accepted, runs in the foreground") }
        return lines
    }

    /// The varnishd options that take a value. getopt lets the value follow the letter
    /// (`-pdefault_ttl=10`, `-sTransient=malloc,1m`); ArgumentParser would read the `=` as the
    /// end of an option's name, so such arguments are split in two before parsing.
    static let valueLetters = Set("abfhiIjlMnpPrsStTWx")

    /// `-x WHAT`: what varnishd prints for it, or nil for a WHAT it does not know.
    static func printout(_ what: String) -> String? {
        switch what {
        case "parameter":
            return Parameters().listing().map { "\($0.name)\n    \($0.value)\n    \($0.help)\n" }.joined(separator: "\n")
        case "builtin":
            return BuiltinVCL.source
        case "cli":
            return AdminCommands.summary
        case "optstring":
            return "a:b:CdE:f:Fh:i:I:j:l:M:n:P:p:r:S:s:T:t:VW:x:"
        case "vsl":
            // The tags in varnishd's layout (a title per tag), marking those masked by default.
            return VSLTag.allCases.map { tag in
                "\(tag.name)\n\(String(repeating: "-", count: tag.name.count))\n"
                    + (VSLMask.varnishDefault.isMasked(tag) ? "\nNB: This log record is masked by default.\n" : "")
            }.joined(separator: "\n")
        default:
            return nil
        }
    }
}

extension ShellacCommand {
    /// `arguments` with each `-Xvalue` of a value-taking varnishd option split into `-X value`.
    static func splittingJoinedValues(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var expectsValue = false
        for argument in arguments {
            defer { expectsValue = !expectsValue && argument.count == 2 && argument.hasPrefix("-")
                && argument.last.map { VarnishdOptions.valueLetters.contains($0) } == true }
            guard !expectsValue, argument.count > 2, argument.hasPrefix("-"), !argument.hasPrefix("--"),
                let letter = argument.dropFirst().first, VarnishdOptions.valueLetters.contains(letter)
            else {
                result.append(argument)
                continue
            }
            result.append("-\(letter)")
            result.append(String(argument.dropFirst(2)))
        }
        return result
    }
}
