vcl 4.1;
backend a { .host = "a"; }
sub c1 { }
sub c1 { }
sub vcl_recv { call c1; }
