# Variant of shop-4.1.vcl without vcl_deliver, to split the VCL cost by subroutine (bench/vcl-hits).
# The online shop seed's configuration (seeds/vcl/shop-varnish3.vcl) in VCL 4.1, so that
# Varnish 7 and Shellac run the very same file. The backend address is a placeholder that
# bench/vcl-hits rewrites.
vcl 4.1;
import std;

backend default { .host = "127.0.0.1"; .port = "BACKEND_PORT"; }

sub vcl_recv {
    if (req.http.cookie ~ "JSESSIONID") {
        std.log("found jsessionid in request, passing to backend server");
        return (pass);
    } else {
        unset req.http.cookie;
    }
}

sub vcl_backend_response {
    if (bereq.http.cookie ~ "JSESSIONID" || bereq.method == "POST") {
        set beresp.uncacheable = true;
        return (deliver);
    }
    unset beresp.http.set-cookie;
    set beresp.ttl = 600s;
}

