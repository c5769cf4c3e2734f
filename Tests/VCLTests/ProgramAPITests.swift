import Testing
@testable import VCL

@Suite struct ProgramAPITests {
    @Test func builtinOnlyProgram() throws {
        let program = try VCLCompiler.builtinOnly(backendHost: "127.0.0.1", port: "9000")
        #expect(program.backends.map(\.port) == ["9000"])
        #expect(program.defaultBackend == "default")
        #expect(program.run(.recv, Support.request(program)) == .hash)
        #expect(program.run(.initialize, program.makeContext()) == .ok)
    }

    @Test func userSubroutinesAreListed() throws {
        let shop = try VCLCompiler.compile(file: Support.corpus.appendingPathComponent("seeds/shop-varnish3.vcl").path)
        #expect(shop.userSubroutines == [.recv, .backendResponse, .deliver])
        #expect(try VCLCompiler.builtinOnly(backendHost: "h", port: "1").userSubroutines.isEmpty)
    }

    @Test func overridingBackends() throws {
        let program = try Support.compile("vcl 4.1;\nbackend a { .host = \"example.com\"; .port = \"80\"; }\n")
            .overridingBackends { backend in
                var copy = backend
                copy.host = "127.0.0.1"
                copy.port = "8081"
                return copy
            }
        #expect(program.backends.first?.host == "127.0.0.1" && program.backends.first?.port == "8081")
    }

    @Test func declarationsArePlainData() throws {
        let program = try VCLCompiler.compile(file: Support.corpus.appendingPathComponent("ok/full-4.1.vcl").path)
        let web1 = try #require(program.backends.first { $0.name == "web1" })
        #expect(web1.host == "127.0.0.1" && web1.port == "8080")
        #expect(web1.connectTimeout == 1 && web1.firstByteTimeout == 15 && web1.betweenBytesTimeout == 2)
        #expect(web1.maxConnections == 100)
        #expect(web1.probe?.url == "/health" && web1.probe?.window == 5 && web1.probe?.initial == 2)
        let web2 = try #require(program.backends.first { $0.name == "web2" })
        #expect(web2.probe?.request == ["GET /ping HTTP/1.1", "Host: example.com", "Connection: close"])
        #expect(web2.probe?.interval == 2)
        #expect(program.probes.map(\.name) == ["healthcheck"])
        #expect(program.acls["purgers"]?.matches(VCLIP("10.2.3.4")!) == true)
        #expect(program.acls["purgers"]?.matches(VCLIP("10.1.2.3")!) == false)
        #expect(program.acls["purgers"]?.matches(VCLIP("127.0.0.1")!) == true)
        #expect(Set(program.directors.keys) == ["cluster", "spread", "sticky", "safe"])
        #expect(program.directors["cluster"]?.kind == .roundRobin)
        #expect(program.directors["spread"]?.members.map(\.weight) == [10, 5.5])
    }

    @Test func regexErrorInLongStringPointsIntoIt() {
        let errors = Support.errors("vcl 4.1;\nsub vcl_recv {\n  if (req.url ~ {\"(a\"}) { return (pass); }\n}\n")
        #expect(errors.first?.location.line == 3)
        #expect(errors.first?.location.column == 21)
    }
}

@Suite struct ContextReuseTests {
    @Test func resetClearsRequestState() throws {
        let program = try Support.compile("vcl 4.1;\nimport std;\nbackend b { .host = \"h\"; }\nsub vcl_recv { std.log(\"x\"); ban(\"obj.status == 500\"); }\n")
        let context = Support.request(program, "POST", "/a")
        _ = program.run(.recv, context)
        _ = program.run(.hash, context)
        #expect(!context.logLines.isEmpty && !context.bans.isEmpty && !context.hashData.isEmpty)
        context.reset()
        #expect(context.logLines.isEmpty && context.bans.isEmpty && context.hashData.isEmpty)
        #expect(context.req.method == "GET" && context.req.url == "/" && context.req.headers.isEmpty)
        #expect(context.failure == nil)
        #expect(context.req.backendHint == nil)
        program.resetContext(context)
        #expect(context.req.backendHint == program.defaultBackend)
    }
}

@Suite struct CompatibilityTests {
    @Test func hitFetchIsReadAsMiss() throws {
        let program = try VCLCompiler.compile(file: Support.corpus.appendingPathComponent("ok/grace-4.0.vcl").path)
        #expect(program.warnings.filter { $0.message.contains("read as 'return (miss)'") }.count == 2)
        let context = Support.request(program)
        context.obj.ttl = -30
        context.obj.grace = 10
        #expect(program.run(.hit, context) == .miss)
        context.obj.ttl = -5
        #expect(program.run(.hit, context) == .deliver)
        context.backendHealth = { _ in false }
        context.obj.ttl = -5
        #expect(program.run(.hit, context) == .deliver)
        context.obj.ttl = -50
        #expect(program.run(.hit, context) == .miss)
    }
}
