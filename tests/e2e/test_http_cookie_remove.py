"""`cookie NAME insert` and servers without a cookie value, differential
against haproxy: where a cookie would be inserted and the chosen server has
none, both send "NAME=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/" (with
the cookie's domain / HttpOnly / Secure / attr options, never dates) so the
client forgets a stale cookie. Same status, Set-Cookie and Cache-Control."""

import pytest

from e2eutil import LOOPBACK, free_port
from http_helpers import EchoHTTPServer, header_values, one_shot

CONFIG = """
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s

listen opts
  bind {lo}:{p0}
  cookie SERVERID insert indirect nocache httponly secure domain .a.com attr "SameSite=Lax" maxidle 30m
  server s1 {lo}:{srv}

listen post
  bind {lo}:{p1}
  cookie SERVERID insert postonly
  server s1 {lo}:{srv}

listen mixed
  bind {lo}:{p2}
  cookie SERVERID insert
  server s2 {lo}:{srv}
  server s1 {lo}:{srv} cookie s1 backup

listen keep
  bind {lo}:{p3}
  cookie SERVERID insert preserve
  server s1 {lo}:{srv}

listen rewrite
  bind {lo}:{p4}
  cookie SERVERID rewrite
  server s1 {lo}:{srv}
"""

# (listen index, name, method, path, Cookie header or None)
SCRIPT = [
    (0, "no cookie value, no client cookie", "GET", "/", None),
    (0, "cacheable response", "GET", "/cc-max", None),
    (0, "client cookie naming no server", "GET", "/", "SERVERID=s1"),
    (1, "postonly GET: nothing", "GET", "/", None),
    (1, "postonly POST: removal", "POST", "/", None),
    (2, "active server without value: removal", "GET", "/", None),
    (2, "valid cookie for the backup s1: nothing", "GET", "/", "SERVERID=s1"),
    (2, "unknown cookie: removal", "GET", "/", "SERVERID=zz"),
    (3, "preserve: the server's own cookie kept", "GET", "/set-own", None),
    (3, "preserve without one: removal", "GET", "/", None),
    (4, "rewrite mode: never", "GET", "/", None),
]


def observe(ports):
    out = []
    for idx, name, method, path, cookie in SCRIPT:
        headers = {"Host": "x"}
        if cookie is not None:
            headers["Cookie"] = cookie
        body = b"" if method == "POST" else None
        status, hdrs, _ = one_shot(ports[idx], method, path, headers, body)
        out.append({"request": name, "status": status,
                    "set-cookie": header_values(hdrs, "set-cookie"),
                    "cache-control": header_values(hdrs, "cache-control")})
    return out


@pytest.mark.timeout(60)
def test_cookie_removal_matches_haproxy(start_proxy, sluice, haproxy, servers):
    app = servers(EchoHTTPServer("s1"))
    results = {}
    for pbin in (haproxy, sluice):
        ports = [free_port() for _ in range(5)]
        cfg = CONFIG.format(lo=LOOPBACK, p0=ports[0], p1=ports[1], p2=ports[2], p3=ports[3],
                            p4=ports[4], srv=app.port)
        p = start_proxy(pbin, cfg, wait_ports=ports, name=pbin.kind)
        results[pbin.kind] = observe(ports)
        p.stop()
    want, got = results["haproxy"], results["sluice"]
    by = {r["request"]: r for r in want}
    removal = "SERVERID=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"
    # Sanity: the oracle really sends removals where expected.
    assert by["no cookie value, no client cookie"]["set-cookie"] == [
        removal + "; domain=.a.com; HttpOnly; Secure; SameSite=Lax"]
    assert by["active server without value: removal"]["set-cookie"] == [removal]
    assert by["valid cookie for the backup s1: nothing"]["set-cookie"] == []
    assert by["postonly GET: nothing"]["set-cookie"] == []
    diffs = [f"{w['request']}:\n  haproxy {w}\n  sluice  {g}" for w, g in zip(want, got) if w != g]
    assert not diffs, "\n".join(diffs)
