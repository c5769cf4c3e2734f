/// Shellac's built-in VCL, appended after the user's subs as Varnish does with builtin.vcl.
/// Written for Shellac; it behaves like Varnish 7's default policy.
public enum BuiltinVCL {
    static let name = "<builtin>"

    public static let source = #"""
    vcl 4.1;

    # Client side ------------------------------------------------------------

    sub vcl_recv {
        if (req.method == "PRI") {
            # HTTP/2 connection preface on an HTTP/1 listener.
            return (synth(405));
        }
        if (!req.http.host && req.esi_level == 0 && req.proto ~ "^(?i)HTTP/1\.1") {
            return (synth(400));
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
        if (req.http.Authorization || req.http.Cookie) {
            # Likely personalised: do not share it.
            return (pass);
        }
        return (hash);
    }

    sub vcl_pipe {
        return (pipe);
    }

    sub vcl_pass {
        return (fetch);
    }

    sub vcl_hash {
        hash_data(req.url);
        if (req.http.host) {
            hash_data(req.http.host);
        } else {
            hash_data(server.ip);
        }
        return (lookup);
    }

    sub vcl_purge {
        return (synth(200, "Purged"));
    }

    sub vcl_hit {
        return (deliver);
    }

    sub vcl_miss {
        return (fetch);
    }

    sub vcl_deliver {
        return (deliver);
    }

    sub vcl_synth {
        set resp.http.Content-Type = "text/html; charset=utf-8";
        set resp.http.Retry-After = "5";
        synthetic({"<!DOCTYPE html>
    <html>
      <head><title>"} + resp.status + " " + resp.reason + {"</title></head>
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
        return (deliver);
    }

    # Backend side -----------------------------------------------------------

    sub vcl_backend_fetch {
        return (fetch);
    }

    sub vcl_backend_response {
        if (bereq.uncacheable) {
            return (deliver);
        }
        if (beresp.ttl <= 0s ||
            beresp.http.Set-Cookie ||
            beresp.http.Surrogate-Control ~ "(?i)no-store" ||
            (!beresp.http.Surrogate-Control &&
              beresp.http.Cache-Control ~ "(?i)(no-cache|no-store|private)") ||
            beresp.http.Vary == "*") {
            # Remember for two minutes that this object cannot be shared (hit-for-miss).
            set beresp.ttl = 120s;
            set beresp.uncacheable = true;
        }
        return (deliver);
    }

    sub vcl_backend_error {
        set beresp.http.Content-Type = "text/html; charset=utf-8";
        set beresp.http.Retry-After = "5";
        synthetic({"<!DOCTYPE html>
    <html>
      <head><title>"} + beresp.status + " " + beresp.reason + {"</title></head>
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
        return (deliver);
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
