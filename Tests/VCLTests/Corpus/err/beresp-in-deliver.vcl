vcl 4.1;
sub vcl_deliver {
    set resp.http.X = beresp.http.Y;
}
