# An empty vcl_recv: the VCL-driven request path with (almost) no VCL, for bench/vcl-hits.
vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "BACKEND_PORT"; }
sub vcl_recv { }
