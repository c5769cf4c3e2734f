vcl 4.1;
import directors;
sub vcl_init {
    new rr = directors.round_robin();
    rr.add_backend(ghost);
}
