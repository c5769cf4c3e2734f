vcl 4.1;
sub vcl_deliver {
    set obj.hits = 1;
}
