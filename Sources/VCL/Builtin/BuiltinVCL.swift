/// Shellac's built-in VCL, appended after the user's subs as Varnish does with builtin.vcl.
/// Written for Shellac; it behaves like Varnish 7's default policy.
public enum BuiltinVCL {
    static let name = "<builtin>"

    /// The subs the built-in VCL calls from its methods (Varnish 7's split built-in), by the
    /// method that calls them: user VCL may call them, or add code to them.
    static let helpers: [String: VCLSubroutine] = {
        var map: [String: VCLSubroutine] = [:]
        for method in VCLSubroutine.allCases where method != .initialize && method != .finalize {
            map["vcl_builtin_" + method.name.dropFirst(4)] = method
        }
        for name in ["vcl_req_host", "vcl_req_method", "vcl_req_authorization", "vcl_req_cookie"] { map[name] = .recv }
        for name in ["vcl_beresp_stale", "vcl_beresp_cookie", "vcl_beresp_control", "vcl_beresp_vary", "vcl_beresp_hitmiss"] {
            map[name] = .backendResponse
        }
        return map
    }()

    public static let source = #"""
    vcl 4.1;

    # Client side ------------------------------------------------------------
    # Each method calls its vcl_builtin_* part, in Varnish 7's shape (what `varnishd -x
    # builtin` prints): a user VCL may call these subs, or add code to them.

    sub vcl_recv {
        call vcl_builtin_recv;
        return (hash);
    }

    sub vcl_builtin_recv {
        call vcl_req_host;
        call vcl_req_method;
        call vcl_req_authorization;
        call vcl_req_cookie;
    }

    sub vcl_req_host {
        if (req.http.host ~ "[A-Z]") {
            set req.http.host = req.http.host.lower();
        }
        if (!req.http.host && req.esi_level == 0 && req.proto ~ "^(?i)HTTP/1\.1") {
            # HTTP/1.1 requires a Host.
            return (synth(400));
        }
    }

    sub vcl_req_method {
        if (req.method == "PRI") {
            # HTTP/2 connection preface on an HTTP/1 listener.
            return (synth(405));
        }
        if (req.method != "GET" && req.method != "HEAD" && req.method != "PUT" &&
            req.method != "POST" && req.method != "PATCH" && req.method != "TRACE" &&
            req.method != "OPTIONS" && req.method != "DELETE") {
            # Not a method we understand: hand the connection to the backend.
            return (pipe);
        }
        if (req.method != "GET" && req.method != "HEAD") {
            return (pass);
        }
    }

    sub vcl_req_authorization {
        if (req.http.Authorization) {
            # Likely personalised: do not share it.
            return (pass);
        }
    }

    sub vcl_req_cookie {
        if (req.http.Cookie) {
            return (pass);
        }
    }

    sub vcl_pipe {
        call vcl_builtin_pipe;
        return (pipe);
    }

    sub vcl_builtin_pipe {
    }

    sub vcl_pass {
        call vcl_builtin_pass;
        return (fetch);
    }

    sub vcl_builtin_pass {
    }

    sub vcl_hash {
        call vcl_builtin_hash;
        return (lookup);
    }

    sub vcl_builtin_hash {
        hash_data(req.url);
        if (req.http.host) {
            hash_data(req.http.host);
        } else {
            hash_data(server.ip);
        }
    }

    sub vcl_purge {
        call vcl_builtin_purge;
        return (synth(200, "Purged"));
    }

    sub vcl_builtin_purge {
    }

    sub vcl_hit {
        call vcl_builtin_hit;
        return (deliver);
    }

    sub vcl_builtin_hit {
    }

    sub vcl_miss {
        call vcl_builtin_miss;
        return (fetch);
    }

    sub vcl_builtin_miss {
    }

    sub vcl_deliver {
        call vcl_builtin_deliver;
        return (deliver);
    }

    sub vcl_builtin_deliver {
    }

    sub vcl_synth {
        call vcl_builtin_synth;
        return (deliver);
    }

    sub vcl_builtin_synth {
        set resp.http.Content-Type = "text/html; charset=utf-8";
        set resp.http.Retry-After = "5";
        synthetic({"<!DOCTYPE html>
    <html>
      <head>
        <title>"} + resp.status + " " + resp.reason + {"</title>
      </head>
      <body>
        <h1>Error "} + resp.status + " " + resp.reason + {"</h1>
        <p>"} + resp.reason + {"</p>
        <h3>Guru Meditation:</h3>
        <p>XID: "} + req.xid + {"</p>
        <hr>
        <p>Shellac cache server</p>
      </body>
    </html>
    "});
    }

    # Backend side -----------------------------------------------------------

    sub vcl_backend_fetch {
        call vcl_builtin_backend_fetch;
        return (fetch);
    }

    sub vcl_builtin_backend_fetch {
        if (bereq.method == "GET") {
            unset bereq.body;
        }
    }

    sub vcl_backend_response {
        call vcl_builtin_backend_response;
        return (deliver);
    }

    sub vcl_builtin_backend_response {
        if (bereq.uncacheable) {
            return (deliver);
        }
        call vcl_beresp_stale;
        call vcl_beresp_cookie;
        call vcl_beresp_control;
        call vcl_beresp_vary;
    }

    sub vcl_beresp_stale {
        if (beresp.ttl <= 0s) {
            call vcl_beresp_hitmiss;
        }
    }

    sub vcl_beresp_cookie {
        if (beresp.http.Set-Cookie) {
            call vcl_beresp_hitmiss;
        }
    }

    sub vcl_beresp_control {
        if (beresp.http.Surrogate-Control ~ "(?i)no-store" ||
            (!beresp.http.Surrogate-Control &&
              beresp.http.Cache-Control ~ "(?i)(no-cache|no-store|private)")) {
            call vcl_beresp_hitmiss;
        }
    }

    sub vcl_beresp_vary {
        if (beresp.http.Vary == "*") {
            call vcl_beresp_hitmiss;
        }
    }

    sub vcl_beresp_hitmiss {
        # Remember for two minutes that this object cannot be shared (hit-for-miss).
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }

    sub vcl_backend_error {
        call vcl_builtin_backend_error;
        return (deliver);
    }

    sub vcl_builtin_backend_error {
        set beresp.http.Content-Type = "text/html; charset=utf-8";
        set beresp.http.Retry-After = "5";
        synthetic({"<!DOCTYPE html>
    <html>
      <head>
        <title>"} + beresp.status + " " + beresp.reason + {"</title>
      </head>
      <body>
        <h1>Error "} + beresp.status + " " + beresp.reason + {"</h1>
        <p>"} + beresp.reason + {"</p>
        <h3>Guru Meditation:</h3>
        <p>XID: "} + bereq.xid + {"</p>
        <hr>
        <p>Shellac cache server</p>
      </body>
    </html>
    "});
    }

    # Housekeeping -----------------------------------------------------------

    sub vcl_init {
        return (ok);
    }

    sub vcl_fini {
        return (ok);
    }
    """#
}
