"""Cookie persistence options, differential against haproxy: `prefix`,
`postonly`, `preserve`, `httponly`, `secure`, several `domain`, `maxidle`
and `maxlife` (with the dates HAProxy appends to the value). For each
scripted request both proxies must give the same status, Set-Cookie and
Cache-Control, and the server must see the same Cookie header. Dates equal
to "now" (4-second units) are compared with one unit of tolerance."""

import json
import re
import time

import pytest

from e2eutil import LOOPBACK, free_port
from http_helpers import EchoHTTPServer, header_values, one_shot

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def enc(t: int) -> str:
    v = (t + 3) >> 2
    return "".join(B64[(v >> (6 * i)) & 63] for i in range(4, -1, -1))


def dec(s: str) -> int:
    v = 0
    for c in s:
        v = (v << 6) | B64.index(c)
    return v << 2


CONFIG = """
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s

listen pfx
  bind {lo}:{p0}
  cookie SERVERID prefix
  server s1 {lo}:{srv} cookie s1

listen dated
  bind {lo}:{p1}
  cookie SERVERID insert indirect nocache httponly secure domain .a.com domain .b.com maxidle 30m maxlife 8h
  server s1 {lo}:{srv} cookie s1

listen post
  bind {lo}:{p2}
  cookie SERVERID insert postonly preserve
  server s1 {lo}:{srv} cookie s1

listen life
  bind {lo}:{p3}
  cookie SERVERID insert maxlife 1h
  server s1 {lo}:{srv} cookie s1
"""


def script(now):
    return [
        # (listen index, name, method, path, Cookie header or None)
        (0, "prefix: server sets its cookie", "GET", "/set-own", None),
        (0, "prefix: client brings it back", "GET", "/", "a=1; SERVERID=s1~theirs; b=2"),
        (0, "prefix: unknown server prefix", "GET", "/", "SERVERID=zz~theirs"),
        (0, "prefix: no prefix at all", "GET", "/", "SERVERID=plain"),
        (1, "dated: first visit", "GET", "/", None),
        # Last seen 20 s ahead: still fresh when the second proxy's run comes
        # seconds later (a date equal to "now" goes stale at the next second).
        (1, "dated: fresh cookie", "GET", "/", f"SERVERID=s1|{enc(now + 20)}|{enc(now)}"),
        (1, "dated: idle 60s", "GET", "/", f"SERVERID=s1|{enc(now - 60)}|{enc(now - 60)}"),
        (1, "dated: idle past maxidle", "GET", "/", f"SERVERID=s1|{enc(now - 2000)}|{enc(now - 3600)}"),
        (1, "dated: older than maxlife", "GET", "/", f"SERVERID=s1|{enc(now)}|{enc(now - 9 * 3600)}"),
        (1, "dated: far future", "GET", "/", f"SERVERID=s1|{enc(now + 2 * 86400)}|{enc(now)}"),
        (1, "dated: no date", "GET", "/", "SERVERID=s1"),
        (1, "dated: cacheable", "GET", "/cc-max", None),
        (1, "dated: server sets one", "GET", "/set-own", None),
        (2, "postonly: GET", "GET", "/", None),
        (2, "postonly: POST", "POST", "/", None),
        (2, "preserve: server's own kept", "POST", "/set-own", None),
        (3, "maxlife only: first visit", "GET", "/", None),
        (3, "maxlife only: valid", "GET", "/", f"SERVERID=s1||{enc(now - 60)}"),
    ]


def normalize(text: str, now: int) -> str:
    def fix(m):
        t = dec(m.group(1))
        return "|NOW" if abs(t - now) <= 8 else m.group(0)
    return re.sub(r"\|([A-Za-z0-9+/]{5})(?=[|;]|$)", fix, text)


def observe(ports, now):
    out = []
    for idx, name, method, path, cookie in script(now):
        headers = {"Host": "x"}
        if cookie is not None:
            headers["Cookie"] = cookie
        body = b"" if method == "POST" else None
        status, hdrs, data = one_shot(ports[idx], method, path, headers, body)
        seen = [v for k, v in json.loads(data)["headers"] if k.lower() == "cookie"]
        out.append({
            "request": name,
            "status": status,
            "set-cookie": [normalize(v, now) for v in header_values(hdrs, "set-cookie")],
            "cache-control": header_values(hdrs, "cache-control"),
            "server saw": [normalize(v, now) for v in seen],
        })
    return out


@pytest.mark.timeout(60)
def test_cookie_options_match_haproxy(start_proxy, sluice, haproxy, servers):
    app = servers(EchoHTTPServer("s1"))
    results = {}
    # One clock for both runs: the client sends the same dated cookies to each.
    now = int(time.time())
    for pbin in (sluice, haproxy):
        ports = [free_port() for _ in range(4)]
        cfg = CONFIG.format(lo=LOOPBACK, p0=ports[0], p1=ports[1], p2=ports[2], p3=ports[3],
                            srv=app.port)
        p = start_proxy(pbin, cfg, wait_ports=ports, name=pbin.kind)
        results[pbin.kind] = observe(ports, now)
        p.stop()
    got, want = results["sluice"], results["haproxy"]
    # Sanity: the features are really exercised.
    by = {r["request"]: r for r in got}
    assert by["prefix: server sets its cookie"]["set-cookie"] == ["SERVERID=s1~theirs; path=/"]
    assert by["prefix: client brings it back"]["server saw"] == ["a=1; SERVERID=theirs; b=2"]
    assert by["dated: first visit"]["set-cookie"] == [
        "SERVERID=s1|NOW|NOW; path=/; domain=.a.com; domain=.b.com; HttpOnly; Secure"]
    assert by["dated: fresh cookie"]["set-cookie"] == []
    diffs = []
    for g, w in zip(got, want):
        if g != w:
            diffs.append(f"{g['request']}:\n  sluice  {g}\n  haproxy {w}")
    assert not diffs, "\n".join(diffs)
