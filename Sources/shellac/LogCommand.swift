import ArgumentParser
import Foundation
import Shellac
import ShellacLog

/// `shellac log`: varnishlog. Reads the transaction log of a running shellac (its ring under
/// `-n DIR`, or `log.read` over the admin CLI with `-T`), or a file written with `-w`, and
/// prints it in varnishlog's layout, grouped (`-g`), filtered (`-i -x -I -X -b -c`) and
/// queried (`-q`) as varnishlog does.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print a running shellac's transaction log (as varnishlog).")

    @OptionGroup var admin: AdminOptions
    @OptionGroup var selection: LogSelection

    @Option(name: .customShort("w"), help: ArgumentHelp("Write the records to this file (binary; read it back with -r) instead of printing them.", valueName: "file"))
    var writeFile: String?

    @Flag(name: .customShort("a"), help: "With -w, append to the file instead of replacing it.")
    var append = false

    func validate() throws {
        try selection.check()
        if append && writeFile == nil { throw ValidationError("-a: only with -w") }
    }

    func run() async throws {
        let output = try LogOutput(file: writeFile, append: append)
        try await selection.follow(admin: admin, tool: "log", flushOutput: output.flush) { group, printer in
            output.write(group, printer: printer)
            return true
        }
        output.close()
    }
}

/// Where `shellac log` puts what it selected: standard output in varnishlog's layout, or a
/// `-w` file.
final class LogOutput {
    private let handle: FileHandle
    private let binary: Bool

    init(file: String?, append: Bool) throws {
        guard let file else {
            handle = FileHandle.standardOutput
            binary = false
            return
        }
        handle = try LogOutput.open(file, append: append, startingWith: Data(VSLFile.magic))
        binary = true
    }

    /// What is printed, written out in pieces of 64 KiB (one write per group would cost a
    /// system call per record in `-g raw`).
    private var pending: [UInt8] = []

    /// The `-w` file of the log tools, positioned at its end: made anew (with `start` in it)
    /// unless `append` and it exists.
    static func open(_ file: String, append: Bool, startingWith start: Data? = nil) throws -> FileHandle {
        if !append || !FileManager.default.fileExists(atPath: file) {
            guard FileManager.default.createFile(atPath: file, contents: start) else {
                throw ValidationError("-w \(file): cannot create the file")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: file) else { throw ValidationError("-w \(file): cannot open the file") }
        handle.seekToEndOfFile()
        return handle
    }

    func write(_ group: VSLGroup, printer: VSLPrinter) {
        if binary {
            for transaction in group.transactions where printer.filter.shows(transaction) {
                for record in transaction.records where printer.filter.matches(record) { VSLFile.encode(record, into: &pending) }
            }
        } else {
            printer.write(group, to: &pending)
        }
        if pending.count >= 65_536 { flush() }
    }

    func flush() {
        guard !pending.isEmpty else { return }
        handle.write(Data(pending))
        pending.removeAll(keepingCapacity: true)
    }

    func close() {
        flush()
        if binary { try? handle.close() }
    }
}

/// The options varnishlog, varnishncsa and varnishtop share: which records, grouped how,
/// from where.
struct LogSelection: ParsableArguments {
    @Option(name: .customShort("g"), help: ArgumentHelp("Grouping: raw, vxid (default), request or session.", valueName: "mode"))
    var grouping = "vxid"

    @Option(name: .customShort("i"), help: ArgumentHelp("Only these tags (comma-separated, globs such as Req*).", valueName: "taglist"))
    var includeTags: [String] = []

    @Option(name: .customShort("x"), help: ArgumentHelp("Leave out these tags.", valueName: "taglist"))
    var excludeTags: [String] = []

    @Option(name: .customShort("I"), help: ArgumentHelp("Only records whose payload matches ([taglist:]regex).", valueName: "regex"))
    var includePatterns: [String] = []

    @Option(name: .customShort("X"), help: ArgumentHelp("Leave out records whose payload matches ([taglist:]regex).", valueName: "regex"))
    var excludePatterns: [String] = []

    @Flag(name: .customShort("b"), help: "Only backend records.")
    var backendOnly = false

    @Flag(name: .customShort("c"), help: "Only client records.")
    var clientOnly = false

    @Flag(name: .customShort("C"), help: "Regular expressions and strings ignore case.")
    var caseInsensitive = false

    @Option(name: .customShort("q"), help: ArgumentHelp("Only groups that match this query (varnishlog's query language).", valueName: "query"))
    var query: String?

    @Flag(name: .customShort("d"), help: "Begin with the records already in the log, then follow new ones.")
    var fromStart = false

    @Option(name: .customShort("k"), help: ArgumentHelp("Stop after this many transactions (records with -g raw).", valueName: "count"))
    var limit: Int?

    @Option(name: .customShort("r"), help: ArgumentHelp("Read the records from this file (written with -w) instead of a running shellac.", valueName: "file"))
    var readFile: String?

    @Option(name: .customShort("L"), help: ArgumentHelp("Incomplete transactions held at most before the oldest is given up on.", valueName: "limit"))
    var incompleteLimit = 1000

    /// Pause between two reads that found nothing new.
    static let pollInterval = Duration.milliseconds(50)

    func check() throws {
        if let limit, limit <= 0 { throw ValidationError("-k \(limit): expected a positive count") }
        guard VSLGrouping(argument: grouping) != nil else {
            throw ValidationError("-g \(grouping): expected raw, vxid, request or session")
        }
        if incompleteLimit <= 0 { throw ValidationError("-L \(incompleteLimit): expected a positive limit") }
        _ = try makeFilter()
        if let query {
            do { _ = try VSLQuery(query, caseInsensitive: caseInsensitive) } catch { throw ValidationError("-q: \(error)") }
        }
    }

    func makeFilter() throws -> VSLRecordFilter {
        var filter = VSLRecordFilter()
        do {
            if caseInsensitive { try filter.apply(option: "C") }
            if clientOnly { try filter.apply(option: "c") }
            if backendOnly { try filter.apply(option: "b") }
            for list in includeTags { try filter.apply(option: "i", argument: list) }
            for list in excludeTags { try filter.apply(option: "x", argument: list) }
            for spec in includePatterns { try filter.apply(option: "I", argument: spec) }
            for spec in excludePatterns { try filter.apply(option: "X", argument: spec) }
        } catch {
            throw ValidationError("\(error)")
        }
        return filter
    }

    /// Reads records until `body` took `-k` groups (it says whether it did), or a `-r` file ends, grouping
    /// and selecting them as varnishlog does. Reads the `-n` ring when there is one and no
    /// `-T` was given, else the admin CLI.
    /// `stopWhenIdle`: stop at the end of what the log holds now (varnishtop -1), as `-d`
    /// does. `flushOutput` is called whenever the reader has caught up (and at the end), for
    /// callers that buffer what they print.
    func follow(
        admin: AdminOptions, tool: String, stopWhenIdle: Bool = false, flushOutput: () -> Void = {},
        _ body: (VSLGroup, VSLPrinter) -> Bool
    ) async throws {
        let filter = try makeFilter()
        let printer = VSLPrinter(filter: filter)
        let query = try self.query.map { try VSLQuery($0, caseInsensitive: caseInsensitive) }
        let mode = VSLGrouping(argument: grouping) ?? .vxid
        var grouper = VSLGrouper(mode: mode, maxIncomplete: incompleteLimit)
        var handed = 0
        let limit = self.limit
        func deliver(_ groups: [VSLGroup]) -> Bool {
            for group in groups where query?.matches(group) ?? true {
                if group.isRaw, let record = group.transactions.first?.records.first, !filter.matches(record) { continue }
                guard body(group, printer) else { continue }
                handed += 1
                if let limit, handed >= limit { return false }
            }
            return true
        }
        // -d, -1: the records already there, then stop (varnishlog -d "processes old log
        // entries and exits").
        let stopsAtEnd = stopWhenIdle || fromStart
        func pump(_ source: LogSource) async throws {
            // The clock, read every 1,000 records (the grouper's -T timeout needs no more).
            var now = Date().timeIntervalSince1970
            var sinceClock = 0
            defer { flushOutput() }
            while true {
                switch try await source.next() {
                case .record(let record):
                    sinceClock += 1
                    if sinceClock == 1_000 {
                        sinceClock = 0
                        now = Date().timeIntervalSince1970
                    }
                    if !deliver(grouper.add(record, at: now)) { return }
                case .idle:
                    flushOutput()
                    now = Date().timeIntervalSince1970
                    if stopsAtEnd { return }
                    try await Task.sleep(for: Self.pollInterval)
                case .end:
                    // As varnishlog at the end of a file or of -d: transactions still open
                    // are not shown.
                    return
                case .overrun(let lost):
                    FileHandle.standardError.write(Data("shellac \(tool): overrun: \(lost) bytes of records were overwritten before they were read\n".utf8))
                }
            }
        }
        if let readFile {
            do { try await pump(try LogSource.file(path: readFile)) } catch let error as LogSourceError {
                FileHandle.standardError.write(Data("shellac \(tool): \(error)\n".utf8))
                throw ExitCode(2)
            }
            return
        }
        if admin.explicitAddress == nil, let workdir = admin.workdir {
            let path = workdir + "/" + VSLRing.fileName
            let source: LogSource
            do { source = try LogSource.ring(path: path, fromStart: fromStart, stopsAtEnd: stopsAtEnd) } catch {
                FileHandle.standardError.write(Data("shellac \(tool): -n \(workdir): \(error) (is a shellac running with -n \(workdir)?)\n".utf8))
                throw ExitCode(2)
            }
            return try await pump(source)
        }
        let fromStart = self.fromStart
        try await admin.withClient(tool: tool) { client in try await pump(LogSource.cli(client, fromStart: fromStart)) }
    }
}
