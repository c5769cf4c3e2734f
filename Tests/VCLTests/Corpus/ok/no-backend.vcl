vcl 4.1;
# No backend: the server supplies one (-b).
sub vcl_recv {
    if (req.url == "/ping") { return (synth(200, "pong")); }
}
