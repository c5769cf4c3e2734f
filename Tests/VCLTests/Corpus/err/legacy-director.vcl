director d round-robin {
    { .backend = a; }
}
