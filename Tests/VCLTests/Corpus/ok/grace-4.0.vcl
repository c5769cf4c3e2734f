vcl 4.0;
# The VCL 4.0 grace recipe: vcl_hit returning fetch (read as miss).
import std;

backend default {
    .host = "127.0.0.1";
    .port = "8080";
    .probe = { .url = "/"; .interval = 5s; .timeout = 1s; .window = 5; .threshold = 3; }
}

sub vcl_hit {
    if (obj.ttl >= 0s) {
        return (deliver);
    }
    if (std.healthy(req.backend_hint)) {
        if (obj.ttl + 10s > 0s) {
            return (deliver);
        } else {
            return (fetch);
        }
    } else {
        if (obj.ttl + obj.grace > 0s) {
            return (deliver);
        } else {
            return (fetch);
        }
    }
}

sub vcl_backend_response {
    set beresp.grace = 6h;
}
