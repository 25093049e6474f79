"""`cookie ... dynamic` with `dynamic-cookie-key`, and `cookie ... attr`,
differential against haproxy 2.6: the same servers (same addresses and
ports) must get the same cookie values, and every response the same
Set-Cookie bytes; a client bringing a dynamic cookie back must reach the
server it names."""

import json

import pytest

from e2eutil import LOOPBACK, free_port
from http_helpers import EchoHTTPServer, header_values, one_shot

# One thread: round robin then alternates across connections in both proxies.
CONFIG = """
global
  nbthread 1

defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  dynamic-cookie-key "s3cr3t key"

listen dyn
  bind {lo}:{p0}
  balance roundrobin
  cookie SRV insert indirect nocache dynamic attr "SameSite=Lax" attr Partitioned
  server s1 {lo}:{a}
  server s2 {lo}:{b}

listen mixed
  bind {lo}:{p1}
  balance roundrobin
  cookie SRV insert dynamic httponly attr "Max-Age=60"
  dynamic-cookie-key other
  server s1 {lo}:{a}
  server s2 {lo}:{b} cookie fixed

listen static
  bind {lo}:{p2}
  cookie SRV insert secure attr "SameSite=None"
  server s1 {lo}:{a} cookie one
"""


def observe(ports):
    out = []

    def get(idx, name, cookie=None):
        headers = {"Host": "x"}
        if cookie is not None:
            headers["Cookie"] = cookie
        status, hdrs, data = one_shot(ports[idx], "GET", "/", headers)
        doc = json.loads(data)
        r = {"request": name, "status": status, "server": doc["server"],
             "set-cookie": header_values(hdrs, "set-cookie"),
             "server saw": [v for k, v in doc["headers"] if k.lower() == "cookie"]}
        out.append(r)
        return r

    first = get(0, "dyn: first")
    second = get(0, "dyn: second")
    for r in (first, second):
        assert r["set-cookie"], r
    for r, name in ((first, "dyn: back to first"), (second, "dyn: back to second")):
        value = r["set-cookie"][0].split(";")[0]
        back = get(0, name, "a=1; " + value)
        assert back["server"] == r["server"] and back["set-cookie"] == [], back
    get(0, "dyn: unknown value", "SRV=0123456789abcdef")
    get(1, "mixed: first")
    get(1, "mixed: second")
    get(2, "static: first")
    get(2, "static: back", "SRV=one")
    return out


@pytest.mark.timeout(60)
def test_dynamic_cookie_and_attr_match_haproxy(start_proxy, sluice, haproxy, servers):
    a = servers(EchoHTTPServer("s1"))
    b = servers(EchoHTTPServer("s2"))
    results = {}
    for pbin in (haproxy, sluice):
        ports = [free_port() for _ in range(3)]
        cfg = CONFIG.format(lo=LOOPBACK, p0=ports[0], p1=ports[1], p2=ports[2], a=a.port,
                            b=b.port)
        p = start_proxy(pbin, cfg, wait_ports=ports, name=pbin.kind)
        results[pbin.kind] = observe(ports)
        p.stop()
    got, want = results["sluice"], results["haproxy"]
    by = {r["request"]: r for r in got}
    sc = by["dyn: first"]["set-cookie"][0]
    assert sc.endswith("; path=/; SameSite=Lax; Partitioned") and len(sc.split(";")[0]) == 20, sc
    assert by["static: first"]["set-cookie"] == ["SRV=one; path=/; Secure; SameSite=None"]
    diffs = [f"{g['request']}:\n  sluice  {g}\n  haproxy {w}" for g, w in zip(got, want) if g != w]
    assert not diffs, "\n".join(diffs)
