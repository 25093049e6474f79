"""`http-check send-state` (issue 4): every HTTP check carries
X-Haproxy-Server-State with haproxy's fields. Sluice and haproxy check the
same kind of server and must send the same header, word for word, in each
state the script goes through (up, going down, down, going up)."""

import re
import socket
import threading
import time

import pytest

from e2eutil import free_port, render

CFG = """
global
    node lb-test

defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 300ms

backend app
    option httpchk GET /check.txt HTTP/1.0
    http-check send-state
    server s1 127.0.0.1:$s1 check inter 200ms fall 2 rise 2 weight 3
    server s2 127.0.0.1:$s2 weight 5

frontend fe
    bind 127.0.0.1:$fe
    default_backend app
"""


class CheckRecorder:
    """Answers /check.txt with `status` and records each request's state header."""

    def __init__(self):
        self.port = free_port()
        self.status = 200
        self.states: list[str] = []
        self.requests: list[bytes] = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                c, _ = self._sock.accept()
            except OSError:
                continue
            with c:
                c.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        d = c.recv(4096)
                        if not d:
                            break
                        data += d
                    self.requests.append(data)
                    m = re.search(rb"(?i)X-Haproxy-Server-State: ([^\r]*)\r\n", data)
                    # Each proxy's recorder has its own port: compare the rest.
                    self.states.append(re.sub(r"port=\d+", "port=P", m.group(1).decode())
                                       if m else "")
                    c.sendall(b"HTTP/1.0 %d X\r\nContent-Length: 0\r\n\r\n" % self.status)
                except OSError:
                    pass

    def stop(self):
        self._stop.set()
        self._sock.close()


@pytest.mark.timeout(60)
def test_same_state_header_as_haproxy(sluice, haproxy, start_proxy):
    seen = {}
    for pbin in (sluice, haproxy):
        rec = CheckRecorder()
        s2 = free_port()
        fe = free_port()
        try:
            start_proxy(pbin, render(CFG, fe=fe, s1=rec.port, s2=s2), wait_ports=[fe],
                        name=pbin.kind)
            time.sleep(0.7)
            rec.status = 500
            time.sleep(1.0)
            rec.status = 200
            time.sleep(1.0)
        finally:
            rec.stop()
        assert rec.states and all(rec.states), rec.requests[:2]
        # Consecutive duplicates collapsed: the sequence of states seen.
        seq = [s for i, s in enumerate(rec.states) if i == 0 or s != rec.states[i - 1]]
        seen[pbin.kind] = seq
        seen[pbin.kind + "_req"] = re.sub(rb"port=\d+", b"port=P", rec.requests[0])
    assert seen["sluice"] == seen["haproxy"], seen
    assert seen["sluice_req"] == seen["haproxy_req"], seen
    words = [s.split(";")[0] for s in seen["sluice"]]
    assert words == ["UP 1/2", "UP", "UP 1/2", "DOWN", "DOWN 1/2", "UP"], seen["sluice"]
    assert f"; name=app/s1; node=lb-test; weight=3/8; scur=0/0; qcur=0" in seen["sluice"][1]
