import ArgumentParser
import Dispatch
import Foundation
import Shellac
import ShellacLog
import Synchronization

/// `shellac ncsa`: varnishncsa. One line per request in NCSA combined format (or `-F`), from
/// a running shellac's log (`-n`, `-T`) or a `-w` file (`-r`); to standard output or a file
/// (`-a -w FILE`) that SIGHUP reopens, for logrotate; `-D` runs it in the background.
struct NCSACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ncsa",
        abstract: "Print a running shellac's requests in NCSA combined log format (as varnishncsa).")

    @OptionGroup var admin: AdminOptions
    @OptionGroup var selection: LogSelection

    @Option(name: .customShort("F"), help: ArgumentHelp("The line format (varnishncsa's codes: %h %t %r %s %b %D %{X}i %{Varnish:hitmiss}x …).", valueName: "format"))
    var format: String?

    @Option(name: .customShort("f"), help: ArgumentHelp("Read the format from this file.", valueName: "file"))
    var formatFile: String?

    @Flag(name: .customShort("E"), help: "Include ESI subrequests.")
    var includeESI = false

    @Flag(name: .customShort("j"), help: "Escape the fields for JSON.")
    var json = false

    @Option(name: .customShort("w"), help: ArgumentHelp("Write the lines to this file (SIGHUP reopens it).", valueName: "file"))
    var outputFile: String?

    @Flag(name: .customShort("a"), help: "With -w, append to the file.")
    var append = false

    @Flag(name: .customShort("D"), help: "Run in the background (with -w; -P writes its pid).")
    var daemon = false

    @Option(name: .customShort("P"), help: ArgumentHelp("Write the process id to this file.", valueName: "file"))
    var pidFile: String?

    func validate() throws {
        try selection.check()
        if format != nil && formatFile != nil { throw ValidationError("-F and -f: give one format") }
        if daemon && outputFile == nil { throw ValidationError("-D: needs -w FILE (a background process has no terminal)") }
        _ = try makeFormat()
    }

    func makeFormat() throws -> NCSAFormat {
        var text = format ?? NCSAFormat.defaultFormat
        if let formatFile {
            guard let data = FileManager.default.contents(atPath: formatFile) else {
                throw ValidationError("-f \(formatFile): cannot read the file")
            }
            text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        }
        let side: VSLSide = selection.backendOnly && selection.clientOnly ? .none : selection.backendOnly ? .backend : .client
        do {
            return try NCSAFormat(text, side: side, includeESI: includeESI, json: json)
        } catch {
            throw ValidationError("-F: \(error)")
        }
    }

    func run() async throws {
        if daemon {
            // The same command again, without -D, in a session of its own; this one returns.
            let arguments = CommandLine.arguments.dropFirst().filter { $0 != "-D" }
            let child = Process()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            child.arguments = Array(arguments)
            child.standardInput = FileHandle.nullDevice
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            return
        }
        if let pidFile {
            guard FileManager.default.createFile(atPath: pidFile, contents: Data("\(getpid())\n".utf8)) else {
                throw ValidationError("-P \(pidFile): cannot write the pid file")
            }
        }
        defer { if let pidFile { try? FileManager.default.removeItem(atPath: pidFile) } }
        let format = try makeFormat()
        let output = try NCSAOutput(file: outputFile, append: append)
        let grouping = VSLGrouping(argument: selection.grouping) ?? .vxid
        try await selection.follow(admin: admin, tool: "ncsa") { group, _ in
            let lines = format.lines(for: group, grouping: grouping)
            for line in lines { output.write(line) }
            return !lines.isEmpty
        }
    }
}

/// Where the lines go: standard output, or a file that SIGHUP reopens (logrotate moves the
/// file, sends SIGHUP, and the next line starts the new file).
final class NCSAOutput {
    private let path: String?
    private var handle: FileHandle
    private let reopen = ReopenFlag()
    private let signalSource: DispatchSourceSignal?

    init(file: String?, append: Bool) throws {
        path = file
        guard let file else {
            handle = FileHandle.standardOutput
            signalSource = nil
            return
        }
        handle = try LogOutput.open(file, append: append)
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let flag = reopen
        source.setEventHandler { flag.set() }
        source.resume()
        signalSource = source
    }

    func write(_ line: String) {
        if let path, reopen.take(), let fresh = try? LogOutput.open(path, append: true) {
            try? handle.close()
            handle = fresh
        }
        handle.write(Data((line + "\n").utf8))
    }
}

/// Set by the SIGHUP handler, taken by the writer.
final class ReopenFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    func take() -> Bool { value.withLock { flag in defer { flag = false }; return flag } }
}

