import Foundation
import Testing
@testable import VCL

/// Running compiled VCL: actions, variables, expressions, std, directors, ACLs.
@Suite struct RuntimeTests {
    func program(_ body: String) throws -> VCLProgram {
        try Support.compile("vcl 4.1;\nimport std;\nimport directors;\nbackend default { .host = \"127.0.0.1\"; }\n" + body)
    }

    @Test func synthWithStatusAndReason() throws {
        let p = try program(#"sub vcl_recv { return (synth(418, "I'm a teapot")); }"#)
        #expect(p.run(.recv, Support.request(p)) == .synth(status: 418, reason: "I'm a teapot"))
    }

    @Test func synthComputedStatusAndDefaultReason() throws {
        let p = try program(#"sub vcl_recv { return (synth(400 + 4)); }"#)
        #expect(p.run(.recv, Support.request(p)) == .synth(status: 404, reason: "Not Found"))
    }

    @Test func backendErrorAction() throws {
        let p = try program(#"sub vcl_backend_fetch { return (error(502, "nope")); }"#)
        #expect(p.run(.backendFetch, Support.request(p)) == .error(status: 502, reason: "nope"))
    }

    @Test func restartsAreCapped() throws {
        let p = try program("sub vcl_deliver { return (restart); }")
        let context = Support.request(p)
        #expect(p.run(.deliver, context) == .restart)
        context.req.restarts = 4
        #expect(p.run(.deliver, context) == .synth(status: 503, reason: "Too many restarts"))
        context.req.restarts = 1
        #expect(p.run(.deliver, context, maxRestarts: 1) == .synth(status: 503, reason: "Too many restarts"))
    }

    @Test func vclLabelSwitch() throws {
        let p = try program("sub vcl_recv { return (vcl(other)); }")
        #expect(p.run(.recv, Support.request(p)) == .vcl("other"))
    }

    @Test func runTimeFailure() throws {
        let p = try program(#"sub vcl_recv { set req.http.X = std.integer(req.http.N); return (pass); }"#)
        let context = Support.request(p, headers: [("Host", "h"), ("N", "not a number")])
        #expect(p.run(.recv, context) == .fail)
        #expect(context.failure != nil)
        let ok = Support.request(p, headers: [("Host", "h"), ("N", " 42 ")])
        #expect(p.run(.recv, ok) == .pass)
        #expect(ok.req.headers["X"] == "42")
    }

    @Test func failureInsideTheReturnedActionFails() throws {
        let p = try program(#"sub vcl_recv { return (synth(std.integer(req.http.Code), "x")); }"#)
        let context = Support.request(p, headers: [("Host", "h"), ("Code", "abc")])
        #expect(p.run(.recv, context) == .fail)
        let ok = Support.request(p, headers: [("Host", "h"), ("Code", "404")])
        #expect(p.run(.recv, ok) == .synth(status: 404, reason: "x"))
    }

    @Test func customSubReturnsFromCaller() throws {
        let p = try program("""
            sub check { if (req.url ~ "^/private") { return (synth(403)); } set req.http.Checked = "1"; }
            sub vcl_recv { call check; set req.http.After = "1"; }
            """)
        let blocked = Support.request(p, "GET", "/private/x")
        #expect(p.run(.recv, blocked) == .synth(status: 403, reason: "Forbidden"))
        #expect(blocked.req.headers["After"] == nil)
        let open = Support.request(p, "GET", "/public")
        #expect(p.run(.recv, open) == .hash)
        #expect(open.req.headers["Checked"] == "1" && open.req.headers["After"] == "1")
    }

    @Test func plainReturnLeavesOnlyTheCustomSub() throws {
        let p = try program("""
            sub early { set req.http.A = "1"; return; set req.http.B = "1"; }
            sub vcl_recv { call early; set req.http.C = "1"; }
            """)
        let context = Support.request(p)
        #expect(p.run(.recv, context) == .hash)
        #expect(context.req.headers["A"] == "1" && context.req.headers["B"] == nil && context.req.headers["C"] == "1")
    }

    @Test func rollbackRestoresTheRequestAsItArrived() throws {
        let p = try program("""
            sub vcl_recv {
                set req.url = "/changed";
                set req.http.X-Added = "1";
                unset req.http.Cookie;
                if (req.http.roll) { std.rollback(req); }
            }
            """)
        #expect(p.rollsBack)
        let rolled = Support.request(p, "GET", "/orig", headers: [("Host", "a"), ("Cookie", "c=1"), ("roll", "1")])
        rolled.keepReceivedRequest()
        _ = p.run(.recv, rolled)
        #expect(rolled.req.url == "/orig" && rolled.req.headers["X-Added"] == nil && rolled.req.headers["Cookie"] == "c=1")
        let kept = Support.request(p, "GET", "/orig", headers: [("Host", "a")])
        kept.keepReceivedRequest()
        _ = p.run(.recv, kept)
        #expect(kept.req.url == "/changed")
        #expect(throws: VCLCompileError.self) { try program("sub vcl_recv { std.rollback(resp); }") }
    }

    @Test func ipConstantsWithPorts() throws {
        let p = try program("""
            sub vcl_recv {
                set req.http.P1 = std.port("1.2.3.4:8000");
                set req.http.P2 = std.port("1.2.3.4 8000");
                set req.http.P3 = std.port("[::1]:8000");
                set req.http.P4 = std.port("::1");
                set req.http.I1 = std.ip("..", "[::1]:8000");
                set req.http.I2 = std.ip("..", "1.2.3.4 8000");
                set req.http.I3 = std.ip(req.http.bad, "0.0.0.1");
            }
            """)
        let context = Support.request(p, headers: [("Host", "a"), ("bad", "1.2.3.4:99999")])
        _ = p.run(.recv, context)
        #expect(["P1", "P2", "P3", "P4"].map { context.req.headers[$0] } == ["8000", "8000", "8000", "80"])  // 80 by default, as Varnish
        #expect(["I1", "I2", "I3"].map { context.req.headers[$0] } == ["::1", "1.2.3.4", "0.0.0.1"])
        #expect(throws: VCLCompileError.self) { try program(#"sub vcl_recv { set req.http.P = std.port("no address"); }"#) }
    }

    @Test func elseChains() throws {
        let p = try program("""
            sub vcl_recv {
                if (req.url == "/a") { set req.http.R = "a"; }
                elseif (req.url == "/b") { set req.http.R = "b"; }
                elsif (req.url == "/c") { set req.http.R = "c"; }
                else if (req.url == "/d") { set req.http.R = "d"; }
                elif (req.url == "/f") { set req.http.R = "f"; }
                else { set req.http.R = "other"; }
            }
            """)
        for (url, expected) in [("/a", "a"), ("/b", "b"), ("/c", "c"), ("/d", "d"), ("/f", "f"), ("/e", "other")] {
            let context = Support.request(p, "GET", url)
            _ = p.run(.recv, context)
            #expect(context.req.headers["R"] == expected)
        }
    }

    @Test func expressions() throws {
        let p = try program("""
            sub vcl_recv {
                set req.http.Concat = "a" + 1 + "-" + 1.5 + "-" + 10s + "-" + true;
                set req.http.Math = 2 + 3 * 4 - 10 / 2;
                set req.http.Neg = -5 + 2;
                set req.http.Dur = 1m + 30s;
                set req.http.DurScale = 2 * 1h / 4;
                set req.http.Bytes = 1KB + 24B;
                set req.http.Cmp = (1 < 2) && (2 >= 2) && !(3 <= 2) && ("b" > "a") && 1.5 > 1;
                set req.http.Or = false || req.url == "/";
                set req.http.Missing = req.http.Nope;
                set req.http.MissingEq = req.http.Nope == "";
                set req.http.Long = {"long "string""};
                set req.http.Prec = !req.url ~ "^/x";
                set req.http.Time = now + 1d > now;
                set req.ttl = 10m;
                set req.http.Ttl = req.ttl;
                set req.http.Ip = client.ip;
            }
            """)
        let context = Support.request(p)
        context.clientIP = VCLIP("203.0.113.7")!
        context.now = 1_800_000_000
        _ = p.run(.recv, context)
        let h = context.req.headers
        #expect(h["Concat"] == "a1-1.500-10.000-true")
        #expect(h["Math"] == "9")
        #expect(h["Neg"] == "-3")
        #expect(h["Dur"] == "90.000")
        #expect(h["DurScale"] == "1800.000")
        #expect(h["Bytes"] == "1048")
        #expect(h["Cmp"] == "true")
        #expect(h["Or"] == "true")
        #expect(h["Missing"] == "")
        #expect(h["MissingEq"] == "false")
        #expect(h["Long"] == "long \"string\"")
        #expect(h["Prec"] == "true")
        #expect(h["Time"] == "true")
        #expect(h["Ttl"] == "600.000")
        #expect(h["Ip"] == "203.0.113.7")
        #expect(context.req.ttl == 600)
    }

    @Test("an unset subject matches a regex as the empty string, as in Varnish")
    func unsetSubjectMatchesAsEmpty() throws {
        let p = try program("""
            sub vcl_recv {
                set req.http.EmptyOK = req.http.Nope ~ "^$";
                set req.http.Word = req.http.Nope ~ "JSESSIONID";
                set req.http.NotWord = req.http.Nope !~ "JSESSIONID";
                set req.http.NotEmpty = req.http.Nope !~ "^$";
                set req.http.Present = req.http.Cookie ~ "JSESSIONID";
            }
            """)
        let context = Support.request(p, headers: [("Cookie", "JSESSIONID=1")])
        _ = p.run(.recv, context)
        let h = context.req.headers
        #expect(h["EmptyOK"] == "true")
        #expect(h["Word"] == "false")
        #expect(h["NotWord"] == "true")
        #expect(h["NotEmpty"] == "false")
        #expect(h["Present"] == "true")
    }

    @Test("now is the clock when the server set none, and stays put within a request")
    func nowReadsTheClockOnce() throws {
        let p = try program(#"sub vcl_recv { set req.http.A = now; std.timestamp("x"); }"#)
        let context = Support.request(p)
        p.resetContext(context)
        let before = Double(time(nil))
        _ = p.run(.recv, context)
        let now = context.now
        #expect(now >= before - 1 && now <= before + 2)
        #expect(context.timestamps.first?.time == now)
        #expect(context.now == now)
        p.resetContext(context)
        context.now = 7
        #expect(context.now == 7)
    }

    @Test func concatenationFoldsLeftToRight() throws {
        let parts = (0..<60).map { "\"\($0)\"" }.joined(separator: " + ")
        let p = try program("""
            sub vcl_recv {
                set req.http.Mixed = 1 + 2 + "x" + 3 + 1s;
                set req.http.Long = \(parts);
                set req.http.Time = now + 1s - now;
            }
            """)
        let context = Support.request(p)
        _ = p.run(.recv, context)
        #expect(context.req.headers["Mixed"] == "3x31.000")
        #expect(context.req.headers["Long"] == (0..<60).map(String.init).joined())
        #expect(context.req.headers["Time"] == "1.000")
    }

    @Test func headerAccessIsCaseInsensitiveAndSetReplacesAll() throws {
        let p = try program("""
            sub vcl_recv { set req.http.x-tag = req.http.X-TAG + "!"; unset req.http.COOKIE; }
            """)
        let context = Support.request(p, headers: [("Host", "h"), ("X-Tag", "a"), ("x-tag", "b"), ("Cookie", "c")])
        _ = p.run(.recv, context)
        #expect(context.req.headers.values("X-Tag") == ["a!"])
        #expect(!context.req.headers.contains("cookie"))
    }

    @Test func regsubAndRegsuball() throws {
        let p = try program(#"""
            sub vcl_recv {
                set req.http.Host = regsub(req.http.Host, "^www\.", "");
                set req.url = regsuball(req.url, "([?&])utm_[a-z]+=[^&]*&?", "\1");
                set req.http.Swap = regsub("key=value", "(\w+)=(\w+)", "\2=\1");
            }
            """#)
        let context = Support.request(p, "GET", "/p?utm_source=x&id=1&utm_medium=y", headers: [("Host", "www.example.com")])
        _ = p.run(.recv, context)
        #expect(context.req.headers["Host"] == "example.com")
        #expect(context.req.url == "/p?id=1&")
        #expect(context.req.headers["Swap"] == "value=key")
    }

    @Test func stdFunctions() throws {
        let p = try program("""
            sub vcl_recv {
                std.log("hello " + req.url);
                std.syslog(3, "oops");
                set req.http.L = std.tolower("MiXeD");
                set req.http.U = std.toupper("MiXeD");
                set req.http.I = std.integer("12", 0) + std.integer("x", 5);
                set req.http.R = std.real("2.5", 0.0) * 2;
                set req.http.D = std.duration("2h", 0s) + std.duration("bad", 1s);
                set req.http.P = std.ip("bad", client.ip);
                set req.http.Q = std.querysort("/s?b=2&a=1&c=3&a=0");
                set req.http.H = std.healthy(req.backend_hint);
                std.collect(req.http.Accept);
                std.collect(req.http.Via, "; ");
                std.timestamp("recv");
                if (std.cache_req_body(100KB)) { set req.http.Body = "ok"; }
            }
            """)
        let context = Support.request(p, headers: [("Host", "h"), ("Accept", "a"), ("Accept", "b"), ("Via", "1"), ("Via", "2")])
        context.clientIP = VCLIP("10.0.0.1")!
        context.now = 42
        _ = p.run(.recv, context)
        let h = context.req.headers
        #expect(context.logLines == ["hello /"])
        #expect(context.syslogLines.first?.priority == 3)
        #expect(h["L"] == "mixed" && h["U"] == "MIXED")
        #expect(h["I"] == "17")
        #expect(h["R"] == "5.000")
        #expect(h["D"] == "7201.000")
        #expect(h["P"] == "10.0.0.1")
        #expect(h["Q"] == "/s?a=1&a=0&b=2&c=3")
        #expect(h["H"] == "true")
        #expect(h.values("Accept") == ["a, b"])
        #expect(h.values("Via") == ["1; 2"])
        #expect(context.timestamps.first?.label == "recv" && context.timestamps.first?.time == 42)
        #expect(context.cacheRequestBodyLimit == Int64(102_400))
        #expect(h["Body"] == "ok")
    }

    @Test func moreStdFunctions() throws {
        let p = try program("""
            sub vcl_recv {
                set req.http.S = std.strstr("/a/b/c", "/b");
                set req.http.Missing = std.strstr("abc", "x");
                set req.http.Port = std.port(client.ip);
                set req.http.Random = std.random(1, 2) >= 1;
                if (std.ban("req.url ~ ^/old")) { set req.http.Banned = "yes"; }
            }
            """)
        let context = Support.request(p)
        context.clientIP = VCLIP("192.0.2.1", port: 54321)!
        _ = p.run(.recv, context)
        let h = context.req.headers
        #expect(h["S"] == "/b/c" && h["Missing"] == "")
        #expect(h["Port"] == "54321")
        #expect(h["Random"] == "true")
        #expect(h["Banned"] == "yes" && context.bans == ["req.url ~ ^/old"])
    }

    @Test func noneBackend() throws {
        let p = try Support.compile("vcl 4.1;\nbackend default none;\n")
        #expect(p.backends.isEmpty)
        #expect(p.defaultBackend == "default")
        let context = p.makeContext()
        #expect(p.resolveBackend(context.req.backendHint, context: context) == nil)
    }

    @Test func healthHookIsConsulted() throws {
        let p = try program("sub vcl_recv { if (!std.healthy(req.backend_hint)) { return (synth(503)); } }")
        let context = Support.request(p)
        context.backendHealth = { _ in false }
        #expect(p.run(.recv, context) == .synth(status: 503, reason: "Service Unavailable"))
    }

    @Test func aclMatching() throws {
        let p = try program("""
            acl purgers { "127.0.0.1"; "10.0.0.0"/8; !"10.1.0.0"/16; "10.1.2.3"; "2001:db8::"/32; }
            sub vcl_recv { if (client.ip ~ purgers) { return (purge); } if (client.ip !~ purgers) { return (synth(405)); } }
            """)
        for (address, allowed) in [("127.0.0.1", true), ("10.9.9.9", true), ("10.1.9.9", false), ("10.1.2.3", true),
                                   ("192.0.2.1", false), ("2001:db8::1", true), ("2001:db9::1", false)] {
            let context = Support.request(p)
            context.clientIP = VCLIP(address)!
            #expect(p.run(.recv, context) == (allowed ? .purge : .synth(status: 405, reason: "Method Not Allowed")), "\(address)")
        }
        #expect(p.acls["purgers"]?.matches(VCLIP("10.200.0.1")!) == true)
    }

    @Test func banAndHashData() throws {
        let p = try program("""
            sub vcl_recv { if (req.method == "BAN") { ban("obj.http.X-Tag == " + req.http.X-Tag); return (synth(200, "Banned")); } }
            sub vcl_hash { hash_data(req.url); hash_data(req.http.Accept-Language); return (lookup); }
            """)
        let context = Support.request(p, "BAN", "/", headers: [("Host", "h"), ("X-Tag", "news")])
        #expect(p.run(.recv, context) == .synth(status: 200, reason: "Banned"))
        #expect(context.bans == ["obj.http.X-Tag == news"])
        let hash = Support.request(p, "GET", "/x", headers: [("Accept-Language", "fr")])
        _ = p.run(.hash, hash)
        #expect(hash.hashData == ["/x", "fr"])
    }

    @Test func passWithDurationIsHitForPass() throws {
        let p = try program("sub vcl_backend_response { return (pass(30s)); }")
        let context = Support.request(p)
        #expect(p.run(.backendResponse, context) == .deliver)
        #expect(context.beresp.hitForPass && context.beresp.uncacheable && context.beresp.ttl == 30)
    }

    @Test func uncacheableCannotBeReset() throws {
        let p = try program("sub vcl_backend_response { set beresp.uncacheable = true; set beresp.uncacheable = false; return (deliver); }")
        let context = Support.request(p)
        _ = p.run(.backendResponse, context)
        #expect(context.beresp.uncacheable)
    }

    @Test func backendAndResponseVariables() throws {
        let p = try program("""
            sub vcl_backend_fetch { set bereq.http.X-Url = bereq.url; set bereq.url = "/rewritten"; }
            sub vcl_backend_response {
                set beresp.http.X-Status = beresp.status;
                set beresp.status = 200;
                set beresp.reason = "Fine";
                set beresp.grace = 1h;
                set beresp.keep = 2h;
                set beresp.do_gzip = true;
                set beresp.do_esi = true;
                set beresp.do_stream = false;
                set beresp.http.X-Backend = beresp.backend.name;
                return (deliver);
            }
            sub vcl_deliver { set resp.status = 299; set resp.reason = "Custom"; set resp.http.X-Ttl = obj.ttl; }
            """)
        let context = Support.request(p, "GET", "/orig")
        Support.prepareBackend(context)
        _ = p.run(.backendFetch, context)
        #expect(context.bereq.url == "/rewritten" && context.bereq.headers["X-Url"] == "/orig")
        context.beresp.status = 203
        context.beresp.backendName = "default"
        _ = p.run(.backendResponse, context)
        #expect(context.beresp.headers["X-Status"] == "203")
        #expect(context.beresp.status == 200 && context.beresp.reason == "Fine")
        #expect(context.beresp.grace == 3600 && context.beresp.keep == 7200)
        #expect(context.beresp.doGzip && context.beresp.doESI && !context.beresp.doStream)
        #expect(context.beresp.headers["X-Backend"] == "default")
        context.obj.ttl = 12
        _ = p.run(.deliver, context)
        #expect(context.resp.status == 299 && context.resp.reason == "Custom" && context.resp.headers["X-Ttl"] == "12.000")
    }

    @Test func directors() throws {
        let p = try program("""
            backend b1 { .host = "10.0.0.1"; }
            backend b2 { .host = "10.0.0.2"; }
            sub vcl_init {
                new rr = directors.round_robin();
                rr.add_backend(b1);
                rr.add_backend(b2);
                new fb = directors.fallback();
                fb.add_backend(b1);
                fb.add_backend(b2);
                new h = directors.hash();
                h.add_backend(b1, 1);
                h.add_backend(b2, 1);
                new r = directors.random();
                r.add_backend(b1, 1);
                r.add_backend(b2, 3);
            }
            sub vcl_recv {
                if (req.url == "/rr") { set req.backend_hint = rr.backend(); }
                if (req.url == "/fb") { set req.backend_hint = fb.backend(); }
                if (req.url ~ "^/h") { set req.backend_hint = h.backend(req.url); }
                if (req.url == "/r") { set req.backend_hint = r.backend(); }
                return (hash);
            }
            """)
        #expect(p.directors["rr"]?.members.map(\.name) == ["b1", "b2"])
        #expect(p.directors["r"]?.members.map(\.weight) == [1, 3])
        // round_robin, fallback and random give the director itself (as vmod_directors); the
        // fetch resolves it to a member.
        var seen: [String] = []
        for _ in 0..<4 {
            let context = Support.request(p, "GET", "/rr")
            _ = p.run(.recv, context)
            #expect(context.req.backendHint == "rr")
            seen.append(p.resolveBackend("rr", context: context)?.host ?? "")
        }
        #expect(Set(seen) == ["10.0.0.1", "10.0.0.2"])
        #expect(seen[0] != seen[1])

        let fallback = Support.request(p, "GET", "/fb")
        fallback.backendHealth = { $0 != "b1" }
        _ = p.run(.recv, fallback)
        #expect(fallback.req.backendHint == "fb")
        #expect(p.resolveBackend("fb", context: fallback)?.host == "10.0.0.2")

        func hashed(_ url: String) -> String? {
            let context = Support.request(p, "GET", url)
            _ = p.run(.recv, context)
            return context.req.backendHint
        }
        #expect(hashed("/h/one") == hashed("/h/one"))
        #expect(Set((0..<40).compactMap { hashed("/h/\($0)") }) == ["b1", "b2"])

        let random = Set((0..<40).compactMap { _ -> String? in
            let context = Support.request(p, "GET", "/r")
            context.randomState = UInt64.random(in: 0...UInt64.max)
            _ = p.run(.recv, context)
            return p.resolveBackend(context.req.backendHint ?? "", context: context)?.host
        })
        #expect(random.isSubset(of: ["10.0.0.1", "10.0.0.2"]) && !random.isEmpty)
    }

    @Test func resolveBackendThroughDirector() throws {
        let p = try program("""
            backend b1 { .host = "10.0.0.1"; .port = "81"; }
            sub vcl_init { new fb = directors.fallback(); fb.add_backend(b1); }
            sub vcl_recv { set req.backend_hint = fb; }
            """)
        let context = Support.request(p)
        _ = p.run(.recv, context)
        #expect(context.req.backendHint == "b1")
        #expect(p.resolveBackend("fb", context: context)?.port == "81")
        #expect(p.resolveBackend("default", context: context)?.host == "127.0.0.1")
        #expect(p.resolveBackend("nothing", context: context) == nil)
    }

    @Test func programIsSharedAcrossThreads() async throws {
        let p = try program(#"sub vcl_recv { if (req.url ~ "\.(png|css)$") { unset req.http.Cookie; return (hash); } return (pass); }"#)
        await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for i in 0..<500 {
                        let context = Support.request(p, "GET", i % 2 == 0 ? "/a\(task).png" : "/page")
                        let expected: VCLAction = i % 2 == 0 ? .hash : .pass
                        if p.run(.recv, context) != expected { return false }
                    }
                    return true
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
