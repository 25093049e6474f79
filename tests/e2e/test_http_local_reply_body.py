"""A local reply (deny, return) to a request that carries a body: when the
whole body has already arrived, the connection serves the next request, as
haproxy does; when it has not, the reply says `connection: close` and the
connection ends. Differential against Debian's haproxy."""

import re
import socket
import time

import pytest

from e2eutil import LOOPBACK, free_port
from http_helpers import EchoHTTPServer

CONFIG = """
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  timeout http-request 5s

frontend fe
  bind {lo}:{port}
  http-request deny deny_status 403 if {{ path /deny }}
  http-request return status 200 content-type text/plain string ok if {{ path /ret }}
  default_backend app

backend app
  server s1 {lo}:{srv}
"""


def read_response(s: socket.socket, deadline: float) -> tuple[int, dict, bytes] | None:
    """One response (content-length framed); None when the peer closed first."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, hdrs, rest[:n]


def closed_soon(s: socket.socket, timeout: float) -> bool:
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


CASES = [
    # (name, first request bytes, whether the connection may serve another)
    ("deny, content-length body all sent",
     b"POST /deny HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", True),
    ("return, chunked body all sent",
     b"POST /ret HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     True),
    ("deny, body not all sent",
     b"POST /deny HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello", False),
]


def run_cases(port: int) -> list[dict]:
    out = []
    for name, first, _ in CASES:
        s = socket.create_connection((LOOPBACK, port), timeout=5)
        try:
            s.sendall(first)
            deadline = time.monotonic() + 5
            r1 = read_response(s, deadline)
            assert r1 is not None, name
            keeps = r1[1].get("connection", "").lower() != "close"
            second = None
            if keeps:
                s.sendall(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
                r2 = read_response(s, time.monotonic() + 5)
                second = r2[0] if r2 else None
            else:
                second = "closed" if closed_soon(s, 3) else "open"
            out.append({"case": name, "status": r1[0], "keeps": keeps, "then": second})
        finally:
            s.close()
    return out


@pytest.mark.timeout(60)
def test_local_reply_keeps_connection_when_body_is_in(start_proxy, sluice, haproxy, servers):
    app = servers(EchoHTTPServer("s1"))
    results = {}
    for pbin in (sluice, haproxy):
        port = free_port()
        p = start_proxy(pbin, CONFIG.format(lo=LOOPBACK, port=port, srv=app.port),
                        wait_ports=[port], name=pbin.kind)
        results[pbin.kind] = run_cases(port)
        p.stop()
    got = results["sluice"]
    assert [r["keeps"] for r in got] == [c[2] for c in CASES], got
    assert got[0]["status"] == 403 and got[0]["then"] == 200, got
    assert got[1]["status"] == 200 and got[1]["then"] == 200, got
    assert got[2]["then"] == "closed", got
    assert got == results["haproxy"], f"sluice {got}\nhaproxy {results['haproxy']}"
