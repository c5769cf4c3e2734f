import Foundation
import Testing

@testable import Shellac

/// `vcl.label` and `return (vcl(label))` over a real socket; `vcl.list [-j]`, `vcl.state`.
@Suite("VCL labels")
struct VCLLabelTests {
    @Test("return (vcl(label)) runs the request on in the labelled VCL; labels list, move and go; a labelled VCL stays")
    func labels() async throws {
        let origin = try await TestOrigin.start { _ in TestOrigin.Response(body: "origin") }
        let vcl = try VCLRequestStatesTests.file("""
            vcl 4.1;
            backend origin { .host = "192.0.2.1"; .port = "80"; }
            sub vcl_recv {
                set req.http.X-From = "boot";
                if (req.url ~ "^/other") { return (vcl(shop)); }
            }
            """)
        try await withProxy(origin: origin, vclFile: vcl) { proxy in
            let admin = BackendHealthTests.admin(proxy)
            let other = """
                vcl 4.1;
                backend b { .host = "127.0.0.1"; }
                sub vcl_recv { return (synth(299, "labelled " + req.http.X-From)); }
                """
            #expect(admin.execute(["vcl.inline", "shop_v1", other]).status == 200)
            #expect(admin.execute(["vcl.label", "shop", "shop_v1"]).status == 200)
            #expect(admin.execute(["vcl.label", "again", "shop"]).status == 106)  // not a label of a label
            let switched = try await fetch(proxy.url("/other"))
            #expect(switched.status == 299)
            let plain = try await fetch(proxy.url("/plain"))
            #expect(plain.body == "origin")
            let listing = admin.execute(["vcl.list"]).body
            #expect(listing.contains("shop -> shop_v1"))
            let json = admin.execute(["vcl.list", "-j"]).body
            #expect((try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil, "\(json)")
            #expect(admin.execute(["vcl.state", "shop_v1", "cold"]).status == 300)  // labelled: stays warm
            #expect(admin.execute(["vcl.state", "shop", "cold"]).status == 106)  // labels are always warm
            #expect(admin.execute(["vcl.discard", "shop_v1"]).status == 106)  // labelled
            #expect(admin.execute(["vcl.discard", "shop"]).status == 200)
            let gone = try await fetch(proxy.url("/other"))
            #expect(gone.status == 503)  // the label no longer names a VCL
        }
    }
}
