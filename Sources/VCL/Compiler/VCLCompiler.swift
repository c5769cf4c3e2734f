import Foundation

/// The entry point: VCL source text to a `VCLProgram`, or every error found.
public enum VCLCompiler {
    /// Compiles `source` (named `name` in diagnostics). Throws `VCLCompileError` listing every
    /// error (and warning); on success the program's `warnings` hold the warnings.
    /// `nativeBuiltins: false` compiles the built-in VCL's text instead of its Swift form
    /// (`NativeBuiltin`), for tests that compare the two. `options` are the `vcc_*` parameters.
    public static func compile(source: String, name: String = "input.vcl",
                               includes: IncludeResolver = IncludeResolver(),
                               nativeBuiltins: Bool = true,
                               options: VCLCompileOptions = VCLCompileOptions()) throws(VCLCompileError) -> VCLProgram {
        let sink = DiagnosticSink()
        let file = SourceFile(name: name, text: source)
        var parser = Parser(file: file, sink: sink, includes: includes, allowInlineC: options.allowInlineC)
        var declarations = parser.parseFile()

        let isLegacy: Bool
        // 40 or 41: a legacy file (no `vcl` line) is read with 4.0's rules.
        var syntax = 40
        if case .version(let version, _)? = declarations.first {
            isLegacy = false
            syntax = version == "4.0" ? 40 : 41
        } else {
            isLegacy = true
            if let misplaced = declarations.dropFirst().first(where: { if case .version = $0 { true } else { false } }),
               case .version(_, let location) = misplaced {
                sink.error(location, "The 'vcl 4.x;' line must come first in the file")
            } else {
                sink.warning(file.location(at: 0), "No 'vcl 4.x;' line: reading the file as legacy VCL 2.x/3.x")
            }
            declarations = LegacyTranslator(sink: sink).translate(declarations)
        }
        declarations = HitFetchCompatibility.apply(declarations, sink: sink)
        var userSubroutines: Set<VCLSubroutine> = []
        for case .sub(let sub) in declarations {
            if let builtin = VCLSubroutine(rawValue: sub.name) { userSubroutines.insert(builtin) }
            // Code added to a built-in helper (vcl_req_cookie, ...) is code in its method.
            if let method = BuiltinVCL.helpers[sub.name] { userSubroutines.insert(method) }
        }

        var builtinParser = Parser(file: SourceFile(name: BuiltinVCL.name, text: BuiltinVCL.source), sink: sink, includes: nil)
        let builtin = builtinParser.parseFile().map { declaration -> Declaration in
            guard case .sub(var sub) = declaration else { return declaration }
            sub.isBuiltin = true
            return .sub(sub)
        }
        declarations += builtin.filter { if case .version = $0 { false } else { true } }

        var checker = Checker(sink: sink, syntax: syntax, unusedIsError: options.unusedIsError)
        let symbols = checker.check(declarations)
        // Compile even after checker errors, to report type errors too (not with recursion).
        if symbols.hasRecursion { throw VCLCompileError(sink.diagnostics) }

        let compiler = Compiler(sink: sink, symbols: symbols, nativeBuiltins: nativeBuiltins)
        let probes = symbols.probes.values.sorted { $0.name < $1.name }.map(compiler.compileProbe)
        let probeMap = Dictionary(probes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var backends = symbols.backends.compactMap { compiler.compileBackend($0, probes: probeMap) }
        // As vcc: `probe default { ... }` polls every backend that names no probe of its own.
        if let fallback = probeMap["default"] {
            for index in backends.indices where backends[index].probe == nil { backends[index].probe = fallback }
        }
        for (name, acl) in symbols.acls { compiler.acls[name] = compiler.compileACL(acl) }
        compiler.initiallyHealthy = Set(backends.filter { backend in
            backend.probe.map { ProbeHistory(probe: $0).isHealthy } ?? true
        }.map(\.name))
        compiler.compileDirectors()
        let subroutines: [Step] = VCLSubroutine.allCases.map { subroutine in
            compiler.compileSub(named: subroutine.name) ?? { _ in .proceed }
        }
        // Unused custom subs are compiled too, so their type errors are reported.
        for name in symbols.subOrder { _ = compiler.compileSub(named: name) }
        if sink.hasErrors { throw VCLCompileError(sink.diagnostics) }
        // As vcc: a backend named `default` is the default, else the first declared.
        let defaultBackend = symbols.backends.contains { $0.name == "default" } ? "default" : symbols.backends.first?.name
        return VCLProgram(name: name, backends: backends, defaultBackend: defaultBackend, probes: probes, acls: compiler.acls,
                          directors: compiler.directors, warnings: sink.diagnostics, isLegacy: isLegacy,
                          userSubroutines: userSubroutines, subroutines: subroutines,
                          readsObjectHeaders: compiler.readsObjectHeaders, cachesRequestBody: compiler.cachesRequestBody,
                          purgesLookedUpObjects: symbols.imports.contains("purge"), rollsBack: compiler.rollsBack)
    }

    /// The program for `-b host:port` without `-f`: one backend named `default` and the built-in VCL.
    public static func builtinOnly(backendHost host: String, port: String) throws(VCLCompileError) -> VCLProgram {
        let escapedHost = host.replacingOccurrences(of: "\"", with: "")
        let escapedPort = port.replacingOccurrences(of: "\"", with: "")
        return try compile(source: "vcl 4.1;\nbackend default { .host = \"\(escapedHost)\"; .port = \"\(escapedPort)\"; }\n",
                           name: "<-b \(host):\(port)>")
    }

    /// The program for `-b /path/to.sock`: one backend at a Unix domain socket.
    public static func builtinOnly(backendPath path: String) throws(VCLCompileError) -> VCLProgram {
        let escaped = path.replacingOccurrences(of: "\"", with: "")
        return try compile(source: "vcl 4.1;\nbackend default { .path = \"\(escaped)\"; }\n", name: "<-b \(path)>")
    }

    /// Reads and compiles a VCL file; includes resolve relative to it, then along `searchPath`.
    public static func compile(file path: String, searchPath: [String] = [],
                               options: VCLCompileOptions = VCLCompileOptions()) throws(VCLCompileError) -> VCLProgram {
        guard let data = FileManager.default.contents(atPath: path) else {
            let file = SourceFile(name: path, text: "")
            throw VCLCompileError([VCLDiagnostic(.error, file.location(at: 0), "Cannot read VCL file \"\(path)\"")])
        }
        return try compile(source: String(decoding: data, as: UTF8.self), name: path,
                           includes: IncludeResolver(searchPath: searchPath), options: options)
    }
}
