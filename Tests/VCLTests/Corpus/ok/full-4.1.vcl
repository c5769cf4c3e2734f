vcl 4.1;

import std;
import directors;

probe healthcheck {
    .url = "/health";
    .expected_response = 200;
    .timeout = 1s;
    .interval = 5s;
    .window = 5;
    .threshold = 3;
    .initial = 2;
}

backend web1 {
    .host = "127.0.0.1";
    .port = "8080";
    .connect_timeout = 1s;
    .first_byte_timeout = 15s;
    .between_bytes_timeout = 2s;
    .max_connections = 100;
    .probe = healthcheck;
}

backend web2 {
    .host = "127.0.0.2";
    .port = "8080";
    .probe = {
        .request = "GET /ping HTTP/1.1"
                   "Host: example.com"
                   "Connection: close";
        .interval = 2s;
    }
}

acl purgers {
    "localhost";
    "10.0.0.0"/8;
    !"10.1.2.3";
    "::1";
}

sub vcl_init {
    new cluster = directors.round_robin();
    cluster.add_backend(web1);
    cluster.add_backend(web2);
    new spread = directors.random();
    spread.add_backend(web1, 10);
    spread.add_backend(web2, 5.5);
    new sticky = directors.hash();
    sticky.add_backend(web1, 1);
    new safe = directors.fallback();
    safe.add_backend(web1);
    safe.add_backend(web2);
}

sub normalize {
    set req.http.Host = regsub(req.http.Host, ":[0-9]+$", "");
    set req.url = std.querysort(req.url);
    std.collect(req.http.Cookie);
}

sub vcl_recv {
    call normalize;
    set req.backend_hint = cluster.backend();
    if (req.url ~ "^/sticky/") {
        set req.backend_hint = sticky.backend(req.http.cookie);
    } elseif (req.url ~ "^/safe/") {
        set req.backend_hint = safe.backend();
    } elsif (req.url ~ "^/spread/") {
        set req.backend_hint = spread.backend();
    } else if (req.url ~ "^/web2/") {
        set req.backend_hint = web2;
    } else {
        std.log("default route for " + req.url);
    }
    if (req.method == "PURGE") {
        if (!client.ip ~ purgers) {
            return (synth(405, "Not allowed"));
        }
        return (purge);
    }
    if (req.method == "BAN") {
        ban("req.url ~ " + req.url);
        return (synth(200, "Banned"));
    }
    if (req.http.X-Debug && std.healthy(req.backend_hint)) {
        set req.http.X-Restarts = req.restarts;
        set req.ttl = 10m;
        set req.grace = 1h + 30s;
        set req.hash_always_miss = true;
    }
    set req.http.X-Count = std.integer(req.http.X-Count, 0) + 1;
    set req.http.X-Big = 10KB > 2048B;
    set req.http.X-Ratio = std.real("1.5", 0.0) * 2;
    set req.http.X-Wait = std.duration("1.5m", 1s);
    set req.http.X-Addr = std.ip("192.0.2.1", client.ip);
    set req.http.X-Lower = std.tolower("ABC") + std.toupper("def");
    set req.http.X-Now = now;
    set req.http.X-Server = server.hostname + " " + server.identity + " " + server.ip + " " + local.ip + " " + remote.ip;
    std.timestamp("recv");
    std.syslog(6, "syslog line");
    if (std.cache_req_body(1MB)) {
        set req.http.X-Body = "cached";
    }
    if (req.http.Authorization || req.http.Cookie ~ "session=") {
        return (pass);
    }
}

sub vcl_hash {
    hash_data(req.url);
    if (req.http.X-Variant) {
        hash_data(req.http.X-Variant);
    }
}

sub vcl_hit {
    if (obj.ttl >= 0s) {
        return (deliver);
    }
    if (obj.ttl + obj.grace > 0s) {
        return (deliver);
    }
    return (miss);
}

sub vcl_miss {
    return (fetch);
}

sub vcl_backend_fetch {
    set bereq.http.X-Forwarded-Host = bereq.http.Host;
    unset bereq.http.Cookie;
    set bereq.first_byte_timeout = 30s;
}

sub vcl_backend_response {
    if (beresp.status >= 500 && bereq.retries < 2) {
        return (retry);
    }
    if (bereq.url ~ "\.(css|js|png)$") {
        unset beresp.http.Set-Cookie;
        set beresp.ttl = 1d;
        set beresp.grace = 6h;
        set beresp.keep = 1w;
    }
    if (beresp.http.Content-Type ~ "text") {
        set beresp.do_gzip = true;
        set beresp.do_esi = true;
    }
    if (beresp.http.X-No-Cache) {
        return (pass(30s));
    }
    set beresp.http.X-Backend = beresp.backend.name;
}

sub vcl_backend_error {
    set beresp.http.X-Error = beresp.status;
}

sub vcl_deliver {
    set resp.http.X-Hits = obj.hits;
    set resp.http.X-Age = obj.age;
    unset resp.http.Via;
    if (resp.status == 404 && req.restarts < 1) {
        return (restart);
    }
}

sub vcl_synth {
    if (resp.status == 720) {
        set resp.http.Location = req.http.X-Location;
        set resp.status = 301;
        return (deliver);
    }
    synthetic({"<p>"} + resp.reason + {"</p>"});
    return (deliver);
}
