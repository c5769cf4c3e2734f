vcl 4.1;
import directors;
sub vcl_init {
    new x = directors.nosuch();
}
