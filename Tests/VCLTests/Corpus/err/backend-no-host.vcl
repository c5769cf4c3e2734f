vcl 4.1;
backend a { .port = "80"; }
