"""HTTP keep-alive client connections between requests. Sluice parks an idle
connection in a small record and frees its session (see IdleConn in
src/httpmode/session.h); these tests check that parked connections behave
exactly like live ones: they serve their next request, time out after
`timeout http-keep-alive`, and end cleanly on a soft stop."""

import http.client
import json
import signal
import socket
import time

import pytest

from e2eutil import LOOPBACK, free_port, wait_until
from http_helpers import EchoHTTPServer, header_values, request

CONFIG = """
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive {ka}

frontend fe
    bind 127.0.0.1:{fe}
    default_backend app

backend app
    server s1 127.0.0.1:{srv}
"""


def _get(sock: socket.socket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: app\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                  if ln.lower().startswith(b"content-length:")][0])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.mark.timeout(60)
def test_many_idle_connections_serve_their_next_request(proxy, start_proxy, servers):
    backend = servers(EchoHTTPServer("app"))
    fe = free_port()
    start_proxy(proxy, CONFIG.format(ka="20s", fe=fe, srv=backend.port), wait_ports=[fe])
    conns = [http.client.HTTPConnection(LOOPBACK, fe, timeout=10) for _ in range(200)]
    for round_ in range(3):
        for i, c in enumerate(conns):
            status, _, data = request(c, "GET", f"/c{i}/r{round_}", {"Host": "app"})
            assert status == 200
            assert json.loads(data)["path"] == f"/c{i}/r{round_}"
        time.sleep(0.2)  # every connection idle (parked) before the next round
    for c in conns:
        c.close()
    assert backend.requests == 600


@pytest.mark.timeout(60)
def test_idle_connection_closed_after_keepalive_timeout(proxy, start_proxy, servers):
    backend = servers(EchoHTTPServer("app"))
    fe = free_port()
    start_proxy(proxy, CONFIG.format(ka="400ms", fe=fe, srv=backend.port), wait_ports=[fe])
    with socket.create_connection((LOOPBACK, fe), timeout=10) as s:
        assert _get(s, "/one").startswith(b"HTTP/1.1 200")
        time.sleep(0.05)
        assert _get(s, "/two").startswith(b"HTTP/1.1 200"), "closed before the timeout"
        t0 = time.monotonic()
        s.settimeout(10)
        assert s.recv(1) == b"", "the proxy must close the idle connection"
        waited = time.monotonic() - t0
        assert 0.2 <= waited < 8, f"closed after {waited:.2f} s, timeout is 0.4 s"


@pytest.mark.timeout(60)
@pytest.mark.sluice_only
def test_soft_stop_answers_parked_connection_with_close(sluice, start_proxy, servers):
    """An idle keep-alive connection during a soft stop is not closed under
    the client's feet: its next request is served with Connection: close."""
    backend = servers(EchoHTTPServer("app"))
    fe = free_port()
    p = start_proxy(sluice, CONFIG.format(ka="20s", fe=fe, srv=backend.port), wait_ports=[fe])
    conns = [http.client.HTTPConnection(LOOPBACK, fe, timeout=10) for _ in range(5)]
    for c in conns:
        assert request(c, "GET", "/before", {"Host": "app"})[0] == 200
    time.sleep(0.2)
    p.signal(signal.SIGUSR1)
    time.sleep(0.3)
    for c in conns:
        status, hdrs, _ = request(c, "GET", "/after", {"Host": "app"})
        assert status == 200
        assert [v.lower() for v in header_values(hdrs, "connection")] == ["close"]
        c.close()
    wait_until(lambda: not p.alive(), 10, what="sluice exits once its connections are done")
