vcl 4.1;

# bench/compare --only down: objects live 10 s and are served stale for 60 s more while
# the backend is away. BACKEND_PORT is filled in by bench/compare.
backend origin {
    .host = "127.0.0.1";
    .port = "BACKEND_PORT";
}

sub vcl_backend_response {
    set beresp.ttl = 10s;
    set beresp.grace = 60s;
}
