vcl 4.1;
acl local {
    "10.0.0.0"/33;
}
