import ArgumentParser
import Dispatch
import Foundation
import Shellac
import ShellacCache
import ShellacLog
import VCL

/// `shellac`: varnishd's flags, so existing start scripts keep working.
struct ShellacCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shellac",
        abstract: "An HTTP accelerator: a caching reverse proxy that reads Varnish's flags.",
        subcommands: [AdmCommand.self, LogCommand.self, NCSACommand.self, TopCommand.self, HistCommand.self, StatCommand.self],
        // varnishd's -h picks the hash algorithm; its help is -?.
        helpNames: [.customShort("?"), .long])

    @Option(name: .customShort("a"), help: ArgumentHelp("Listen address, [host]:port (repeatable).", valueName: "address"))
    var listen: [String] = []

    @Option(name: .customShort("b"), help: ArgumentHelp("Backend host:port; with -f, replaces every VCL backend's address.", valueName: "host:port"))
    var backend: String?

    @Option(name: .customShort("f"), help: ArgumentHelp("VCL file, compiled at start and reloaded on SIGHUP.", valueName: "file"))
    var vclFile: String?

    @Option(name: .customShort("s", allowingJoined: true), help: ArgumentHelp("Storage, [name=]malloc[,SIZE] (k/M/G), repeatable; file,PATH,SIZE is a memory store of that size.", valueName: "malloc,size"))
    var storage: [String] = []

    @Option(name: .customShort("n"), help: ArgumentHelp("Working directory.", valueName: "dir"))
    var workdir: String?

    @Option(name: .customShort("T"), help: ArgumentHelp("Admin CLI listen address, host:port (varnishd's CLI protocol).", valueName: "address"))
    var adminAddress: String?

    @Option(name: .customShort("S"), help: ArgumentHelp("Admin CLI secret file: clients must authenticate with it.", valueName: "file"))
    var secretFile: String?

    @Option(name: .customShort("p", allowingJoined: true), help: ArgumentHelp("Parameter, name=value (repeatable).", valueName: "name=value"))
    var parameters: [String] = []

    @Flag(name: .customShort("F"), help: "Run in the foreground (the only mode).")
    var foreground = false

    @Flag(name: .customShort("C"), help: "Compile the VCL, print errors, exit.")
    var compileOnly = false

    @OptionGroup(title: "More varnishd options")
    var varnishd: VarnishdOptions

    /// The parsed flags. The VCL is compiled here: with `-f` the program comes from the file
    /// (its backends pointed at `-b` when given), otherwise the built-in VCL with `-b`.
    func makeConfiguration() throws -> ShellacConfiguration {
        var parameters = Parameters()
        for assignment in self.parameters {
            do { try parameters.set(assignment) } catch { throw ValidationError("-p \(assignment): \(error)") }
        }
        if let ttl = varnishd.defaultTTL {
            do { try parameters.set("default_ttl", ttl) } catch { throw ValidationError("-t \(ttl): \(error)") }
        }
        for name in varnishd.readOnly.flatMap({ $0.split(separator: ",").map(String.init) })
        where !Parameters.names.contains(name) {
            throw ValidationError("-r \(name): unknown parameter")
        }
        if let size = varnishd.logSize {
            do { try parameters.set("vsl_space", size) } catch { throw ValidationError("-l \(size): \(error)") }
        }
        var endpoints: [Endpoint] = []
        var unnamed = 0
        for text in listen.isEmpty ? [":6081"] : listen {
            var endpoint = try ListenOption.endpoint(text)
            // As varnishd: the unnamed ones are a0, a1, ... in order.
            if endpoint.name == nil {
                endpoint.name = "a\(unnamed)"
                unnamed += 1
            }
            endpoints.append(endpoint)
        }
        let layout = try StorageOption.layout(storage)
        var backend: Backend?
        if let backendText = self.backend {
            guard let parsed = Backend(parsing: backendText) else {
                throw ValidationError("-b \(backendText): expected host:port or /path/to.sock")
            }
            backend = parsed
        }
        if let adminAddress, adminAddress != "none", Endpoint(parsing: adminAddress, defaultPort: nil) == nil {
            throw ValidationError("-T \(adminAddress): expected host:port")
        }
        let program: VCLProgram
        if vclFile != nil {
            program = try compileVCLFile()
            if backend == nil { backend = VCLLoader.defaultBackend(of: program) }
            if backend == nil {
                Console.error("shellac: the VCL declares no backend and there is no -b: every fetch fails with 503")
                backend = Backend(host: "127.0.0.1", port: 0)
            }
        } else {
            guard let backend else { throw ValidationError("one of -b host:port or -f file.vcl is required") }
            do {
                program = try VCLLoader.builtin(for: backend)
            } catch {
                throw ValidationError("-b \(self.backend ?? ""): \(error.errors.first?.message ?? "not usable as a VCL backend")")
            }
        }
        // `backend` is set on every path above: from -b, from the VCL, or the no-backend stand-in.
        guard let backend else { throw ValidationError("one of -b host:port or -f file.vcl is required") }
        var configuration = ShellacConfiguration(
            listen: endpoints, backend: backend,
            storageBytes: layout.areas.filter { $0.name != StorageLayout.transient }.reduce(0) { $0 + $1.capacity },
            parameters: parameters, vcl: program)
        configuration.storage = layout
        configuration.logFile = workdir.map { $0 + "/" + VSLRing.fileName }
        configuration.vclSource = vclFile.flatMap { Self.text(of: $0) }
        return configuration
    }

    /// A VCL file's text, for `vcl.show`.
    static func text(of file: String) -> String? {
        FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) }
    }

    /// How `-f` files are compiled, at start, on SIGHUP and by `vcl.load` (which takes the
    /// `vcc_*` parameters as `param.set` left them; here they are the `-p` ones).
    var loader: VCLLoader {
        var startup = Parameters()
        for assignment in parameters { try? startup.set(assignment) }
        // (`-b` alone only makes the boot VCL: later programs keep their own backends.)
        return VCLLoader(backendOverride: vclFile == nil ? nil : backend.flatMap { Backend(parsing: $0) }.map { parsed in
            parsed.unixPath.map { Endpoint(unixPath: $0) } ?? Endpoint(host: parsed.host, port: parsed.port)
        }, options: startup.vclCompileOptions)
    }

    /// Compiles the `-f` file; warnings go to stderr. On errors, prints every one (with its
    /// source line and caret) and exits 2.
    func compileVCLFile() throws -> VCLProgram {
        guard let vclFile else { throw ValidationError("-f: no file given") }
        let program: VCLProgram
        do {
            program = try loader.compile(file: vclFile)
            Console.diagnostics(program.warnings)
        } catch {
            Console.diagnostics(error.diagnostics)
            Console.error("shellac: VCL compilation failed: \(error.errors.count) error\(error.errors.count == 1 ? "" : "s") in \(vclFile)")
            throw ExitCode(2)
        }
        if let failure = VCLLoader.initialize(program) {
            Console.error("shellac: " + VCLLoader.initializationFailure(name: "boot", message: failure))
            throw ExitCode(2)
        }
        return program
    }

    func run() async throws {
        if varnishd.version {
            Console.out("shellac (varnishd 7.1 compatible)")
            return
        }
        if let what = varnishd.print {
            guard let text = VarnishdOptions.printout(what) else {
                throw ValidationError("-x \(what): expected parameter, vsl, builtin, cli or optstring")
            }
            Console.out(text)
            return
        }
        let configuration = try makeConfiguration()
        for notice in varnishd.notices + StorageOption.notices(storage) { Console.error("shellac: \(notice)") }
        if compileOnly {
            let file = vclFile ?? "the built-in VCL"
            Console.out("shellac: \(file): VCL compiled (\(configuration.vcl?.warnings.count ?? 0) warnings)")
            return
        }
        var secret: [UInt8]?
        if let secretFile {
            guard let contents = FileManager.default.contents(atPath: secretFile) else {
                throw ValidationError("-S \(secretFile): cannot read the secret file")
            }
            secret = Array(contents)
        }
        if let workdir { try? FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true) }
        let server = ShellacServer(configuration: configuration)
        let signals = ProcessSignals()
        let addresses: [SocketAddressDescription]
        do {
            addresses = try await server.start().map { SocketAddressDescription(address: $0) }
        } catch {
            Console.error("shellac: -a: \(error)")
            await server.shutdown()
            throw ExitCode(2)
        }
        let commands = AdminCommands(
            registry: server.vcl, loader: loader, store: server.store, parameters: server.parameters, log: server.log,
            statistics: server.statistics, transactionIDs: server.transactionIDs,
            readOnly: Set(varnishd.readOnly.flatMap { $0.split(separator: ",").map(String.init) }),
            backendCounters: server.backendCounters, threads: server.threadCount)
        if let cliFile = varnishd.cliFile {
            do {
                try StartupCommands.run(file: cliFile, with: commands)
            } catch {
                Console.error("shellac: -I \(cliFile): \(error)")
                await server.shutdown()
                throw ExitCode(2)
            }
        }
        if let pidFile = varnishd.pidFile {
            guard FileManager.default.createFile(atPath: pidFile, contents: Data("\(getpid())\n".utf8)) else {
                Console.error("shellac: -P \(pidFile): cannot write the pid file")
                await server.shutdown()
                throw ExitCode(2)
            }
        }
        defer { if let pidFile = varnishd.pidFile { try? FileManager.default.removeItem(atPath: pidFile) } }
        var admin: AdminServer?
        var adminAddress: SocketAddressDescription?
        // As varnishd: with a work directory and no -T, a CLI on a port of the loopback, its
        // secret made there when there is no -S; `shellac adm -n` finds both.
        let work = workdir.map { WorkDirectory(path: $0) }
        var cliText = self.adminAddress
        if cliText == nil, let work {
            cliText = "127.0.0.1:0"
            if secret == nil {
                let made = try work.makeSecret()
                secret = FileManager.default.contents(atPath: made).map { Array($0) }
            }
        }
        if let text = cliText, text != "none", let endpoint = Endpoint(parsing: text, defaultPort: nil) {
            let adminServer = AdminServer(commands: commands, secret: secret)
            do {
                adminAddress = SocketAddressDescription(address: try await adminServer.start(endpoint: endpoint))
                admin = adminServer
            } catch {
                Console.error("shellac: -T: \(error)")
                await adminServer.shutdown()
                await server.shutdown()
                throw ExitCode(2)
            }
        }
        var metrics: MetricsServer?
        let adminHTTP = configuration.parameters.adminHTTP
        if !adminHTTP.isEmpty, let endpoint = Endpoint(parsing: adminHTTP, defaultPort: nil) {
            let metricsServer = MetricsServer(
                commands: commands, times: server.responseTimes, misses: MissedURLs(ring: server.logRing))
            do {
                let address = SocketAddressDescription(address: try await metricsServer.start(endpoint: endpoint))
                metrics = metricsServer
                say("admin HTTP on \(address.text): /metrics, / (dashboard)")
            } catch {
                Console.error("shellac: admin_http: \(error)")
                await metricsServer.shutdown()
                await admin?.shutdown()
                await server.shutdown()
                throw ExitCode(2)
            }
        }
        if let failure = server.logFailure { Console.error("shellac: \(failure)") }
        // With a work directory, the counters in shared memory for `shellac stat -n`,
        // published ten times a second.
        var counterPublisher: Task<Void, Never>?
        if let work {
            do {
                let file = try CounterFile(creatingAt: work.path + "/" + CounterFile.fileName)
                counterPublisher = Task.detached {
                    while !Task.isCancelled {
                        file.publish(commands.counters(), time: Date().timeIntervalSince1970)
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
            } catch {
                Console.error("shellac: counters in shared memory: \(error) (shellac stat will use the CLI)")
            }
        }
        defer { counterPublisher?.cancel() }
        if let work, let adminAddress {
            work.publish(address: adminAddress.text, secretFile: secretFile ?? (self.adminAddress == nil ? work.secretFile : nil))
        }
        defer { work?.withdraw() }
        for address in addresses { say("listening on \(address.text)") }
        if let adminAddress { say("admin CLI on \(adminAddress.text)") }
        say("backend \(configuration.backend.host):\(configuration.backend.port), storage \(server.store.areaFigures.map { "\($0.name) \($0.capacity)" }.joined(separator: ", ")) bytes, VCL \(server.vcl.activeName)")
        for await event in signals.events {
            if case .stop = event { break }
            reload(into: server.vcl)
        }
        say("stopping")
        await metrics?.shutdown()
        await admin?.shutdown()
        await server.shutdown()
        say("stopped")
    }

    /// SIGHUP: compiles the `-f` file again; on success it becomes the active VCL (named
    /// `reload_<UTC timestamp>`), on failure the errors are printed and the running VCL stays.
    func reload(into registry: VCLRegistry) {
        guard let vclFile else {
            Console.error("shellac: SIGHUP: no -f file to reload; keeping \(registry.activeName)")
            return
        }
        do {
            let program = try loader.compile(file: vclFile)
            Console.diagnostics(program.warnings)
            if let failure = VCLLoader.initialize(program) {
                Console.error("shellac: SIGHUP: " + VCLLoader.initializationFailure(name: vclFile, message: failure) + "; keeping \(registry.activeName)")
                return
            }
            let name = registry.loadAndUse(program, namePrefix: "reload_" + Self.timestamp(), source: Self.text(of: vclFile))
            say("VCL reloaded from \(vclFile) as \(name), now active")
        } catch {
            Console.diagnostics(error.diagnostics)
            Console.error("shellac: VCL reload of \(vclFile) failed: \(error.errors.count) error\(error.errors.count == 1 ? "" : "s"); keeping \(registry.activeName)")
        }
    }

    /// `20261123_193005`, in UTC.
    static func timestamp() -> String {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))_\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
    }

    /// A status line on standard output, written at once (tests and scripts wait for them).
    func say(_ line: String) {
        Console.out("shellac: \(line)")
    }
}
