import Foundation
import Testing
@testable import VCL

/// Every file under Corpus/ok must compile; every file under Corpus/err must fail with the
/// error its `.expect` file names (`LINE:COL message-substring`).
@Suite struct CorpusTests {
    @Test(arguments: Support.files(in: "ok").map(\.lastPathComponent))
    func compiles(_ name: String) throws {
        let path = Support.corpus.appendingPathComponent("ok").appendingPathComponent(name).path
        do {
            _ = try VCLCompiler.compile(file: path)
        } catch {
            Issue.record("\(name) should compile:\n\(error)")
        }
    }

    @Test(arguments: Support.files(in: "seeds").map(\.lastPathComponent))
    func seedCompilesWithWarnings(_ name: String) throws {
        let path = Support.corpus.appendingPathComponent("seeds").appendingPathComponent(name).path
        let program = try VCLCompiler.compile(file: path)
        #expect(program.isLegacy)
        #expect(!program.warnings.isEmpty)
        #expect(program.warnings.allSatisfy { $0.severity == .warning })
    }

    @Test(arguments: Support.files(in: "err").map(\.lastPathComponent))
    func rejects(_ name: String) throws {
        let url = Support.corpus.appendingPathComponent("err").appendingPathComponent(name)
        let expectURL = url.deletingPathExtension().appendingPathExtension("expect")
        let expectation = try String(contentsOf: expectURL, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let space = try #require(expectation.firstIndex(of: " "))
        let position = expectation[..<space].split(separator: ":").compactMap { Int($0) }
        let message = String(expectation[expectation.index(after: space)...])
        try #require(position.count == 2)

        do {
            _ = try VCLCompiler.compile(file: url.path)
            Issue.record("\(name) should not compile")
        } catch {
            let match = error.errors.first { $0.location.line == position[0] && $0.location.column == position[1] && $0.message.contains(message) }
            #expect(match != nil, "\(name): expected \(expectation), got:\n\(error)")
            if let match {
                let lines = match.description.split(separator: "\n", omittingEmptySubsequences: false)
                #expect(lines.count == 3)
                #expect(lines[0] == "\(url.path):\(position[0]):\(position[1]): \(match.message)")
                #expect(lines[2].hasSuffix("^") && lines[2].count == position[1])
            }
        }
    }

    @Test func everyErrorIsReportedNotJustTheFirst() {
        let errors = Support.errors("""
            vcl 4.1;
            sub vcl_recv {
                set req.nope = "1";
                set req.url = req.unknown;
            }
            sub vcl_deliver {
                set beresp.ttl = 1s;
            }
            """)
        #expect(errors.count == 3, "\(errors)")
    }
}
