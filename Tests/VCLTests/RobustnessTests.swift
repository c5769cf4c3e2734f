import Foundation
import Testing
@testable import VCL

/// Broken input must give diagnostics, never a crash or a hang.
@Suite struct RobustnessTests {
    /// A small deterministic generator so failures reproduce.
    struct SplitMix {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(max(bound, 1)))
        }
    }

    static let fragments = ["{", "}", "(", ")", ";", "\"", "{\"", "\"}", "~", "!", "=", "+", "sub", "if", "else",
                            "return", "set", "req.", ".", "/*", "#", "\n", "1s", "99999999999999999999", "C{", "\\"]

    @Test func mutatedCorpusNeverCrashes() throws {
        var random = SplitMix(state: 42)
        let sources = try (Support.files(in: "ok") + Support.files(in: "seeds")).map { try String(contentsOf: $0, encoding: .utf8) }
        var rejected = 0
        for round in 0..<240 {
            var bytes = Array(sources[round % sources.count].utf8)
            for _ in 0..<(1 + random.next(4)) {
                let position = random.next(bytes.count)
                switch random.next(3) {
                case 0:
                    let length = min(bytes.count - position, 1 + random.next(12))
                    bytes.removeSubrange(position..<position + length)
                case 1:
                    bytes.insert(contentsOf: Array(Self.fragments[random.next(Self.fragments.count)].utf8), at: position)
                default:
                    if !bytes.isEmpty { bytes[position] = UInt8(32 + random.next(95)) }
                }
            }
            do {
                _ = try VCLCompiler.compile(source: String(decoding: bytes, as: UTF8.self), name: "fuzz\(round).vcl")
            } catch {
                rejected += 1
                for diagnostic in error.errors { _ = diagnostic.description }
            }
        }
        #expect(rejected > 100)
    }

    /// An empty file is legacy VCL with only the built-in code; every other fragment stops
    /// with a first error, on line 1, that says what was missing.
    @Test(arguments: [
        ("", nil), (" ", nil),
        ("vcl", "Expected a VCL version (4.0 or 4.1), found end of file"),
        ("vcl 4.1", "Expected 'vcl N.N;' found no semi-colon"),
        ("sub", "Expected ID got end of input (a subroutine name)"),
        ("sub x", "Expected '{' got end of input (to open the block)"),
        ("sub x {", "Unterminated block, expected '}'"),
        ("\"", "Unterminated string (use {\"...\"} for strings with newlines)"),
        ("{\"", "Unterminated long string"),
        ("/*", "Unterminated /* ... */ comment"),
        ("backend", "Expected ID got end of input (a backend name)"),
        ("acl a {", "Unterminated acl, expected '}'"),
        ("if", "Expected 'vcl', 'import', 'include', 'backend', 'probe', 'acl' or 'sub', found 'if'"),
    ] as [(String, String?)])
    func emptyAndTinyInputs(source: String, firstError: String?) throws {
        do {
            let program = try VCLCompiler.compile(source: source, name: "tiny.vcl")
            #expect(firstError == nil, "compiled, expected \(firstError ?? "")")
            #expect(program.isLegacy && !program.hasUserCode && program.backends.isEmpty)
            #expect(program.warnings.map(\.message) == ["No 'vcl 4.x;' line: reading the file as legacy VCL 2.x/3.x"])
        } catch {
            let first = try #require(error.errors.first, "no error among \(error.diagnostics)")
            #expect(first.message == firstError)
            #expect(first.location.line == 1 && first.location.column <= source.utf8.count + 1)
        }
    }

    @Test func hugeNumbersDoNotTrap() throws {
        #expect(Support.errors("vcl 4.1;\nsub vcl_recv { set req.http.X = 99999999999999999999999KB; }\n")
            .first?.message.contains("too large") == true)
        #expect(Support.errors("vcl 4.1;\nsub vcl_recv { set req.http.X = 99999999999999999999999; }\n")
            .first?.message.contains("too large") == true)
        let p = try Support.compile("""
            vcl 4.1;
            import std;
            sub vcl_recv {
                set req.http.R = 99999999999999999999999.5;
                set req.http.D = 99999999999999999999999y;
                set req.http.Div = -9223372036854775807 / -1;
                set req.http.Zero = std.integer(req.http.N, 1) / std.integer(req.http.Z, 0);
            }
            """)
        let context = Support.request(p)
        #expect(p.run(.recv, context) == .fail)
        #expect(context.req.headers["R"] != nil)
        #expect(context.req.headers["Div"] == "9223372036854775807")
        #expect(context.failure == "INT division by zero")
        // A time past what a date can show fails the request, as in Varnish (r03308).
        let far = try Support.compile("vcl 4.1;\nsub vcl_recv { set req.http.T = now + 99999999999999999999999y; }\n")
        let farContext = Support.request(far)
        #expect(far.run(.recv, farContext) == .fail)
        #expect(farContext.failure == "Unformatable VCL_TIME")
    }

    @Test func hostileNestingIsRejectedNotACrash() {
        let parens = String(repeating: "(", count: 100_000)
        #expect(Support.errors("vcl 4.1;\nsub vcl_recv { if (\(parens)) {} }\n").first?.message.contains("Nesting deeper") == true)
        let nots = String(repeating: "!", count: 100_000)
        #expect(Support.errors("vcl 4.1;\nsub vcl_recv { if (\(nots)true) {} }\n").first?.message.contains("Nesting deeper") == true)
        let blocks = String(repeating: "if (true) {", count: 5_000)
        #expect(Support.errors("vcl 4.1;\nsub vcl_recv { \(blocks) }\n").contains { $0.message.contains("Nesting deeper") })
    }

    @Test func deepNestingIsFine() throws {
        let depth = 150
        let condition = String(repeating: "(", count: depth) + "req.url == \"/\"" + String(repeating: ")", count: depth)
        let program = try Support.compile("vcl 4.1;\nsub vcl_recv { if (\(condition)) { return (pass); } }\n")
        #expect(program.run(.recv, Support.request(program)) == .pass)
    }
}
