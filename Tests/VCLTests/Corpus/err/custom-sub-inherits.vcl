vcl 4.1;
sub set_ttl {
    set beresp.ttl = 1h;
}
sub vcl_recv {
    call set_ttl;
}
