vcl 4.1;
sub decide {
    return (lookup);
}
sub vcl_recv {
    call decide;
}
