vcl 4.1;
sub vcl_recv {
    if (req.restarts == true) { return (pass); }
}
