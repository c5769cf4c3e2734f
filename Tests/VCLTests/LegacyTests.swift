import Testing
@testable import VCL

/// The 2.x/3.x dialect: each construct is translated, with a warning at its position.
@Suite struct LegacyTests {
    func compile(_ body: String) throws -> VCLProgram {
        try Support.compile("backend default { .host = \"127.0.0.1\"; }\n" + body, name: "legacy.vcl")
    }

    func warned(_ program: VCLProgram, _ text: String) -> Bool {
        program.warnings.contains { $0.message.contains(text) }
    }

    @Test func fileWithoutVersionIsLegacy() throws {
        let program = try compile("")
        #expect(program.isLegacy)
        #expect(program.warnings.first?.description.hasPrefix("legacy.vcl:1:1: warning: No 'vcl 4.x;' line") == true)
    }

    @Test func versionMustComeFirst() {
        #expect(Support.errors("backend b { .host = \"h\"; }\nvcl 4.1;\n").first?.message.contains("must come first") == true)
    }

    @Test func requestAndBackend() throws {
        let program = try compile("""
            sub vcl_recv {
                set req.backend = default;
                if (req.request == "PUT") { return (pass); }
                return (lookup);
            }
            """)
        #expect(warned(program, "'req.backend' is read as 'req.backend_hint'"))
        #expect(warned(program, "'req.request' is read as 'req.method'"))
        #expect(warned(program, "'return (lookup)' in vcl_recv is read as 'return (hash)'"))
        #expect(program.run(.recv, Support.request(program, "PUT")) == .pass)
        #expect(program.run(.recv, Support.request(program, "GET")) == .hash)
    }

    @Test func fetchBecomesBackendResponse() throws {
        let program = try compile("""
            sub vcl_fetch {
                if (req.url ~ "\\.html$") { esi; }
                if (!beresp.cacheable) { return (pass); }
                set obj.ttl = 5m;
                if (beresp.http.X-Restart) { return (restart); }
                if (beresp.http.X-HFP) { return (hit_for_pass); }
                set beresp.cacheable = false;
                return (deliver);
            }
            """)
        #expect(warned(program, "vcl_fetch is read as vcl_backend_response"))
        #expect(warned(program, "'esi;' is read as 'set beresp.do_esi = true;'"))
        #expect(warned(program, "'req.url' is read as 'bereq.url'"))
        #expect(warned(program, "'obj.ttl' is read as 'beresp.ttl'"))
        #expect(warned(program, "'beresp.cacheable' is read as '!beresp.uncacheable'"))

        let html = Support.request(program, "GET", "/a.html")
        Support.prepareBackend(html)
        #expect(program.run(.backendResponse, html) == .deliver)
        #expect(html.beresp.doESI)
        #expect(html.beresp.ttl == 300)
        #expect(html.beresp.uncacheable)

        let restart = Support.request(program)
        restart.beresp.headers.add("X-Restart", "1")
        #expect(program.run(.backendResponse, restart) == .retry)

        let hfp = Support.request(program)
        hfp.beresp.headers.add("X-HFP", "1")
        #expect(program.run(.backendResponse, hfp) == .deliver)
        #expect(hfp.beresp.hitForPass && hfp.beresp.ttl == 120)
    }

    @Test func errorAndVclError() throws {
        let program = try compile("""
            sub vcl_recv {
                if (req.url ~ "^/old") { error 750 "http://example.com/new"; }
                if (req.url ~ "^/gone") { error 410; }
            }
            sub vcl_error {
                if (obj.status == 750) {
                    set obj.http.Location = obj.response;
                    set obj.status = 301;
                    return (deliver);
                }
                synthetic {"Oops: "} obj.status;
                return (deliver);
            }
            """)
        #expect(warned(program, "Legacy 'error' is read as 'return (synth(...))'"))
        #expect(warned(program, "vcl_error is read as vcl_synth and vcl_backend_error"))

        let old = Support.request(program, "GET", "/old/page")
        let action = program.run(.recv, old)
        #expect(action == .synth(status: 750, reason: "http://example.com/new"))
        // The server copies the synth status and reason into resp before vcl_synth.
        old.resp.status = 750
        old.resp.reason = "http://example.com/new"
        #expect(program.run(.synth, old) == .deliver)
        #expect(old.resp.status == 301)
        #expect(old.resp.headers["Location"] == "http://example.com/new")

        let gone = Support.request(program, "GET", "/gone")
        #expect(program.run(.recv, gone) == .synth(status: 410, reason: "Gone"))
        gone.resp.status = 410
        _ = program.run(.synth, gone)
        #expect(gone.syntheticBody == "Oops: 410")

        let backend = Support.request(program)
        backend.beresp.status = 503
        #expect(program.run(.backendError, backend) == .deliver)
        #expect(backend.syntheticBody == "Oops: 503")
    }

    @Test func purgeAndBanUrl() throws {
        let program = try compile("""
            sub vcl_recv {
                if (req.request == "PURGE") { purge("req.url == " req.url); error 200 "Purged"; }
                if (req.request == "BAN") { ban_url(req.url); error 200 "Banned"; }
                purge_url("^/always$");
            }
            """)
        #expect(warned(program, "'purge(expression)' is read as 'ban(expression)'"))
        #expect(warned(program, "'ban_url(x)' is read as 'ban(\"req.url ~ \" + x)'"))
        let purge = Support.request(program, "PURGE", "/x")
        #expect(program.run(.recv, purge) == .synth(status: 200, reason: "Purged"))
        #expect(purge.bans == ["req.url == /x"])
        let ban = Support.request(program, "BAN", "/y")
        _ = program.run(.recv, ban)
        #expect(ban.bans == ["req.url ~ /y"])
        let plain = Support.request(program)
        _ = program.run(.recv, plain)
        #expect(plain.bans == ["req.url ~ ^/always$"])
    }

    @Test func hashAndPassReturns() throws {
        let program = try compile("""
            sub vcl_hash { set req.hash += req.url; return (hash); }
            sub vcl_pass { return (pass); }
            sub vcl_deliver { set resp.http.X-Reason = resp.response; }
            """)
        #expect(warned(program, "'set req.hash += x' is read as 'hash_data(x)'"))
        #expect(warned(program, "'return (hash)' in vcl_hash is read as 'return (lookup)'"))
        #expect(warned(program, "'return (pass)' in vcl_pass is read as 'return (fetch)'"))
        let context = Support.request(program, "GET", "/h")
        #expect(program.run(.hash, context) == .lookup)
        #expect(context.hashData == ["/h"])
        #expect(program.run(.pass, context) == .fetch)
        context.resp.reason = "OK"
        _ = program.run(.deliver, context)
        #expect(context.resp.headers["X-Reason"] == "OK")
    }

    @Test func objHeadersInDeliverAreTheResponse() throws {
        let program = try compile("sub vcl_deliver { if (obj.http.X-Secret) { unset resp.http.X-Secret; set resp.http.X-Was = obj.status; } }\n")
        #expect(warned(program, "'obj.http.X-Secret' is read as 'resp.http.X-Secret'"))
        let context = Support.request(program)
        context.resp.headers = HeaderList([("X-Secret", "1")])
        context.resp.status = 203
        _ = program.run(.deliver, context)
        #expect(context.resp.headers["X-Secret"] == nil && context.resp.headers["X-Was"] == "203")
    }

    @Test func bareActionsOfVCL2() throws {
        let program = try compile("sub vcl_recv { if (req.url ~ \"^/p\") { pass; } lookup; }\n")
        #expect(warned(program, "bare 'pass;' is read as 'return (pass);'"))
        #expect(program.run(.recv, Support.request(program, "GET", "/p")) == .pass)
        #expect(program.run(.recv, Support.request(program, "GET", "/x")) == .hash)
    }

    @Test func graceAndRemove() throws {
        let program = try compile("sub vcl_recv { set req.grace = 30s; remove req.http.Cookie; }\n")
        #expect(warned(program, "req.grace"))
        #expect(warned(program, "'remove' is legacy syntax"))
        let context = Support.request(program, headers: [("Host", "h"), ("Cookie", "a")])
        _ = program.run(.recv, context)
        #expect(context.req.grace == 30 && context.req.headers["Cookie"] == nil)
    }

    @Test func warningsCarryPositions() throws {
        let program = try compile("sub vcl_recv {\n    if (req.request == \"GET\") { return (lookup); }\n}\n")
        let warning = try #require(program.warnings.first { $0.message.contains("req.request") })
        #expect(warning.location.line == 3 && warning.location.column == 9)
        #expect(warning.description.split(separator: "\n").count == 3)
    }

    @Test func legacyStillChecksAccess() {
        let errors = Support.errors("sub vcl_deliver { set beresp.ttl = 1s; }\n")
        #expect(errors.first?.message.contains("cannot be set in vcl_deliver") == true)
    }
}

@Suite struct LegacyCustomSubTests {
    @Test func customSubCalledFromFetchReadsBereq() throws {
        let program = try Support.compile("""
            backend default { .host = "127.0.0.1"; }
            sub static_ttl { if (req.url ~ "\\.css$") { set obj.ttl = 1h; } }
            sub vcl_fetch { call static_ttl; }
            """, name: "legacy.vcl")
        let context = Support.request(program, "GET", "/a.css")
        Support.prepareBackend(context)
        _ = program.run(.backendResponse, context)
        #expect(context.beresp.ttl == 3600)
    }
}

@Suite struct LegacyPurgeTests {
    @Test func purgeInHitBecomesBan() throws {
        let program = try Support.compile("""
            backend default { .host = "127.0.0.1"; }
            sub vcl_hit { if (req.request == "PURGE") { purge; error 200 "Purged."; } }
            sub vcl_miss { if (req.request == "PURGE") { purge; error 404 "Not in cache."; } }
            """, name: "legacy.vcl")
        let context = Support.request(program, "PURGE", "/page", headers: [("Host", "example.com")])
        #expect(program.run(.hit, context) == .synth(status: 200, reason: "Purged."))
        #expect(context.bans == ["req.url == /page && req.http.host == example.com"])
        #expect(program.run(.miss, context) == .synth(status: 404, reason: "Not in cache."))
    }

    @Test func zeroTtlInHitBecomesBan() throws {
        let program = try Support.compile("""
            backend default { .host = "127.0.0.1"; }
            sub vcl_hit { if (req.request == "PURGE") { set obj.ttl = 0s; error 200 "Purged."; } }
            """, name: "legacy.vcl")
        let context = Support.request(program, "PURGE", "/x", headers: [("Host", "h")])
        #expect(program.run(.hit, context) == .synth(status: 200, reason: "Purged."))
        #expect(context.bans == ["req.url == /x && req.http.host == h"])
    }
}

@Suite struct LegacyBackendRequestTests {
    @Test func bereqInMissAndPassMovesToBackendFetch() throws {
        let program = try Support.compile("""
            backend default { .host = "127.0.0.1"; }
            sub vcl_miss {
                unset bereq.http.Cookie;
                if (req.url ~ "^/api") { set bereq.http.X-Api = "1"; }
                return (fetch);
            }
            sub vcl_pass {
                set bereq.http.X-Pass = "1";
            }
            """, name: "legacy.vcl")
        #expect(program.warnings.contains { $0.message.contains("bereq.* in vcl_miss moves to vcl_backend_fetch") })

        let miss = Support.request(program, "GET", "/api/x", headers: [("Host", "h"), ("Cookie", "c=1")])
        #expect(program.run(.miss, miss) == .fetch)
        Support.prepareBackend(miss)
        #expect(program.run(.backendFetch, miss) == .fetch)
        #expect(miss.bereq.headers["Cookie"] == nil && miss.bereq.headers["X-Api"] == "1")
        #expect(miss.bereq.headers["X-Pass"] == nil)

        let pass = Support.request(program, "GET", "/other", headers: [("Host", "h"), ("Cookie", "c=1")])
        #expect(program.run(.pass, pass) == .fetch)
        Support.prepareBackend(pass)
        pass.bereq.uncacheable = true
        _ = program.run(.backendFetch, pass)
        #expect(pass.bereq.headers["X-Pass"] == "1" && pass.bereq.headers["Cookie"] == "c=1")
    }
}
