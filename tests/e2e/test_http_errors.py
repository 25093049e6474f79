"""Custom error pages (errorfile, errorfiles/http-errors, errorloc) served
when Sluice answers by itself, differential against Debian's haproxy: for
the same config and request both must send the same bytes. The backend's
page wins when a backend was chosen; else the frontend's."""

import socket

import pytest

from e2eutil import LOOPBACK, free_port, recv_all
from http_helpers import closed_port

SITE_503 = (b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\n"
            b"Connection: close\r\nContent-Type: text/html\r\nX-Site: down-page\r\n\r\n"
            b"<html><body><h1>We are down for a moment</h1></body></html>\n")
SITE_504 = (b"HTTP/1.1 504 Too Slow\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n"
            b"too slow\n")
SITE_403 = b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\nnot you\n"
GROUP_503 = b"HTTP/1.1 503 Group\r\nContent-Length: 6\r\nX-From: group\r\n\r\ngroup\n"

CONFIG = """
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  retries 1

http-errors site
  errorfile 503 {group503}

frontend own_page
  bind {lo}:{p1}
  default_backend down

frontend fe_fallback
  bind {lo}:{p2}
  errorloc 503 http://status.example.com/down
  default_backend down_plain

frontend imported
  bind {lo}:{p3}
  default_backend down_group

frontend slow
  bind {lo}:{p4}
  default_backend slow

frontend denied
  bind {lo}:{p5}
  errorfile 403 {site403}
  http-request deny if {{ path_beg /private }}
  default_backend slow

backend down
  errorfile 503 {site503}
  server a {lo}:{dead1}
  server b {lo}:{dead2}

backend down_plain
  server a {lo}:{dead1}

backend down_group
  errorfiles site
  server a {lo}:{dead1}

backend slow
  timeout server 300ms
  errorfile 504 {site504}
  server a {lo}:{hold}
"""

REQUESTS = {
    "http/1.0": b"GET /private HTTP/1.0\r\n\r\n",
    "close": b"GET /private/x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
}


def _exchange(port: int, req: bytes) -> bytes:
    s = socket.create_connection((LOOPBACK, port), timeout=10)
    try:
        s.sendall(req)
        return recv_all(s, timeout=10)
    finally:
        s.close()


@pytest.fixture
def setup(tmp_path):
    (tmp_path / "503.http").write_bytes(SITE_503)
    (tmp_path / "504.http").write_bytes(SITE_504)
    (tmp_path / "g503.http").write_bytes(GROUP_503)
    (tmp_path / "403.http").write_bytes(SITE_403)
    hold = socket.socket()
    hold.bind((LOOPBACK, 0))
    hold.listen(16)  # accepts (kernel backlog) and never answers
    ports = [free_port() for _ in range(5)]
    cfg = CONFIG.format(lo=LOOPBACK, p1=ports[0], p2=ports[1], p3=ports[2], p4=ports[3],
                        p5=ports[4], site403=tmp_path / "403.http",
                        dead1=closed_port(), dead2=closed_port(), hold=hold.getsockname()[1],
                        site503=tmp_path / "503.http", site504=tmp_path / "504.http",
                        group503=tmp_path / "g503.http")
    yield cfg, ports
    hold.close()


def _answers(start_proxy, pbin, cfg, ports):
    start_proxy(pbin, cfg, wait_ports=ports, name=pbin.kind)
    out = {}
    for i, port in enumerate(ports):
        for rname, req in REQUESTS.items():
            out[(i, rname)] = _exchange(port, req)
    return out


@pytest.mark.timeout(60)
def test_error_pages_match_haproxy(start_proxy, sluice, haproxy, setup):
    cfg, ports = setup
    got = _answers(start_proxy, sluice, cfg, ports)
    want = _answers(start_proxy, haproxy, cfg, ports)
    # The site's own page, with its headers lowercased and its Connection dropped.
    assert got[(0, "http/1.0")].endswith(b"We are down for a moment</h1></body></html>\n")
    assert b"x-site: down-page\r\n" in got[(0, "http/1.0")]
    assert b"location: http://status.example.com/down\r\n" in got[(1, "close")]
    assert got[(2, "close")].startswith(b"HTTP/1.1 503 Group\r\n")
    assert got[(3, "close")].startswith(b"HTTP/1.1 504 Too Slow\r\n")
    assert got[(4, "close")].endswith(b"\r\n\r\nnot you\n")  # http-request deny: the 403 page
    diffs = [f"{k}: sluice {got[k]!r}\n      haproxy {want[k]!r}" for k in got if got[k] != want[k]]
    assert not diffs, "\n".join(diffs)


@pytest.mark.timeout(30)
def test_site_page_when_all_servers_are_down(start_proxy, proxy, setup):
    """A keep-alive client also gets the site's page (status and body)."""
    cfg, ports = setup
    start_proxy(proxy, cfg, wait_ports=ports)
    s = socket.create_connection((LOOPBACK, ports[0]), timeout=10)
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        s.settimeout(10)
        data = b""
        while b"</html>\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.0 503 Service Unavailable\r\n"), data
    assert data.endswith(b"<html><body><h1>We are down for a moment</h1></body></html>\n"), data
