import Foundation
import ShellacLog
import Testing

@testable import Shellac

/// The less common records, each where Varnish writes it: Hash (when unmasked), ExpBan,
/// RespUnset, Gzip, ESI_xmlerror (counted in esi_errors) and ExpKill (when unmasked).
@Suite("transaction log records", .serialized)
struct LogRecordsTests {
    /// Every record the log holds once `condition` is met (or after 3 s).
    static func records(_ proxy: ShellacFixture, until condition: ([VSLRecord]) -> Bool) async throws -> [VSLRecord] {
        var records: [VSLRecord] = []
        for _ in 0..<60 {
            records = proxy.server.log.read(from: 0, limit: 100_000).records
            if condition(records) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return records
    }

    static func texts(_ records: [VSLRecord], _ tag: VSLTag) -> [String] {
        records.filter { $0.tag == tag }.map(\.text)
    }

    @Test("+Hash shows each hash_data part; a ban found at lookup writes ExpBan; inflating writes RespUnset; fetch filters write Gzip")
    func hashBanUnsetGzip() async throws {
        let gzipped = try SystemGzip.compress(Array("hello, log".utf8))
        let origin = try await TestOrigin.start { request in
            if request.path == "/gz" {
                return TestOrigin.Response(headers: ["Content-Encoding": "gzip", "Cache-Control": "max-age=60"], bytes: gzipped)
            }
            return TestOrigin.Response(headers: ["Cache-Control": "max-age=60"], body: "plain")
        }
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend b { .host = "127.0.0.1"; .port = "\\(origin.port)"; }
            sub vcl_recv { if (req.method == "BAN") { ban("req.url ~ ^/p"); return (synth(200, "Banned")); } }
            """)
        try await withProxy(origin: origin, parameters: ["vsl_mask=+Hash"], vclFile: vcl) { proxy in
            _ = try await fetch(proxy.url("/p"))
            _ = try await fetch(proxy.url("/p"), method: .init(rawValue: "BAN"))
            _ = try await fetch(proxy.url("/p"))
            _ = try await GzipDeliveryTests.get(proxy, "/gz", gzip: false)
            let records = try await Self.records(proxy) { !Self.texts($0, .gzip).isEmpty && !Self.texts($0, .expBan).isEmpty }
            #expect(Self.texts(records, .hash).contains("/p"), "\(Self.texts(records, .hash))")
            #expect(Self.texts(records, .hash).contains { $0.hasPrefix("127.0.0.1:") })
            #expect(Self.texts(records, .expBan).count == 1 && Self.texts(records, .expBan).first?.hasSuffix(" banned lookup") == true)
            #expect(Self.texts(records, .respUnset) == ["Content-Encoding: gzip"])
            let gzip = try #require(Self.texts(records, .gzip).first)
            #expect(gzip.hasPrefix("u F - \(gzipped.count) \(gzipped.count) "), "test-gunzip on the way in: \(gzip)")
        }
    }

    @Test("ESI parse errors are ESI_xmlerror records and count in esi_errors (varnishtest e00021's page)")
    func esiErrors() async throws {
        let page = """
            <esi:remove>
            This is a test: Unseen University
            <esi:include src="trick question">
            <!--esi XXX -->
            </esi:remove>
            <esX>This is a test: Hello world
            """
        let origin = try await TestOrigin.start(always: Response(body: page))
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend b { .host = "127.0.0.1"; .port = "\\(origin.port)"; }
            sub vcl_backend_response { set beresp.do_esi = true; }
            """)
        try await withProxy(origin: origin, vclFile: vcl) { proxy in
            let response = try await fetch(proxy.url("/"))
            #expect(response.body.hasSuffix("<esX>This is a test: Hello world"))
            let records = try await Self.records(proxy) { Self.texts($0, .esiXMLError).count == 2 }
            let errors = Self.texts(records, .esiXMLError)
            #expect(errors.count == 2, "\(errors)")
            #expect(errors.contains { $0.hasPrefix("ERR after ") && $0.hasSuffix("ESI 1.0 <esi:include> element nested in <esi:remove>") })
            #expect(errors.contains { $0.hasSuffix("ESI 1.0 Nested <!--esi element in <esi:remove>") })
            #expect(proxy.server.statistics.value(.esiErrors) == 2)
        }
    }

    @Test("+ExpKill: the expiry thread's removals are logged")
    func expKill() async throws {
        let origin = try await TestOrigin.start(always: Response(headers: ["Cache-Control": "max-age=1"], body: "short"))
        try await withProxy(origin: origin, parameters: ["vsl_mask=+ExpKill", "default_grace=0s"]) { proxy in
            let response = try await fetch(proxy.url("/short"))
            let xid = try #require(response.header("X-Varnish"))
            var records: [VSLRecord] = []
            for _ in 0..<80 {
                records = proxy.server.log.read(from: 0, limit: 100_000).records
                if !Self.texts(records, .expKill).isEmpty { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let killed = Self.texts(records, .expKill)
            #expect(killed.contains { $0.hasPrefix("EXP_Expired x=") }, "\(killed); the object was \(xid)")
            #expect(records.filter { $0.tag == .expKill }.allSatisfy { $0.vxid == 0 })
        }
    }
}
