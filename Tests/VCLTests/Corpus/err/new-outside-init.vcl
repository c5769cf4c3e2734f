vcl 4.1;
import directors;
sub vcl_recv {
    new rr = directors.round_robin();
}
