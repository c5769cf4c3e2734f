# A VCL 3.x file using most legacy constructs.
backend default { .host = "127.0.0.1"; .port = "8080"; }

sub vcl_recv {
    set req.backend = default;
    if (req.request == "PURGE") {
        purge("req.url == " req.url);
        error 200 "Purged";
    }
    if (req.url ~ "^/old") {
        error 750 "Moved";
    }
    if (req.http.X-Ban) {
        ban_url(req.url);
    }
    set req.grace = 30s;
    return (lookup);
}

sub vcl_fetch {
    if (req.url ~ "\.html$") {
        esi;
    }
    if (beresp.http.Set-Cookie) {
        return (hit_for_pass);
    }
    set obj.grace = 1h;
    set beresp.cacheable = true;
    if (beresp.status == 500) {
        return (restart);
    }
    return (deliver);
}

sub vcl_error {
    if (obj.status == 750) {
        set obj.http.Location = "http://example.com/new";
        set obj.status = 301;
        return (deliver);
    }
    set obj.http.Content-Type = "text/plain";
    synthetic {"Error: "} obj.status;
    return (deliver);
}

sub vcl_pass {
    return (pass);
}

sub vcl_deliver {
    set resp.http.X-Reason = resp.response;
}
