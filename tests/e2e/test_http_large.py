"""HTTP mode: large bodies relayed over keep-alive connections by several
clients at once, compared byte for byte. A relay that stops reading a socket
with data still pending (edge-triggered epoll) stalls such a connection until
the client gives up; this test sees that as a timeout."""

import http.client
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from e2eutil import LOOPBACK, Proxy, free_port

# A body full of CR, LF and every other byte value, 1 MiB.
BODY = bytes(range(256)) * 4096
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\n\r\n" % len(BODY)) + BODY
CLIENTS = 4
REQUESTS = 6

CONFIG = """
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 20s
    timeout server 20s
    http-reuse always
frontend fe
    bind {lo}:{fe}
    default_backend be
backend be
    server o1 {lo}:{origin}
"""


class _Origin(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        # Head and body in one write, so the body is all there at once and
        # the relay can read it faster than a client drains it.
        self.wfile.write(RESPONSE)

    def do_POST(self):  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.mark.timeout(90)
def test_large_bodies_over_keepalive_concurrently(proxy, tmp_path):
    origin = ThreadingHTTPServer((LOOPBACK, 0), _Origin)
    origin.daemon_threads = True
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    fe = free_port()
    p = Proxy(proxy.kind, proxy.path, tmp_path,
              CONFIG.format(lo=LOOPBACK, fe=fe, origin=origin.server_address[1]))
    p.start(wait_ports=[fe])
    failures: list[str] = []

    def client(idx: int):
        try:
            conn = http.client.HTTPConnection(LOOPBACK, fe, timeout=10)
            for i in range(REQUESTS):
                if i % 2:
                    conn.request("POST", f"/up/{idx}/{i}", body=BODY)
                else:
                    conn.request("GET", f"/down/{idx}/{i}")
                r = conn.getresponse()
                data = r.read()
                if r.status != 200 or data != BODY:
                    failures.append(f"client {idx} request {i}: status {r.status}, "
                                    f"{len(data)} bytes, equal={data == BODY}")
                    return
            conn.close()
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            failures.append(f"client {idx}: {e!r}")

    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads), "a client is still running after 60 s"
        assert failures == []
    finally:
        p.stop()
        origin.shutdown()


@pytest.mark.timeout(60)
def test_large_responses_do_not_stall_a_fast_reader(proxy, tmp_path):
    """wrk reads as fast as the relay writes: before the fix, Sluice stopped
    reading the server after 64 steps of 16 KiB with data still pending, and
    each connection hung after a request or two (5 requests in 3 s instead of
    thousands). A hang detector, not a speed figure: 2 connections for 2 s
    must complete at least 10 responses of 1 MiB without a socket error."""
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed (tools/debian-packages.txt)")
    origin = ThreadingHTTPServer((LOOPBACK, 0), _Origin)
    origin.daemon_threads = True
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    fe = free_port()
    p = Proxy(proxy.kind, proxy.path, tmp_path,
              CONFIG.format(lo=LOOPBACK, fe=fe, origin=origin.server_address[1]))
    p.start(wait_ports=[fe])
    try:
        r = subprocess.run(["wrk", "-t1", "-c2", "-d2s", "--timeout", "5s",
                            f"http://{LOOPBACK}:{fe}/big"],
                           capture_output=True, text=True, timeout=30)
        m = re.search(r"(\d+) requests in", r.stdout)
        assert m, r.stdout + r.stderr
        assert "Socket errors" not in r.stdout, r.stdout
        assert "Non-2xx" not in r.stdout, r.stdout
        assert int(m.group(1)) >= 10, r.stdout
    finally:
        p.stop()
        origin.shutdown()
