vcl 4.1;
sub vcl_recv {
    if (obj.hits > 0) { return (pass); }
}
