backend b { .host = "h"; }
sub vcl_deliver {
    set beresp.ttl = 1s;
}
