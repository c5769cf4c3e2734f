import NIOCore
import Shellac
import VCL

/// A Shellac server running in-process on 127.0.0.1 with an ephemeral port, in front of
/// `backend` (usually a `TestOrigin`).
struct ShellacFixture {
    let server: ShellacServer
    let port: Int

    var baseURL: String { "http://127.0.0.1:\(port)" }
    func url(_ path: String) -> String { baseURL + path }

    /// `parameters` are `-p` assignments, e.g. `["default_ttl=5", "timeout_idle=1"]`.
    /// `vclFile`, when given, is compiled with every backend pointed at `backendPort`
    /// (as `shellac -f FILE -b ...` does), unless `keepBackends` keeps the addresses it declares.
    static func start(
        backendPort: Int, parameters: [String] = [], storageBytes: Int = 64 << 20, threads: Int = 2,
        vclFile: String? = nil, keepBackends: Bool = false
    ) async throws -> ShellacFixture {
        var values = Parameters()
        for assignment in parameters { try values.set(assignment) }
        var program: VCLProgram?
        if let vclFile {
            let compiled = try VCLCompiler.compile(file: vclFile)
            program = keepBackends ? compiled : compiled.overridingBackends { backend in
                var copy = backend
                copy.host = "127.0.0.1"
                copy.port = String(backendPort)
                return copy
            }
        }
        let server = ShellacServer(
            configuration: ShellacConfiguration(
                listen: [Endpoint(host: "127.0.0.1", port: 0)],
                backend: Backend(host: "127.0.0.1", port: backendPort),
                storageBytes: storageBytes, parameters: values, threads: threads, vcl: program))
        let addresses = try await server.start()
        guard let port = addresses.first?.port else { throw FixtureError.noPort }
        return ShellacFixture(server: server, port: port)
    }

    func stop() async { await server.shutdown() }

    enum FixtureError: Error { case noPort }
}
