vcl 4.1;
sub vcl_backend_fetch {
    return (synth(500, "x"));
}
