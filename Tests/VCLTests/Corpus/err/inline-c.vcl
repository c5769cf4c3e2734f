vcl 4.1;
C{ int x; }C
