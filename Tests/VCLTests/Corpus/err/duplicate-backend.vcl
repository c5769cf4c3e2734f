vcl 4.1;
backend a { .host = "a"; }
backend a { .host = "b"; }
