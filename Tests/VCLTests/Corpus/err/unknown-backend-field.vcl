vcl 4.1;
backend b {
    .host = "localhost";
    .speed = 10;
}
