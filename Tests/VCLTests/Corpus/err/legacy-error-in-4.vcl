vcl 4.1;
sub vcl_recv {
    error 750 "moved";
}
