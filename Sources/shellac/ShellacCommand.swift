import ArgumentParser
import Dispatch
import Foundation
import Shellac

/// `shellac`: varnishd's flags, so existing start scripts keep working.
struct ShellacCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shellac",
        abstract: "An HTTP accelerator: a caching reverse proxy that reads Varnish's flags.")

    @Option(name: .customShort("a"), help: ArgumentHelp("Listen address, [host]:port (repeatable).", valueName: "address"))
    var listen: [String] = []

    @Option(name: .customShort("b"), help: ArgumentHelp("Backend host:port, when there is no -f.", valueName: "host:port"))
    var backend: String?

    @Option(name: .customShort("f"), help: ArgumentHelp("VCL file.", valueName: "file"))
    var vclFile: String?

    @Option(name: .customShort("s"), help: ArgumentHelp("Storage, malloc,SIZE (k/M/G).", valueName: "malloc,size"))
    var storage: String = "malloc,256m"

    @Option(name: .customShort("n"), help: ArgumentHelp("Working directory.", valueName: "dir"))
    var workdir: String?

    @Option(name: .customShort("T"), help: ArgumentHelp("Admin listen address.", valueName: "address"))
    var adminAddress: String?

    @Option(name: .customShort("S"), help: ArgumentHelp("Admin secret file.", valueName: "file"))
    var secretFile: String?

    @Option(name: .customShort("p"), help: ArgumentHelp("Parameter, name=value (repeatable).", valueName: "name=value"))
    var parameters: [String] = []

    @Flag(name: .customShort("F"), help: "Run in the foreground (the only mode).")
    var foreground = false

    @Flag(name: .customShort("C"), help: "Compile the VCL, print errors, exit.")
    var compileOnly = false

    func makeConfiguration() throws -> ShellacConfiguration {
        var parameters = Parameters()
        for assignment in self.parameters {
            do { try parameters.set(assignment) } catch { throw ValidationError("-p \(assignment): \(error)") }
        }
        var endpoints: [Endpoint] = []
        for text in listen.isEmpty ? [":6081"] : listen {
            let address = text.split(separator: ",").first.map(String.init) ?? text
            guard let endpoint = Endpoint(parsing: address, defaultPort: 80) else {
                throw ValidationError("-a \(text): expected [host]:port")
            }
            endpoints.append(endpoint)
        }
        guard let storageBytes = Self.parseStorage(storage) else {
            throw ValidationError("-s \(storage): expected malloc,SIZE (for example malloc,256m)")
        }
        guard let backendText = backend else {
            if vclFile != nil { throw ValidationError("-f: VCL is not supported yet; use -b host:port") }
            throw ValidationError("one of -b host:port or -f file.vcl is required")
        }
        guard let backend = Backend(parsing: backendText) else {
            throw ValidationError("-b \(backendText): expected host:port")
        }
        return ShellacConfiguration(listen: endpoints, backend: backend, storageBytes: storageBytes, parameters: parameters)
    }

    /// `malloc,256m`, `malloc`, `name=malloc,1G`.
    static func parseStorage(_ text: String) -> Int? {
        var parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if let first = parts.first, let equals = first.firstIndex(of: "=") {
            parts[0] = String(first[first.index(after: equals)...])
        }
        guard parts.first == "malloc" || parts.first == "default" else { return nil }
        if parts.count == 1 { return 256 << 20 }
        guard parts.count == 2 else { return nil }
        return Parameters.parseBytes(parts[1])
    }

    func run() async throws {
        let configuration = try makeConfiguration()
        if compileOnly { return }
        if let workdir { try? FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true) }
        let server = ShellacServer(configuration: configuration)
        let addresses: [SocketAddressDescription]
        do {
            addresses = try await server.start().map { SocketAddressDescription(address: $0) }
        } catch {
            FileHandle.standardError.write(Data("shellac: -a: \(error)\n".utf8))
            await server.shutdown()
            Foundation.exit(2)
        }
        for address in addresses { say("listening on \(address.text)") }
        say("backend \(configuration.backend.host):\(configuration.backend.port), storage \(configuration.storageBytes) bytes")
        await Self.waitForStopSignal()
        say("stopping")
        await server.shutdown()
        say("stopped")
    }

    /// A status line on standard output, written at once (tests and scripts wait for them).
    func say(_ line: String) {
        FileHandle.standardOutput.write(Data("shellac: \(line)\n".utf8))
    }

    /// Waits for SIGINT or SIGTERM.
    static func waitForStopSignal() async {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let queue = DispatchQueue(label: "shellac.signals")
        let sources = [SIGINT, SIGTERM].map { DispatchSource.makeSignalSource(signal: $0, queue: queue) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = OnceFlag()
            for source in sources {
                source.setEventHandler {
                    if once.claim() { continuation.resume() }
                }
                source.resume()
            }
        }
        withExtendedLifetime(sources) {}
    }
}
