import Testing
@testable import VCL

/// The Swift form of the built-in subroutines must decide exactly as the built-in VCL text does.
@Suite struct NativeBuiltinTests {
    static let sources = [
        "vcl 4.1;\nbackend default { .host = \"127.0.0.1\"; }\n",
        // User code that falls through to the built-in part (and changes what it sees).
        """
        vcl 4.1;
        backend default { .host = "127.0.0.1"; }
        sub vcl_recv { if (req.url ~ "^/strip") { unset req.http.cookie; } }
        sub vcl_hash { if (req.http.X-Variant) { hash_data(req.http.X-Variant); } }
        sub vcl_deliver { set resp.http.X-Seen = "1"; }
        """,
    ]

    static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PRI", "PURGE", "get", "CONNECT", "BAN"]
    static let protos = ["HTTP/1.1", "http/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.10", "HTTP/1", "hTtP/1.1x", ""]
    static let optionalHeaders = [
        ("Host", "example.com"), ("host", ""), ("Cookie", "a=1"), ("COOKIE", "JSESSIONID=2"),
        ("Authorization", "Basic x"), ("X-Variant", "mobile"),
    ]

    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// Runs each client-side subroutine on the same random request with both forms.
    @Test(arguments: [0, 1])
    func sameDecisionsOnRandomRequests(source: Int) throws {
        let native = try VCLCompiler.compile(source: Self.sources[source], name: "t.vcl")
        let text = try VCLCompiler.compile(source: Self.sources[source], name: "t.vcl", nativeBuiltins: false)
        var random = Generator(state: 42 + UInt64(source))
        for _ in 0..<3000 {
            let method = Self.methods[random.next(Self.methods.count)]
            let proto = Self.protos[random.next(Self.protos.count)]
            let url = ["/", "/strip/a", "/x?y=1", ""][random.next(4)]
            var headers: [(String, String)] = []
            for header in Self.optionalHeaders where random.next(3) == 0 { headers.append(header) }
            let esiLevel = random.next(4) == 0 ? 1 : 0
            let serverIP = random.next(2) == 0 ? VCLIP.unspecified : try #require(VCLIP("10.1.2.3", port: 80))

            func run(_ program: VCLProgram, _ subroutine: VCLSubroutine) -> (VCLAction, [String], [String?]) {
                let context = Support.request(program, method, url, headers: headers)
                context.req.proto = proto
                context.req.esiLevel = esiLevel
                context.serverIP = serverIP
                let action = program.run(subroutine, context)
                return (action, context.hashData, [context.req.headers["cookie"], context.resp.headers["X-Seen"]])
            }
            for subroutine in [VCLSubroutine.recv, .hash, .pipe, .pass, .purge, .hit, .miss, .deliver] {
                let a = run(native, subroutine), b = run(text, subroutine)
                #expect(a.0 == b.0, "\(subroutine) \(method) \(proto) \(headers)")
                #expect(a.1 == b.1, "\(subroutine) \(method) \(url) \(headers)")
                #expect(a.2 == b.2)
            }
        }
    }

    @Test func backendFetchIsFetch() throws {
        let program = try VCLCompiler.compile(source: Self.sources[0])
        let context = Support.request(program)
        Support.prepareBackend(context)
        #expect(program.run(.backendFetch, context) == .fetch)
    }
}
