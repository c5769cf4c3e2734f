vcl 4.1;
sub vcl_synth {
    synthetic({"never closed);
}
