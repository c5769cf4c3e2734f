vcl 4.1;
sub vcl_recv {
    if (req.request == "GET") { return (hash); }
}
