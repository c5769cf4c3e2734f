vcl 5.0;
