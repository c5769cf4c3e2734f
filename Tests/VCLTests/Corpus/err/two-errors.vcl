vcl 4.1;
sub vcl_recv {
    set req.nope = 1;
    set req.url = 1s +;
}
