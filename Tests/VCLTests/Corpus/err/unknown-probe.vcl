vcl 4.1;
backend b {
    .host = "h";
    .probe = nothere;
}
