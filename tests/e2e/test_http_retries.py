"""HTTP retries: `retry-on` replays a failed idempotent request, and with
`option redispatch` it moves to the other server, with no client error;
same outcome under haproxy (the oracle). A POST is never replayed by Sluice
once sent (the issue asks for idempotent requests only; haproxy 2.6 does
replay a small POST on `retry-on 503`, so that test is Sluice's own)."""

import socket
import threading

import pytest

from e2eutil import LOOPBACK, TcpServer, free_port
from http_helpers import EchoHTTPServer, one_shot


class StatusServer(TcpServer):
    """Reads one request head (and a Content-Length body), answers `status`
    and closes; counts requests per method."""

    def __init__(self, status: int, **kw):
        super().__init__(**kw)
        self.status = status
        self.methods: list[str] = []
        self.mlock = threading.Lock()

    def handle(self, conn, info):
        data = b""
        while b"\r\n\r\n" not in data:
            b = conn.recv(65536)
            if not b:
                return
            data += b
        head, _, body = data.partition(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(body) < n:
            b = conn.recv(65536)
            if not b:
                break
            body += b
        with self.mlock:
            self.methods.append(head.split(b" ")[0].decode())
        msg = b"from %s\n" % self.name.encode()
        conn.sendall(b"HTTP/1.1 %d Oops\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                     % (self.status, len(msg), msg))


class ResetServer(TcpServer):
    """Reads the request, then closes without a word (an empty response)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.requests = 0

    def handle(self, conn, info):
        data = b""
        while b"\r\n\r\n" not in data:
            b = conn.recv(65536)
            if not b:
                return
            data += b
        self.requests += 1
        conn.close()


CONFIG = """
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s

frontend fe
  bind {lo}:{fport}
  default_backend be

backend be
  balance roundrobin
  retries 3
  retry-on {retry_on}
  option redispatch
  server bad {lo}:{bad}
  server good {lo}:{good}
"""


def _run(start_proxy, pbin, servers, bad, retry_on, n=6, method="GET", body=None):
    good = servers(EchoHTTPServer("good"))
    fport = free_port()
    cfg = CONFIG.format(lo=LOOPBACK, fport=fport, bad=bad.port, good=good.port,
                        retry_on=retry_on)
    start_proxy(pbin, cfg, wait_ports=[fport])
    results = []
    for i in range(n):
        status, hdrs, data = one_shot(fport, method, f"/r{i}", {"Host": "x"}, body)
        results.append((status, data))
    return good, results


@pytest.mark.timeout(60)
def test_retry_on_503_moves_get_to_the_other_server(start_proxy, proxy, servers):
    bad = servers(StatusServer(503, name="bad"))
    good, results = _run(start_proxy, proxy, servers, bad, "503")
    assert [s for s, _ in results] == [200] * 6, results
    assert all(b'"server": "good"' in d for _, d in results)
    # Round robin sent about half the requests to the bad server first.
    assert len(bad.methods) >= 2, bad.methods
    assert good.requests == 6


@pytest.mark.timeout(60)
def test_retry_on_empty_response_moves_get(start_proxy, proxy, servers):
    bad = servers(ResetServer(name="bad"))
    good, results = _run(start_proxy, proxy, servers, bad, "empty-response")
    assert [s for s, _ in results] == [200] * 6, results
    assert bad.requests >= 2
    assert good.requests == 6


@pytest.mark.timeout(60)
def test_without_retry_on_the_503_reaches_the_client(start_proxy, proxy, servers):
    bad = servers(StatusServer(503, name="bad"))
    good, results = _run(start_proxy, proxy, servers, bad, "conn-failure")
    statuses = sorted(s for s, _ in results)
    assert statuses.count(503) >= 2 and statuses.count(200) >= 2, statuses
    assert len(bad.methods) == statuses.count(503)


@pytest.mark.timeout(60)
def test_post_is_not_replayed(start_proxy, sluice, servers):
    bad = servers(StatusServer(503, name="bad"))
    good, results = _run(start_proxy, sluice, servers, bad, "503 empty-response", method="POST",
                         body=b"order=1")
    statuses = [s for s, _ in results]
    assert statuses.count(503) == len(bad.methods) >= 2, (statuses, bad.methods)
    assert all(m == "POST" for m in bad.methods)
    assert good.requests == statuses.count(200)


class SilentServer(TcpServer):
    """Reads the request and never answers (until the test ends)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.requests = 0

    def handle(self, conn, info):
        data = b""
        while b"\r\n\r\n" not in data:
            b = conn.recv(65536)
            if not b:
                return
            data += b
        self.requests += 1
        while not self._stop.wait(0.05):
            pass


class JunkServer(TcpServer):
    """Answers something that is not HTTP."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.requests = 0

    def handle(self, conn, info):
        data = b""
        while b"\r\n\r\n" not in data:
            b = conn.recv(65536)
            if not b:
                return
            data += b
        self.requests += 1
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        conn.close()


TIMEOUT_CONFIG = CONFIG.replace("timeout server 5s", "timeout server 300ms")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["response-timeout", "junk-response"])
def test_retry_on_timeout_and_junk(start_proxy, proxy, servers, kind):
    bad = servers(SilentServer(name="bad") if kind == "response-timeout" else JunkServer(name="bad"))
    good = servers(EchoHTTPServer("good"))
    fport = free_port()
    cfg = TIMEOUT_CONFIG.format(lo=LOOPBACK, fport=fport, bad=bad.port, good=good.port,
                                retry_on=kind)
    start_proxy(proxy, cfg, wait_ports=[fport])
    statuses = [one_shot(fport, "GET", f"/t{i}", {"Host": "x"})[0] for i in range(4)]
    assert statuses == [200] * 4
    assert bad.requests >= 1
    assert good.requests == 4


@pytest.mark.timeout(60)
def test_junk_without_retry_is_502(start_proxy, proxy, servers):
    bad = servers(JunkServer(name="bad"))
    good = servers(EchoHTTPServer("good"))
    fport = free_port()
    cfg = CONFIG.format(lo=LOOPBACK, fport=fport, bad=bad.port, good=good.port,
                        retry_on="conn-failure")
    start_proxy(proxy, cfg, wait_ports=[fport])
    statuses = sorted(one_shot(fport, "GET", f"/t{i}", {"Host": "x"})[0] for i in range(4))
    assert 502 in statuses and statuses.count(502) == bad.requests
