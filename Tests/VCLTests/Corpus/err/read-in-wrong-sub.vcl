vcl 4.1;
sub vcl_backend_response {
    if (req.url ~ "^/a") {
        set beresp.ttl = 1s;
    }
}
