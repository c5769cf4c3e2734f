vcl 4.1;
sub vcl_recv {
    std.log("x");
}
