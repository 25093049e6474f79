"""`close-spread-time` (global): how a soft-stopping process (SIGUSR1, as an
old worker after a reload) tells its keep-alive clients to go. Unset: every
client's next response says `Connection: close`; a time window: each
connection's turn comes at its own point of the window; `infinite`: never.
Run against Sluice and Debian's haproxy (which has the same keyword); for
Sluice, every end must also be announced (no request lost)."""

import http.client
import signal
import threading
import time

import pytest

from e2eutil import free_port, render
from http_helpers import EchoHTTPServer

CFG = """
global
$spread
    hard-stop-after 10s

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 10s

frontend web
    bind 127.0.0.1:$fe
    default_backend app

backend app
    server s1 127.0.0.1:$be
"""

CLIENTS = 16


class Client(threading.Thread):
    """Keep-alive requests every 20 ms on one connection until it ends (or
    `limit` s); records when it ended and whether the proxy said so."""

    def __init__(self, port, limit):
        super().__init__(daemon=True)
        self.port, self.limit = port, limit
        self.ok = 0
        self.ended_at = None
        self.announced = None
        self.error = None
        self.halt = threading.Event()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        deadline = time.monotonic() + self.limit
        try:
            while not self.halt.is_set() and time.monotonic() < deadline:
                conn.request("GET", "/k")
                r = conn.getresponse()
                r.read()
                assert r.status == 200
                self.ok += 1
                if (r.getheader("Connection") or "").lower() == "close":
                    self.ended_at, self.announced = time.monotonic(), True
                    return
                time.sleep(0.02)
        except (OSError, http.client.HTTPException) as e:
            self.ended_at, self.announced, self.error = time.monotonic(), False, repr(e)
        finally:
            conn.close()


def run_soft_stop(proxy, start_proxy, servers, spread, watch):
    """Start `CLIENTS` clients, SIGUSR1 the proxy, watch `watch` s; returns
    (signal time, clients, proxy)."""
    be = servers(EchoHTTPServer("s1"))
    fe = free_port()
    p = start_proxy(proxy, render(CFG, fe=fe, be=be.port, spread=spread), wait_ports=[fe])
    clients = [Client(fe, watch + 3) for _ in range(CLIENTS)]
    for c in clients:
        c.start()
    deadline = time.monotonic() + 10
    while any(c.ok == 0 for c in clients) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert all(c.ok > 0 for c in clients), "clients did not start"
    t0 = time.monotonic()
    p.signal(signal.SIGUSR1)
    time.sleep(watch)
    return t0, clients, p


def finish(clients, p):
    for c in clients:
        c.halt.set()
    for c in clients:
        c.join(10)
    assert p.wait_exit(timeout=15) == 0, p.logs()


@pytest.mark.timeout(90)
def test_unset_closes_all_at_the_next_response(proxy, start_proxy, servers):
    t0, clients, p = run_soft_stop(proxy, start_proxy, servers, "", 1.0)
    ends = [c.ended_at - t0 for c in clients if c.ended_at is not None]
    assert len(ends) == CLIENTS, [c.error for c in clients]
    assert max(ends) < 0.5, sorted(ends)
    if proxy.kind == "sluice":
        assert all(c.announced for c in clients), [c.error for c in clients]
    finish(clients, p)


@pytest.mark.timeout(90)
def test_a_window_spreads_the_closes(proxy, start_proxy, servers):
    t0, clients, p = run_soft_stop(proxy, start_proxy, servers, "    close-spread-time 1500ms", 2.5)
    ends = sorted(c.ended_at - t0 for c in clients if c.ended_at is not None)
    assert len(ends) == CLIENTS, [c.error for c in clients]
    assert ends[-1] < 2.0, ends  # all within the window (plus a request period)
    if proxy.kind == "sluice":
        # Each connection's turn is a fixed point of the window: spread
        # across it, not in one burst.
        assert ends[-1] - ends[0] > 0.6, ends
        assert sum(1 for e in ends if e < 0.5) < CLIENTS * 3 // 4, ends
        assert all(c.announced for c in clients), [c.error for c in clients]
    else:
        # haproxy closes each request with a chance that grows over the
        # window: busy connections go early, but not all at once.
        assert ends[-1] - ends[0] > 0.1, ends
    finish(clients, p)


@pytest.mark.timeout(90)
def test_infinite_keeps_serving_keep_alive_clients(proxy, start_proxy, servers):
    t0, clients, p = run_soft_stop(proxy, start_proxy, servers, "    close-spread-time infinite", 1.5)
    assert all(c.ended_at is None for c in clients), [(c.ended_at - t0, c.error) for c in clients
                                                      if c.ended_at is not None]
    before = [c.ok for c in clients]
    time.sleep(0.3)
    assert all(c.ok > b for c, b in zip(clients, before)), "the stopping process stopped serving"
    assert p.alive()
    finish(clients, p)
