vcl 4.1;
probe p {
    .window = 3;
    .threshold = 5;
}
