"""redis-check against servers that are not (or not usable) Redis, sluice
and haproxy side by side (issue 4): haproxy looks for "+PONG" in what the
server sends and keeps waiting for it while the connection stays open
(Layer7 timeout); when the server closes without it, the check fails with
"Layer7 wrong status" and the first line received as its info. Sluice must
log the same lines, word for word; and both log the same UP line for a real
Redis."""

import re
import socket
import threading
import time

import pytest

from checks_helpers import Redis
from e2eutil import UdpSyslog, free_port, render

CFG = """
global
    log 127.0.0.1:$syslog local0 info

defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 300ms

listen svc
    bind 127.0.0.1:$fe
    option redis-check
    server db 127.0.0.1:$port check inter 200ms fall 1 rise 1
"""

STATE = re.compile(r"Server \S+ is (?:UP|DOWN)\b.*")


class RespStub:
    """Answers every connection with `reply` once something arrives, then
    closes (close=True) or keeps the connection open."""

    def __init__(self, reply: bytes, close: bool):
        self.reply, self.close = reply, close
        self.port = free_port()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._held = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                c, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(2)
            if c.recv(4096):
                c.sendall(self.reply)
            if self.close:
                c.close()
            else:
                self._held.append(c)
        except OSError:
            pass

    def stop(self):
        self._stop.set()
        self._sock.close()
        for c in self._held:
            c.close()


def _first_down_and_up(sluice, haproxy, start_proxy, port, want_up=False):
    logs = {}
    try:
        for pbin in (sluice, haproxy):
            log = UdpSyslog().start()
            logs[pbin.kind] = log
            fe = free_port()
            start_proxy(pbin, render(CFG, fe=fe, port=port, syslog=log.port), wait_ports=[fe])
        time.sleep(1.5)
        got = {}
        for kind, log in logs.items():
            lines = [STATE.search(m).group(0) for m in log.snapshot() if STATE.search(m)]
            got[kind] = [re.sub(r"check duration: \d+ms", "check duration: Nms", x)
                         for x in lines[:1]]
        return got
    finally:
        for log in logs.values():
            log.stop()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reply,close,reason", [
    (b"-NOAUTH Authentication required.\r\n", False, "Layer7 timeout"),
    (b"220 smtp.local ESMTP ready\r\n", False, "Layer7 timeout"),
    (b"-NOAUTH Authentication required.\r\n", True, "Layer7 wrong status"),
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", True, "Layer7 wrong status"),
])
def test_not_redis_like_haproxy(sluice, haproxy, start_proxy, reply, close, reason):
    stub = RespStub(reply, close)
    try:
        got = _first_down_and_up(sluice, haproxy, start_proxy, stub.port)
    finally:
        stub.stop()
    assert got["sluice"] == got["haproxy"], got
    assert got["sluice"] and reason in got["sluice"][0], got


@pytest.mark.timeout(60)
@pytest.mark.skipif(not Redis.available(), reason="redis-server not installed")
def test_real_redis_never_goes_down(sluice, haproxy, start_proxy, servers):
    r = servers(Redis())
    got = _first_down_and_up(sluice, haproxy, start_proxy, r.port)
    assert got == {"sluice": [], "haproxy": []}, got
