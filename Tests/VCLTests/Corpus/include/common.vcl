# Included from ok/with-include.vcl; resolved relative to the including file.
sub add_header {
    set resp.http.X-Included = "yes";
}
