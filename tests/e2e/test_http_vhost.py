"""HTTP mode, differential against Debian's haproxy: the seed virtual-hosting
config (ports rewritten) under both, with echo backends. For a scripted set
of requests both must route to the same backend and server, the backends
must see the same request headers (X-Forwarded-For, cookie stripping,
Connection) and clients must get the same status, Set-Cookie and
Cache-Control. Header names compare case-insensitively (haproxy lowercases
them); order and values compare exactly."""

import difflib
import http.client
import json

import pytest

from e2eutil import LOOPBACK, free_port
from http_helpers import (EchoHTTPServer, closed_port, header_values, one_shot, request,
                          seed_for_test)

COOKIE = "SERVERID"

# (name, method, path, headers, body)
SCRIPT = [
    ("urlencode exact", "GET", "/", {"Host": "urlenco.de"}, None),
    ("urlencode mixed case", "GET", "/a?b=1", {"Host": "WWW.UrlEnco.DE"}, None),
    ("urlencode subdomain", "GET", "/x", {"Host": "blog.urlenco.de"}, None),
    ("wedding", "GET", "/", {"Host": "erinandtylerswedding.com"}, None),
    ("wedding upper", "GET", "/p", {"Host": "WWW.ERINANDTYLERSWEDDING.COM"}, None),
    ("wedding with port", "GET", "/", {"Host": "erinandtylerswedding.com:80"}, None),
    ("unknown host", "GET", "/", {"Host": "example.org"}, None),
    ("suffix lookalike", "GET", "/", {"Host": "noturlenco.de.evil"}, None),
    ("valid cookie", "GET", "/", {"Host": "urlenco.de", "Cookie": f"{COOKIE}=Local"}, None),
    ("valid cookie among others", "GET", "/",
     {"Host": "erinandtylerswedding.com", "Cookie": f"a=1; {COOKIE}=Local; b=2"}, None),
    ("invalid cookie", "GET", "/", {"Host": "urlenco.de", "Cookie": f"{COOKIE}=Nope"}, None),
    ("other cookie only", "GET", "/", {"Host": "urlenco.de", "Cookie": "sess=42"}, None),
    ("cacheable, nocache", "GET", "/cc-max", {"Host": "urlenco.de"}, None),
    ("last-modified, nocache", "GET", "/last-mod", {"Host": "urlenco.de"}, None),
    ("public only", "GET", "/cc-public", {"Host": "urlenco.de"}, None),
    ("already private", "GET", "/cc-private", {"Host": "urlenco.de"}, None),
    ("server sets the cookie", "GET", "/set-own", {"Host": "urlenco.de"}, None),
    ("cacheable with cookie", "GET", "/cc-max",
     {"Host": "urlenco.de", "Cookie": f"{COOKIE}=Local"}, None),
    ("POST", "POST", "/form", {"Host": "urlenco.de", "Content-Type": "text/plain"}, b"a=1&b=2"),
    ("POST cacheable", "POST", "/cc-max", {"Host": "erinandtylerswedding.com"}, b"x"),
    ("POST with cookie", "POST", "/form",
     {"Host": "erinandtylerswedding.com", "Cookie": f"{COOKIE}=Local"}, b"hello"),
    ("existing XFF", "GET", "/", {"Host": "urlenco.de", "X-Forwarded-For": "10.1.2.3"}, None),
    ("HEAD", "HEAD", "/", {"Host": "urlenco.de"}, None),
]


def _observe(port):
    """What a client and the backend saw for each scripted request."""
    seen = []
    for name, method, path, headers, body in SCRIPT:
        status, hdrs, data = one_shot(port, method, path, dict(headers), body)
        rec = {
            "request": name,
            "status": status,
            "set-cookie": header_values(hdrs, "set-cookie"),
            "cache-control": header_values(hdrs, "cache-control"),
            "x-server": header_values(hdrs, "x-server"),
        }
        if data and method != "HEAD":
            doc = json.loads(data)
            rec["backend-saw"] = [[k.lower(), v] for k, v in doc["headers"]]
            rec["backend-body"] = doc["body"]
            rec["backend-path"] = doc["path"]
        seen.append(rec)
    return seen


def _diff(a, b):
    ja = json.dumps(a, indent=1, sort_keys=True).splitlines()
    jb = json.dumps(b, indent=1, sort_keys=True).splitlines()
    return "\n".join(difflib.unified_diff(ja, jb, "haproxy", "sluice", lineterm=""))


@pytest.fixture
def vhost_backends(servers):
    # seed-vhost.cfg: urlencode -> :8181, wedding -> :8081
    urlencode = servers(EchoHTTPServer("urlencode"))
    wedding = servers(EchoHTTPServer("wedding"))
    return {8181: urlencode, 8081: wedding}


@pytest.mark.timeout(120)
def test_seed_vhost_same_as_haproxy(sluice, haproxy, start_proxy, examples_dir, vhost_backends):
    text = (examples_dir / "seed-vhost.cfg").read_text()
    ports = {old: srv.port for old, srv in vhost_backends.items()}
    results = {}
    for pbin in (haproxy, sluice):
        fe = free_port()
        start_proxy(pbin, seed_for_test(text, fe, ports), wait_ports=[fe])
        results[pbin.kind] = _observe(fe)
    h, s = results["haproxy"], results["sluice"]
    # Sanity: the oracle itself routes by Host as the seed intends.
    # (hdr_end sees the port: "host:80" is no wedding.)
    assert [r["x-server"] for r in h][:7] == (
        [["urlencode"]] * 3 + [["wedding"]] * 2 + [["urlencode"]] * 2), h
    assert h == s, "sluice differs from haproxy:\n" + _diff(h, s)


KEEPALIVE = """
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 10s

frontend fe
    bind 127.0.0.1:{fe}
    default_backend app

backend app
    server s1 127.0.0.1:{srv}
"""


@pytest.mark.timeout(60)
def test_keepalive_reuses_server_connections(proxy, start_proxy, servers):
    backend = servers(EchoHTTPServer("app"))
    fe = free_port()
    start_proxy(proxy, KEEPALIVE.format(fe=fe, srv=backend.port), wait_ports=[fe])
    conn = http.client.HTTPConnection(LOOPBACK, fe, timeout=10)
    n = 10
    for i in range(n):
        status, hdrs, data = request(conn, "GET", f"/r{i}", {"Host": "app"})
        assert status == 200
        assert json.loads(data)["path"] == f"/r{i}"
        assert not header_values(hdrs, "connection") or header_values(hdrs, "connection") != ["close"]
    conn.close()
    assert backend.requests == n
    assert backend.connections < n, f"{backend.connections} server connections for {n} requests"


ALL_DOWN = """
defaults
    mode http
    retries 1
    timeout connect 1s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{fe}
    default_backend app

backend app
    server s1 127.0.0.1:{dead}
"""


@pytest.mark.timeout(60)
def test_503_when_all_servers_down(sluice, haproxy, start_proxy):
    statuses = {}
    for pbin in (haproxy, sluice):
        fe = free_port()
        start_proxy(pbin, ALL_DOWN.format(fe=fe, dead=closed_port()), wait_ports=[fe])
        status, hdrs, data = one_shot(fe, "GET", "/", {"Host": "x"})
        statuses[pbin.kind] = (status, b"503" in data or b"Service Unavailable" in data)
    assert statuses["sluice"] == statuses["haproxy"] == (503, True), statuses
