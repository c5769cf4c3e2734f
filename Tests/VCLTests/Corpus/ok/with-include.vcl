vcl 4.1;
include "../include/common.vcl";

backend default { .host = "127.0.0.1"; .port = "80"; }

sub vcl_deliver {
    call add_header;
}
