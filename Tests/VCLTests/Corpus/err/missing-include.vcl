vcl 4.1;
include "does-not-exist.vcl";
