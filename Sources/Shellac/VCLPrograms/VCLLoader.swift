import VCL

/// Compiles VCL files the way this server was told to at start: with `-b host:port` given
/// alongside `-f`, every backend of every program loaded (at start, on SIGHUP, by `vcl.load`)
/// is pointed at that address instead of its own.
public struct VCLLoader: Sendable {
    /// The `-b` address that replaces every VCL backend's `.host` and `.port`, if any.
    public var backendOverride: Endpoint?
    /// Where `include` looks after the including file's directory.
    public var searchPath: [String]
    /// The `vcc_*` parameters (`Parameters.vclCompileOptions`).
    public var options: VCLCompileOptions

    public init(backendOverride: Endpoint? = nil, searchPath: [String] = [],
                options: VCLCompileOptions = VCLCompileOptions()) {
        self.backendOverride = backendOverride
        self.searchPath = searchPath
        self.options = options
    }

    /// Runs `program`'s vcl_init, as varnishd does when it loads a VCL: nil when it
    /// succeeds, else why it failed (the `fail()` message; empty when there is none).
    public static func initialize(_ program: VCLProgram) -> String? {
        let context = program.makeContext()
        guard program.run(.initialize, context) != .ok else { return nil }
        return context.failure ?? ""
    }

    /// varnishd's words for a vcl_init that failed.
    public static func initializationFailure(name: String, message: String) -> String {
        "VCL \"\(name)\" Failed initialization" + (message.isEmpty ? "" : "\nMessage:\n\t\(message)")
    }

    /// Reads and compiles `path`; throws every error (and warning) found.
    public func compile(file path: String) throws(VCLCompileError) -> VCLProgram {
        overridden(try VCLCompiler.compile(file: path, searchPath: searchPath, options: options))
    }

    /// Compiles VCL given as text (`vcl.inline`), named `name` in diagnostics.
    public func compile(source: String, name: String) throws(VCLCompileError) -> VCLProgram {
        overridden(try VCLCompiler.compile(source: source, name: name, options: options))
    }

    /// `program` with every backend pointed at the `-b` address, when there is one.
    private func overridden(_ program: VCLProgram) -> VCLProgram {
        guard let override = backendOverride else { return program }
        return program.overridingBackends { backend in
            var copy = backend
            if let path = override.unixPath {
                copy.path = path
                copy.host = ""
            } else {
                copy.path = nil
                copy.host = override.host
                copy.port = String(override.port)
            }
            return copy
        }
    }

    /// The program for `-b host:port` without `-f`: the built-in VCL with one backend.
    public static func builtin(for backend: Backend) throws(VCLCompileError) -> VCLProgram {
        if let path = backend.unixPath { return try VCLCompiler.builtinOnly(backendPath: path) }
        return try VCLCompiler.builtinOnly(backendHost: backend.host, port: String(backend.port))
    }

    /// The address of `program`'s default (first declared) backend, for the parts of the
    /// server that fetch from one fixed backend; nil when it declares none.
    public static func defaultBackend(of program: VCLProgram) -> Backend? {
        let declared = program.backends.first { $0.name == program.defaultBackend } ?? program.backends.first
        guard let declared else { return nil }
        var backend: Backend
        if let path = declared.path {
            backend = Backend(name: declared.name, unixPath: path)
        } else {
            guard !declared.host.isEmpty else { return nil }
            backend = Backend(name: declared.name, host: declared.host, port: port(declared.port))
        }
        backend.preamble = declared.preamble
        backend.hostHeader = declared.hostHeader
        backend.proxyHeader = declared.proxyHeader
        return backend
    }

    /// A VCL `.port`: a number or a common service name.
    static func port(_ text: String) -> Int {
        if let number = Int(text), (0...65535).contains(number) { return number }
        switch text.lowercased() {
        case "https": return 443
        case "http-alt", "webcache": return 8080
        default: return 80
        }
    }
}

extension Parameters {
    /// `vcc_err_unref` and `vcc_allow_inline_c`, for the VCL compiler (varnishd's defaults:
    /// an unused backend, probe, ACL or sub is an error; no inline C).
    public var vclCompileOptions: VCLCompileOptions {
        VCLCompileOptions(unusedIsError: value(of: "vcc_err_unref") != "off",
                          allowInlineC: value(of: "vcc_allow_inline_c") == "on")
    }
}
