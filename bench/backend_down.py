#!/usr/bin/env python3
"""bench/compare's "down" part: the backend dies under load and comes back.

Each accelerator runs bench/vcl/grace-down.vcl (TTL 10 s, grace 60 s) in front of a small
origin (this file, run as `backend_down.py origin PORT`). wrk sends 60 s of load at 25
connections over 100 URLs; the origin is killed (SIGKILL) at 20 s and started again at 40 s.
The figure is the number of responses that were not 200, and wrk's socket errors.
Accelerators run one after the other (the run is a timeline, not a throughput race).
"""
import os
import sys
import time

URLS = 100
BODY = b"x" * 1024


def serve(port):
    """The origin: every path is a 1 KiB 200 that may be cached for 10 s."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Cache-Control", "max-age=10")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


WRK_SCRIPT = """
local n = %d
request = function()
  return wrk.format("GET", "/down/" .. math.random(1, n))
end
""" % URLS


def part_down(compare, servers, out):
    """Runs the timeline against each server; `compare` is bench/compare's module namespace."""
    args = compare.ARGS
    tmp = servers[0].tmp if servers else "/tmp"
    port = args.base_port + 30
    vcl = os.path.join(compare.BENCH, "vcl", "grace-down.vcl")
    lua = os.path.join(tmp, "down.lua")
    with open(lua, "w") as f:
        f.write(WRK_SCRIPT)
    duration, kill_at, back_at = args.down_seconds, args.down_seconds / 3, 2 * args.down_seconds / 3
    out.append("### Backend down: %d s of load at 25 connections, origin killed at %d s and back at %d s"
               % (duration, kill_at, back_at))
    out.append("")
    rows = []
    saved_vcl = args.vcl
    args.vcl = vcl
    try:
        for s in servers:
            if s.name == "nginx":
                continue  # no grace in nginx's proxy_cache configuration here
            origin = start_origin(compare, port, tmp)
            if not s.start(port, "256m"):
                rows.append([s.name, "failed to start", "-", "-", s.error[:120]])
                compare.kill_proc(origin)
                continue
            # Warm every URL once, so that the run starts from a full cache.
            for index in range(1, URLS + 1):
                try:
                    compare.http_get(s.port, "/down/%d" % index, timeout=5)
                except Exception:
                    pass
            wrk = compare.spawn(compare.pin(compare.CLIENT_CORE) + [
                "wrk", "-t1", "-c25", "-d%ds" % duration, "--latency", "-s", lua,
                "http://127.0.0.1:%d/" % s.port], os.path.join(tmp, "down-wrk-%s.log" % s.name))
            t0 = time.monotonic()
            time.sleep(max(0, kill_at - (time.monotonic() - t0)))
            compare.kill_proc(origin, grace=0)
            compare.log("down: origin killed at %.1f s" % (time.monotonic() - t0))
            time.sleep(max(0, back_at - (time.monotonic() - t0)))
            origin = start_origin(compare, port, tmp)
            compare.log("down: origin back at %.1f s" % (time.monotonic() - t0))
            wrk.wait(timeout=duration + 30)
            with open(os.path.join(tmp, "down-wrk-%s.log" % s.name)) as f:
                text = f.read()
            requests = _field(text, r"(\d+) requests in")
            non2xx = _field(text, r"Non-2xx or 3xx responses: (\d+)") or 0
            errors = _socket_errors(text)
            verdict = "PASS" if non2xx == 0 and errors == 0 else "non-200 seen"
            rows.append([s.name, requests if requests is not None else "?", non2xx, errors, verdict])
            compare.log("down %s: %s requests, %s non-2xx, %s socket errors" % (s.name, requests, non2xx, errors))
            s.stop()
            compare.kill_proc(origin, grace=0)
    finally:
        args.vcl = saved_vcl
    out += compare.table(["server", "responses", "non-200", "socket errors", "verdict"], rows)
    out.append("")
    out.append("Both run `bench/vcl/grace-down.vcl` (TTL 10 s, grace 60 s, no probe); the cache is "
               "warmed with the 100 URLs first. Bar: Shellac 0 non-200 responses.")
    out.append("")


def start_origin(compare, port, tmp):
    proc = compare.spawn(compare.pin(compare.CLIENT_CORE) + [sys.executable, os.path.abspath(__file__), "origin",
                                                             str(port)], os.path.join(tmp, "down-origin.log"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not compare.port_open(port):
        time.sleep(0.05)
    return proc


def _field(text, pattern):
    import re
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def _socket_errors(text):
    import re
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return sum(int(x) for x in m.groups()) if m else 0


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "origin":
    serve(int(sys.argv[2]))
