vcl 4.1;
backend a { .host = "a"; }
/* a comment
   /* with another opening inside
*/
