import Foundation
@testable import VCL

/// Helpers shared by the VCL tests.
enum Support {
    static var corpus: URL {
        // The Corpus folder is copied as a resource of the test bundle.
        Bundle.module.url(forResource: "Corpus", withExtension: nil)!
    }

    static func files(in folder: String, ext: String = "vcl") -> [URL] {
        let directory = corpus.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix("." + ext) }.sorted().map { directory.appendingPathComponent($0) }
    }

    static func compile(_ source: String, name: String = "test.vcl") throws -> VCLProgram {
        try VCLCompiler.compile(source: source, name: name)
    }

    /// The diagnostics of a source expected to fail.
    static func errors(_ source: String, name: String = "test.vcl") -> [VCLDiagnostic] {
        do {
            _ = try VCLCompiler.compile(source: source, name: name)
            return []
        } catch {
            return error.errors
        }
    }

    /// A context for a GET of `url` with a Host header.
    static func request(_ program: VCLProgram, _ method: String = "GET", _ url: String = "/",
                        headers: [(String, String)] = [("Host", "example.com")]) -> VCLContext {
        let context = program.makeContext()
        context.req.method = method
        context.req.url = url
        context.req.headers = HeaderList(headers.map { (name: $0.0, value: $0.1) })
        return context
    }

    /// Copies the client request into bereq, as the server does before vcl_backend_fetch.
    static func prepareBackend(_ context: VCLContext) {
        context.bereq.method = context.req.method
        context.bereq.url = context.req.url
        context.bereq.proto = context.req.proto
        context.bereq.headers = context.req.headers
    }
}
