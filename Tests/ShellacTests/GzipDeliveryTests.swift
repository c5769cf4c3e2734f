import NIOHTTP1
import VCL
import Testing

@testable import Shellac

/// gzip over real sockets: one stored gzip object for every client, inflated on delivery
/// for those that do not accept gzip; `beresp.do_gzip` and `do_gunzip`; ESI pages
/// assembled as one gzip stream. Bodies are checked with Debian's `gzip`.
@Suite("gzip delivery")
struct GzipDeliveryTests {
    static let vcl = """
        vcl 4.1;
        backend origin { .host = "192.0.2.1"; .port = "80"; }
        sub vcl_backend_response {
            if (bereq.url ~ "^/plain" || bereq.url ~ "^/zpage") { set beresp.do_gzip = true; }
            if (bereq.url ~ "^/unzip") { set beresp.do_gunzip = true; }
            if (bereq.url ~ "page") { set beresp.do_esi = true; }
            if (bereq.url ~ "^/reval") { set beresp.do_gzip = true; set beresp.ttl = 0.5s; set beresp.grace = 0s; set beresp.keep = 60s; }
        }
        sub vcl_deliver {
            set resp.http.can-gzip = req.can_gzip;
            set resp.http.can-esi = obj.can_esi;
        }
        """

    static let large = GzipStreamTests.text(75 * 1024, seed: 75)
    static let small = GzipStreamTests.text(300, seed: 3)
    static let page = "<html><esi:include src=\"/frag/gz\"/>|<esi:include src=\"/frag/plain\"/>|end</html>"
    static let assembled = "<html>" + String(decoding: small, as: UTF8.self) + "|plain fragment|end</html>"

    static func origin() async throws -> TestOrigin {
        let largeGzip = try SystemGzip.compress(large)
        let smallGzip = try SystemGzip.compress(small)
        let pageGzip = try SystemGzip.compress(Array(page.utf8))
        return try await TestOrigin.start { request in
            let gzip: HTTPHeaders = ["Content-Encoding": "gzip", "ETag": "\"v1\""]
            switch request.path {
            case "/large", "/unzip": return TestOrigin.Response(headers: gzip, bytes: largeGzip)
            case "/small", "/frag/gz": return TestOrigin.Response(headers: gzip, bytes: smallGzip)
            case "/plain": return TestOrigin.Response(headers: ["ETag": "\"p\""], bytes: large)
            case "/corrupt": return TestOrigin.Response(headers: gzip, bytes: Array(smallGzip.prefix(40)) + [1, 2, 3, 4, 5, 6, 7, 8])
            case "/page": return TestOrigin.Response(headers: gzip, bytes: pageGzip)
            case "/zpage": return TestOrigin.Response(body: page)
            case "/epage":
                return TestOrigin.Response(
                    headers: ["ETag": "\"ep\"", "Last-Modified": "Wed, 04 Jun 2014 08:48:52 GMT"], body: page)
            case "/cpage":
                // gzip that goes wrong in its first piece, from a backend that then stalls
                var response = TestOrigin.Response.chunked(
                    headers: ["Content-Encoding": "gzip"], chunks: ["\u{1F}\u{8B}\u{08}\u{00}garbage, not deflate", "late"],
                    delayBetweenChunks: .seconds(20))
                response.closeConnection = true
                return response
            case "/reval":
                if request.header("If-Modified-Since") != nil {
                    return TestOrigin.Response(status: .notModified, headers: ["ETag": "\"e2\""])
                }
                return TestOrigin.Response(
                    headers: ["ETag": "\"e1\"", "Last-Modified": "Wed, 11 Sep 2013 13:36:55 GMT"], bytes: large)
            default: return TestOrigin.Response(body: "plain fragment")
            }
        }
    }

    static func get(_ proxy: ShellacFixture, _ path: String, gzip: Bool, extra: String = "", method: String = "GET") async throws -> RawHTTPClient.Response {
        let encoding = gzip ? "Accept-Encoding: deflate, gzip;q=0.8\r\n" : "Accept-Encoding: br\r\n"
        return try await RawHTTPClient.exchange(
            port: proxy.port, "\(method) \(path) HTTP/1.1\r\nHost: example.com\r\n\(encoding)\(extra)Connection: close\r\n\r\n",
            forHEAD: method == "HEAD")
    }

    @Test("one stored gzip object: gzip clients get it as stored, others inflated (length, weak ETag, Range, HEAD)")
    func oneObjectForEveryClient() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            for path in ["/large", "/small"] {
                let expected = path == "/large" ? Self.large : Self.small
                let identity = try await Self.get(proxy, path, gzip: false)  // the miss: asks the backend for gzip
                #expect(identity.status == 200 && identity.header("Content-Encoding") == nil)
                #expect(identity.body == expected)
                #expect(identity.header("ETag") == "W/\"v1\"")
                let zipped = try await Self.get(proxy, path, gzip: true)
                #expect(zipped.header("Content-Encoding") == "gzip" && zipped.header("ETag") == "\"v1\"")
                #expect(try SystemGzip.decompress(zipped.body) == expected)
                #expect(zipped.header("Vary")?.contains("Accept-Encoding") == true)
                let again = try await Self.get(proxy, path, gzip: false)  // a hit, complete: its length is known
                #expect(again.header("Content-Length") == String(expected.count) && again.body == expected)
                let ranged = try await Self.get(proxy, path, gzip: false, extra: "Range: bytes=10-19\r\n")
                #expect(ranged.status == 206 && ranged.body == Array(expected[10...19]))
                #expect(ranged.header("Content-Range") == "bytes 10-19/\(expected.count)")
                let head = try await Self.get(proxy, path, gzip: false, method: "HEAD")
                #expect(head.header("Content-Length") == String(expected.count) && head.body.isEmpty)
                #expect(origin.requestCount(path: path) == 1)
                #expect(origin.requests(path: path).first?.header("Accept-Encoding") == "gzip")
                #expect(zipped.header("can-gzip") == "true" && identity.header("can-gzip") == "false")
            }
            // Each stored object checked once; each inflated delivery counted (HEAD too, as Varnish).
            let statistics = proxy.server.statistics
            #expect(statistics.value(.testGunzips) == 2 && statistics.value(.gunzips) == 8 && statistics.value(.gzips) == 0)
        }
    }

    @Test("a 304 refreshes a gzipped object: its coding stands, the new ETag is weak")
    func revalidatesChangedCoding() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let first = try await Self.get(proxy, "/reval", gzip: true)
            #expect(first.header("ETag") == "W/\"e1\"" && first.header("Content-Encoding") == "gzip")
            try await Task.sleep(for: .milliseconds(700))
            let refreshed = try await Self.get(proxy, "/reval", gzip: true)
            #expect(origin.requestCount(path: "/reval") == 2)
            #expect(refreshed.header("ETag") == "W/\"e2\"" && refreshed.header("Content-Encoding") == "gzip")
            #expect(try SystemGzip.decompress(refreshed.body) == Self.large)
            let identity = try await Self.get(proxy, "/reval", gzip: false)
            #expect(identity.body == Self.large && identity.header("Content-Encoding") == nil)
        }
    }

    @Test("beresp.do_gzip stores gzip (with Vary and a weak ETag); beresp.do_gunzip stores plain")
    func doGzipAndGunzip() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let zipped = try await Self.get(proxy, "/plain", gzip: true)
            #expect(zipped.header("Content-Encoding") == "gzip" && zipped.header("ETag") == "W/\"p\"")
            #expect(zipped.header("Vary") == "Accept-Encoding")
            #expect(try SystemGzip.decompress(zipped.body) == Self.large)
            #expect(zipped.body.count < Self.large.count / 2)
            let identity = try await Self.get(proxy, "/plain", gzip: false)
            #expect(identity.body == Self.large && identity.header("Content-Encoding") == nil)
            let unzipped = try await Self.get(proxy, "/unzip", gzip: true)
            #expect(unzipped.header("Content-Encoding") == nil && unzipped.body == Self.large)
            #expect(origin.requestCount(path: "/plain") == 1 && origin.requestCount(path: "/unzip") == 1)
        }
    }

    @Test("a corrupt gzip body from the backend is a failed fetch (503), not a response")
    func corruptBody() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let response = try await Self.get(proxy, "/corrupt", gzip: true)
            #expect(response.status == 503)
            // (The fetch logs on its own loop: the record may land just after the 503 does.)
            try await VCLTemperatureTests.waitUntil(seconds: 2) {
                proxy.server.log.read(from: 0, limit: 100).records.contains { $0.text.contains("invalid gzip data") }
            }
            let logged = proxy.server.log.read(from: 0, limit: 100).records.map(\.text)
            #expect(logged.contains { $0.contains("invalid gzip data") })
        }
    }

    @Test("ESI on gzip: one gzip stream of stored runs and spliced includes; inflated for other clients")
    func esiOnGzip() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            for path in ["/page", "/zpage"] {
                let zipped = try await Self.get(proxy, path, gzip: true)
                #expect(zipped.status == 200 && zipped.header("Content-Encoding") == "gzip")
                #expect(zipped.header("can-esi") == "true")
                #expect(String(decoding: try SystemGzip.decompress(zipped.body), as: UTF8.self) == Self.assembled)
                let identity = try await Self.get(proxy, path, gzip: false)
                #expect(identity.header("Content-Encoding") == nil)
                #expect(identity.bodyString == Self.assembled)
                let old = try await RawHTTPClient.exchange(
                    port: proxy.port, "GET \(path) HTTP/1.0\r\nHost: example.com\r\nAccept-Encoding: gzip\r\n\r\n")
                #expect(old.header("Transfer-Encoding") == nil)
                #expect(String(decoding: try SystemGzip.decompress(old.body), as: UTF8.self) == Self.assembled)
            }
            #expect(origin.requestCount(path: "/frag/gz") == 1 && origin.requestCount(path: "/frag/plain") == 1)
        }
    }

    @Test("beresp.filters and resp.filters read as Varnish lists them; resp.do_esi = false sends the page as stored")
    func filterLists() async throws {
        let vcl = """
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_backend_response {
                set beresp.http.before = beresp.filters;
                if (bereq.url ~ "page") { set beresp.do_esi = true; }
                if (bereq.url ~ "^/plain") { set beresp.filters = "gzip"; }
                set beresp.http.after = beresp.filters;
            }
            sub vcl_deliver {
                set resp.http.filters = resp.filters;
                if (req.http.no-esi) { set resp.do_esi = false; }
                set resp.http.then = resp.filters;
            }
            """
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(vcl)) { proxy in
            let large = try await Self.get(proxy, "/large", gzip: false, extra: "Range: bytes=0-1\r\n")
            #expect(large.header("before") == "testgunzip" && large.header("filters") == "gunzip range")
            let page = try await Self.get(proxy, "/page", gzip: true)
            #expect(page.header("before") == "testgunzip" && page.header("after") == "gunzip esi_gzip")
            #expect(page.header("filters") == "esi")
            let raw = try await Self.get(proxy, "/page", gzip: true, extra: "no-esi: 1\r\n")
            #expect(raw.header("then") == "" && raw.header("Content-Length") != nil)
            #expect(String(decoding: try SystemGzip.decompress(raw.body), as: UTF8.self) == Self.page)
            let plain = try await Self.get(proxy, "/plain", gzip: true)
            #expect(plain.header("before") == "" && plain.header("after") == "gzip")
            #expect(try SystemGzip.decompress(plain.body) == Self.large)
        }
    }

    @Test("an ESI page: its ETag goes weak, a conditional hit gets 304; corrupt gzip fails the fetch at once")
    func esiValidatorsAndCorruption() async throws {
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(Self.vcl)) { proxy in
            let page = try await Self.get(proxy, "/epage", gzip: false)
            #expect(page.bodyString == Self.assembled && page.header("ETag") == "W/\"ep\"")
            let conditional = try await Self.get(
                proxy, "/epage", gzip: false, extra: "If-Modified-Since: Wed, 04 Jun 2014 08:48:52 GMT\r\n")
            #expect(conditional.status == 304 && conditional.body.isEmpty)
            let started = ContinuousClock.now
            let corrupt = try await Self.get(proxy, "/cpage", gzip: true)
            #expect(corrupt.status == 503)
            #expect(ContinuousClock.now - started < .seconds(5))  // not the backend's 20 s stall
        }
    }

    @Test("a chain of gzip and gunzip filters acts as its net step, with http_gzip_support on or off")
    func filterChains() async throws {
        let vcl = """
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_backend_response {
                if (bereq.url ~ "^/plain") { set beresp.filters = "gzip gunzip gzip gunzip gzip"; }
                if (bereq.url ~ "^/small") { set beresp.filters = "gunzip gzip gunzip"; }
            }
            """
        for support in ["on", "off"] {
            let origin = try await Self.origin()
            try await withProxy(origin: origin, parameters: ["http_gzip_support=\(support)"], vclFile: try VCLRequestStatesTests.file(vcl)) { proxy in
                let zipped = try await Self.get(proxy, "/plain", gzip: true)
                #expect(zipped.header("Content-Encoding") == "gzip", "http_gzip_support=\(support)")
                #expect(try SystemGzip.decompress(zipped.body) == Self.large)
                let plain = try await Self.get(proxy, "/small", gzip: true)
                #expect(plain.header("Content-Encoding") == nil && plain.body == Self.small)
            }
        }
    }

    @Test("an ESI page stored gzipped that holds no ESI has the length Varnish gives it (e00028)")
    func esiGzipWithoutElements() async throws {
        let body = try SystemGzip.compress(Array("bar".utf8))
        let origin = try await TestOrigin.start { _ in TestOrigin.Response(headers: ["Content-Encoding": "gzip"], bytes: body) }
        let vcl = """
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_backend_response { set beresp.do_esi = true; }
            """
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(vcl)) { proxy in
            let zipped = try await Self.get(proxy, "/bar", gzip: true)
            // header 10, an empty flushed block 5, "bar" flushed 9, final block and trailer 10
            #expect(zipped.header("Content-Length") == "34" && zipped.body.count == 34)
            #expect(try SystemGzip.decompress(zipped.body) == Array("bar".utf8))
        }
    }

    @Test("VCL 4.0's req.esi = false sends an ESI page unprocessed (VCL 4.1 has no req.esi)")
    func requestESIOff() async throws {
        let vcl = """
            vcl 4.0;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_backend_response { if (bereq.url ~ "page") { set beresp.do_esi = true; } }
            sub vcl_recv { if (req.http.req-no-esi) { set req.esi = false; } }
            """
        let origin = try await Self.origin()
        try await withProxy(origin: origin, vclFile: try VCLRequestStatesTests.file(vcl)) { proxy in
            let unprocessed = try await Self.get(proxy, "/page", gzip: false, extra: "req-no-esi: 1\r\n")
            #expect(unprocessed.bodyString == Self.page)
            let processed = try await Self.get(proxy, "/page", gzip: false)
            #expect(processed.bodyString == Self.assembled)
        }
        #expect(throws: VCLCompileError.self) {
            try VCLCompiler.compile(source: "vcl 4.1;\nbackend b { .host = \"a\"; }\nsub vcl_recv { set req.esi = false; }\n", name: "esi.vcl")
        }
    }
}
