#!/usr/bin/env python3
"""Slow origin for bench/compare: stands in for the seed's single-threaded Twisted server.

* GET/HEAD /<file>       a file from --docroot, after --delay-ms, under ONE global lock, so
                         requests are served one at a time like a single-threaded Twisted
                         reactor; `Cache-Control: max-age=3600`.
* GET/HEAD /slow500/<x>  waits --coalesce-ms (no lock: concurrent requests all wait in
                         parallel), then answers --coalesce-size deterministic bytes,
                         cacheable (`max-age=3600`).
* GET /__stats           JSON {"<port> <path>": count, ...} of every request above, per
                         listening port (each accelerator gets its own port, so requests are
                         attributed to the accelerator that made them). Not counted itself.

It listens on every port given with --port (repeatable), all on 127.0.0.1 only.
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {}
COUNTS_LOCK = threading.Lock()
APP_LOCK = threading.Lock()  # the "single-threaded Twisted" lock
FILES = {}
ARGS = None


def coalesce_body(size):
    pattern = b"shellac-coalesce-0123456789abcdef\n"
    return (pattern * (size // len(pattern) + 1))[:size]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SlowOrigin/1"
    sys_version = ""

    def log_message(self, *a):  # no per-request logging
        pass

    def _count(self, path):
        key = "%d %s" % (self.server.server_address[1], path)
        with COUNTS_LOCK:
            COUNTS[key] = COUNTS.get(key, 0) + 1

    def _send(self, status, body, ctype="application/octet-stream", cacheable=True):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if cacheable:
            self.send_header("Cache-Control", "max-age=3600")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/__stats":
            with COUNTS_LOCK:
                body = json.dumps(COUNTS).encode()
            self._send(200, body, "application/json", cacheable=False)
            return
        if path.startswith("/slow500/"):
            self._count(path)
            time.sleep(ARGS.coalesce_ms / 1000.0)
            self._send(200, ARGS.coalesce_payload)
            return
        name = path.lstrip("/")
        body = FILES.get(name)
        if body is None:
            self._send(404, b"not found\n", "text/plain", cacheable=False)
            return
        self._count(path)
        with APP_LOCK:
            time.sleep(ARGS.delay_ms / 1000.0)
            self._send(200, body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, action="append", required=True)
    p.add_argument("--docroot", required=True)
    p.add_argument("--delay-ms", type=float, default=20.0)
    p.add_argument("--coalesce-ms", type=float, default=500.0)
    p.add_argument("--coalesce-size", type=int, default=65536)
    ARGS = p.parse_args()
    ARGS.coalesce_payload = coalesce_body(ARGS.coalesce_size)
    for name in os.listdir(ARGS.docroot):
        full = os.path.join(ARGS.docroot, name)
        if os.path.isfile(full):
            with open(full, "rb") as f:
                FILES[name] = f.read()
    servers = [Server(("127.0.0.1", port), Handler) for port in ARGS.port]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("slow origin ready on", ARGS.port, flush=True)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
