"""Large stats outputs are built on Sluice's stats thread, not on the loop
that relays traffic: with 500 servers and one worker thread, every kind of
scrape (stats socket and HTTP) answers completely while proxied requests
keep flowing on the same loop, requesters that hang up mid-scrape are
dropped cleanly, and a keep-alive connection goes on after a scrape.
(No timing is asserted: the benchmark measures latency, bench/RESULTS.md.)"""

import http.client
import json
import os
import socket
import struct
import threading
import time

from e2eutil import free_port, render, wait_until
from http_helpers import EchoHTTPServer, one_shot
from test_stats_socket import cli

SERVERS = 500

CONFIG = """
global
    nbthread 1
    stats socket $sock level admin

defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s

frontend web
    bind 127.0.0.1:$port
    default_backend app

backend app
    server s1 127.0.0.1:$up

frontend stats
    bind 127.0.0.1:$sport
    http-request use-service prometheus-exporter if { path /metrics }
    http-request use-service expvar if { path /debug/vars }
    stats enable
    stats uri /stats

backend farm
$farm
"""


class Traffic(threading.Thread):
    """Keep-alive requests through the proxy until stopped; counts them."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.ok = 0
        self.errors = []
        self.halt = threading.Event()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.halt.is_set():
            try:
                conn.request("GET", "/t")
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    self.errors.append(r.status)
                self.ok += 1
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.close()


def start(sluice, start_proxy, servers, tmp_path, want_proxy=False):
    echo = servers(EchoHTTPServer("s1"))
    port, sport = free_port(), free_port()
    sock = tmp_path / "stats.sock"
    farm = "\n".join(f"    server f{i} 127.0.0.1:{1024 + i}" for i in range(SERVERS))
    cfg = render(CONFIG, port=port, sport=sport, up=echo.port, sock=sock, farm=farm)
    proxy = start_proxy(sluice, cfg, wait_ports=[port, sport])
    wait_until(lambda: sock.exists(), 10, what="stats socket")
    if want_proxy:
        return port, sport, sock, proxy
    return port, sport, sock


def thread_policies(pid):
    """{thread name: scheduling policy} of a process's threads."""
    out = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/comm") as f:
            name = f.read().strip()
        out.setdefault(name, set()).add(os.sched_getscheduler(int(task)))
    return out


def test_stats_thread_runs_in_the_idle_class(sluice, start_proxy, servers, tmp_path):
    """The stats thread yields to workers: SCHED_IDLE (a waking worker
    preempts it at once); the workers stay in the normal class."""
    port, sport, sock, proxy = start(sluice, start_proxy, servers, tmp_path, want_proxy=True)
    assert cli(sock, "show stat", timeout=20).startswith("# pxname,")
    pol = thread_policies(proxy.pid)
    assert pol.get("sluice-stats") == {os.SCHED_IDLE}, pol
    others = set().union(*(v for k, v in pol.items() if k != "sluice-stats"))
    assert others == {os.SCHED_OTHER}, pol


def abort(s):
    """Close with a reset, as a client that gives up."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_large_scrapes_while_traffic_flows(sluice, start_proxy, servers, tmp_path):
    port, sport, sock = start(sluice, start_proxy, servers, tmp_path)
    traffic = Traffic(port)
    traffic.start()
    try:
        wait_until(lambda: traffic.ok > 20, 10, what="traffic")
        for _ in range(3):
            csv = cli(sock, "show stat", timeout=20)
            lines = csv.splitlines()
            assert lines[0].startswith("# pxname,svname,")
            assert sum(1 for ln in lines if ln.startswith("farm,f")) == SERVERS
            assert csv.endswith("\n\n")
            doc = json.loads(cli(sock, "show stat json", timeout=20))
            assert sum(1 for r in doc if r[0]["objType"] == "Server") == SERVERS + 1
            typed = cli(sock, "show stat typed", timeout=20)
            assert typed.count(".pxname.1:KNS:str:farm\n") == SERVERS + 1
            # Several commands on a line keep their order around the wait.
            both = cli(sock, "show info; show stat -1 2 -1; show backend", timeout=20)
            assert both.startswith("Name: ")
            i, j = both.index("# pxname,"), both.index("# name\n")
            assert i < j and "farm,BACKEND," in both[i:j]

            status, _, body = one_shot(sport, "GET", "/metrics", {}, timeout=20)
            assert status == 200
            assert body.decode().count('haproxy_server_uweight{proxy="farm",server="f') == SERVERS
            status, _, body = one_shot(sport, "GET", "/stats", {}, timeout=20)
            assert status == 200 and body.rstrip().endswith(b"</html>")
            status, _, body = one_shot(sport, "GET", "/stats;csv", {}, timeout=20)
            assert status == 200 and body.count(b"\nfarm,f") == SERVERS
            status, _, body = one_shot(sport, "GET", "/stats;json", {}, timeout=20)
            assert status == 200 and len(json.loads(body)) == len(doc)
            status, _, body = one_shot(sport, "GET", "/debug/vars", {}, timeout=20)
            farm = json.loads(body)["sluice"]["proxies"]["farm"]
            assert status == 200 and len(farm["servers"]) == SERVERS
        assert traffic.ok > 50
    finally:
        traffic.halt.set()
        traffic.join(15)
    assert traffic.errors == []


def test_keep_alive_after_scrape_and_head(sluice, start_proxy, servers, tmp_path):
    _, sport, _ = start(sluice, start_proxy, servers, tmp_path)
    conn = http.client.HTTPConnection("127.0.0.1", sport, timeout=20)
    try:
        for path in ("/metrics", "/stats;csv", "/debug/vars", "/stats"):
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            assert r.status == 200 and len(body) == int(r.getheader("content-length"))
            conn.request("HEAD", path)
            r = conn.getresponse()
            assert r.status == 200 and r.read() == b""
            assert int(r.getheader("content-length")) > 0
        # Pipelined: two scrapes sent at once come back whole and in order.
        s = socket.create_connection(("127.0.0.1", sport), timeout=20)
        s.sendall(b"GET /stats;csv HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            data += b
        s.close()
        first = data.index(b"\r\n\r\n")
        assert data.startswith(b"HTTP/1.1 200")
        assert data.count(b"HTTP/1.1 200 OK\r\n") == 2
        assert data.rindex(b"HTTP/1.1 200") > first
        assert b"content-type: text/plain; version=0.0.4" in data
    finally:
        conn.close()


def read_response(s):
    """One whole HTTP/1.1 response (by content-length), without waiting for a close."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(1 << 20)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(ln.split(b":")[1] for ln in head.split(b"\r\n")
                      if ln.lower().startswith(b"content-length:")))
    while len(body) < length:
        b = s.recv(1 << 20)
        assert b, "closed before the end of the body"
        body += b
    assert b"haproxy_server_uweight" in body
    return head + b"\r\n\r\n" + body


def test_requesters_that_hang_up_mid_scrape(sluice, start_proxy, servers, tmp_path):
    port, sport, sock = start(sluice, start_proxy, servers, tmp_path)
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(sock))
        s.sendall(b"show stat json\n")
        abort(s)
        h = socket.create_connection(("127.0.0.1", sport), timeout=5)
        h.sendall(b"GET /stats;json HTTP/1.1\r\nHost: x\r\n\r\n")
        abort(h)
        h = socket.create_connection(("127.0.0.1", sport), timeout=5)
        h.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        h.shutdown(socket.SHUT_WR)  # half-closed: still answered
        assert read_response(h).startswith(b"HTTP/1.1 200")
        h.close()
    # Still serving both ways, whole answers.
    time.sleep(0.2)
    assert cli(sock, "show stat", timeout=20).count("\nfarm,f") == SERVERS
    assert one_shot(port, "GET", "/x", {})[0] == 200
    assert one_shot(sport, "GET", "/stats;csv", {}, timeout=20)[2].count(b"\nfarm,f") == SERVERS
