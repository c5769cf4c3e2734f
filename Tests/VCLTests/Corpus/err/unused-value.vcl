vcl 4.1;
import std;
sub vcl_recv {
    std.tolower("A");
}
