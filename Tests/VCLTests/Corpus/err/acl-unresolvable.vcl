vcl 4.1;
acl a {
    "no-such-host.invalid";
}
