vcl 4.1;
sub vcl_recv {
    call nothing_here;
}
