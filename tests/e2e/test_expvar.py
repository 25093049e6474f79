"""`http-request use-service expvar`: a Go-expvar-shaped JSON document at
the URI the operator routes to it (cmdline, memstats with Go's names, and
Sluice's counters by proxy and server), moving with traffic."""

import json

from e2eutil import free_port, render, wait_until
from http_helpers import EchoHTTPServer, one_shot

CONFIG = """
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    bind 127.0.0.1:$port
    http-request use-service expvar if { path /debug/vars }
    default_backend app

backend app
    server s1 127.0.0.1:$up check inter 200ms
    server s2 127.0.0.1:$closed check inter 200ms
"""


def get_vars(port):
    status, headers, body = one_shot(port, "GET", "/debug/vars", {})
    assert status == 200
    assert dict(headers)["content-type"].startswith("application/json")
    return json.loads(body)


def test_expvar_document(sluice, start_proxy, servers, tmp_path):
    echo = servers(EchoHTTPServer("s1"))
    port = free_port()
    cfg = render(CONFIG, port=port, up=echo.port, closed=free_port())
    p = start_proxy(sluice, cfg, wait_ports=[port])
    wait_until(lambda: get_vars(port)["sluice"]["proxies"]["app"]["servers"]["s2"]["status"]
               == "DOWN", 15, what="s2 down")
    doc = get_vars(port)
    assert doc["cmdline"][0] == sluice.path and str(p.cfg_path) in doc["cmdline"]
    ms = doc["memstats"]
    for field in ("Alloc", "TotalAlloc", "Sys", "HeapAlloc", "HeapSys", "HeapIdle", "HeapInuse",
                  "Mallocs", "Frees", "NumGC", "PauseTotalNs"):
        assert isinstance(ms[field], int), field
    assert ms["Alloc"] > 0 and ms["Sys"] > 0 and ms["TotalAlloc"] >= ms["Alloc"]
    assert ms["NumGC"] == 0
    s = doc["sluice"]
    assert s["uptime_seconds"] >= 0
    app = s["proxies"]["app"]
    assert app["backend"]["act"] == 1
    assert app["servers"]["s1"]["status"] == "UP"
    assert app["servers"]["s2"]["check_status"] == "L4CON"
    assert "check_duration" in app["servers"]["s1"]
    before = app["servers"]["s1"]["stot"]
    fe_before = s["proxies"]["web"]["frontend"]["req_tot"]
    for i in range(5):
        assert one_shot(port, "GET", f"/p{i}", {})[0] == 200
    after = get_vars(port)
    assert after["sluice"]["proxies"]["app"]["servers"]["s1"]["stot"] == before + 5
    assert after["sluice"]["proxies"]["web"]["frontend"]["req_tot"] >= fe_before + 5
    assert after["memstats"]["TotalAlloc"] >= ms["TotalAlloc"]
    # Other URIs still go to the backend.
    status, _, body = one_shot(port, "GET", "/debug/varsx", {})
    assert status == 200 and json.loads(body)["server"] == "s1"
