vcl 4.1;
sub vcl_miss {
    return (pass(10s));
}
