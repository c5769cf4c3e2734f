# Variant of shop-4.1.vcl with only its vcl_deliver, to split the VCL cost by subroutine (bench/vcl-hits).
# The online shop seed's configuration (seeds/vcl/shop-varnish3.vcl) in VCL 4.1, so that
# Varnish 7 and Shellac run the very same file. The backend address is a placeholder that
# bench/vcl-hits rewrites.
vcl 4.1;
import std;

backend default { .host = "127.0.0.1"; .port = "BACKEND_PORT"; }

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache-Action = "HIT";
        set resp.http.X-Cache-Hits = obj.hits;
    } else {
        set resp.http.X-Cache-Action = "MISS";
    }
}
