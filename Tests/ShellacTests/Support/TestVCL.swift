/// Small VCL files for the tests.
enum TestVCL {
    static func good(name: String = "origin", host: String = "192.0.2.1", port: Int = 80) -> String {
        """
        vcl 4.1;
        backend \(name) { .host = "\(host)"; .port = "\(port)"; }
        sub vcl_deliver { set resp.http.X-Test-VCL = "\(name)"; }

        """
    }

    /// Two errors: an unknown variable on line 4, a missing semicolon on line 5.
    static let broken = """
        vcl 4.1;
        backend b { .host = "127.0.0.1"; }
        sub vcl_recv {
            set req.no_such_thing = "x";
            if (req.url ~ "^/a") { return (pass) }
        }

        """
}
