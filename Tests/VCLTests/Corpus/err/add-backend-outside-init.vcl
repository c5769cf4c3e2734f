vcl 4.1;
import directors;
backend b { .host = "h"; }
sub vcl_init { new rr = directors.round_robin(); }
sub vcl_recv {
    rr.add_backend(b);
}
