"""A client pinned by its persistence cookie to a server that died, under
Sluice and haproxy: with `option redispatch` the request moves to a healthy
server and the client gets that server's cookie; without it the client gets
503 (the dead server is not known DOWN: no health check). When a health
check has marked the server DOWN, the cookie is ignored either way."""

import time

import pytest

from e2eutil import LOOPBACK, free_port, wait_until
from http_helpers import EchoHTTPServer, closed_port, header_values, one_shot

CONFIG = """
defaults
  mode http
  timeout connect 500ms
  timeout client 5s
  timeout server 5s
  retries 2

frontend fe
  bind {lo}:{fport}
  default_backend be

backend be
  balance roundrobin
  cookie SRV insert indirect nocache
  {redispatch}
  server dead {lo}:{dead} cookie d {check}
  server live {lo}:{live} cookie l {check}
"""


def _start(start_proxy, pbin, servers, redispatch, check=""):
    live = servers(EchoHTTPServer("live"))
    fport = free_port()
    cfg = CONFIG.format(lo=LOOPBACK, fport=fport, dead=closed_port(), live=live.port,
                        redispatch="option redispatch" if redispatch else "",
                        check=f"check inter 100ms fall 1 rise 1" if check else "")
    start_proxy(pbin, cfg, wait_ports=[fport])
    return fport, live


@pytest.mark.timeout(60)
def test_pinned_client_is_redispatched(start_proxy, proxy, servers):
    fport, live = _start(start_proxy, proxy, servers, redispatch=True)
    status, hdrs, data = one_shot(fport, "GET", "/", {"Host": "x", "Cookie": "SRV=d"})
    assert status == 200, data
    assert b'"server": "live"' in data
    assert header_values(hdrs, "set-cookie") == ["SRV=l; path=/"]
    # The server does not see the persistence cookie (indirect).
    assert b"SRV=d" not in data


@pytest.mark.timeout(60)
def test_pinned_client_gets_503_without_redispatch(start_proxy, proxy, servers):
    fport, live = _start(start_proxy, proxy, servers, redispatch=False)
    status, hdrs, data = one_shot(fport, "GET", "/", {"Host": "x", "Cookie": "SRV=d"})
    assert status == 503, data
    assert live.requests == 0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("redispatch", [True, False])
def test_cookie_of_a_down_server_is_ignored(start_proxy, proxy, servers, redispatch):
    fport, live = _start(start_proxy, proxy, servers, redispatch=redispatch, check=True)
    time.sleep(0.6)  # the check marks "dead" DOWN (fall 1, inter 100ms)
    for _ in range(3):
        status, hdrs, data = one_shot(fport, "GET", "/", {"Host": "x", "Cookie": "SRV=d"})
        assert status == 200, data
        assert b'"server": "live"' in data
        assert header_values(hdrs, "set-cookie") == ["SRV=l; path=/"]
