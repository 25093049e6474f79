"""HTTP mode, new connections: Sluice reads a request right after accept and
sends it right after connect (speculative I/O), and its sockets join the
loop without EPOLLOUT until a send falls short. Whatever the timing, nothing
may stall: a request that comes late, a server that black-holes SYNs or
never answers, slow readers of large responses and of the stats services,
slow readers of large uploads on fresh server connections. A peer that takes
data steadily is not cut by `timeout client` / `timeout server`, which count
inactivity (haproxy, the oracle, runs the same tests)."""

import hashlib
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from e2eutil import LOOPBACK, connect, free_port, recv_all, render
from http_helpers import EchoHTTPServer

CONFIG = """
global
    nbthread 1
defaults
    mode http
    retries 0
    timeout connect $tconnect
    timeout client 10s
    timeout server $tserver
    http-reuse $reuse
frontend fe
    bind 127.0.0.1:$fe
    default_backend be
backend be
    server o1 127.0.0.1:$origin
"""

BIG = bytes(range(256)) * (4 * 4096)  # 4 MiB, every byte value
HUGE = BIG * 6  # 24 MiB: more than a second at the pace of the slow peers below


def config(fe, origin, tconnect="2s", tserver="10s", reuse="never"):
    return render(CONFIG, fe=fe, origin=origin, tconnect=tconnect, tserver=tserver, reuse=reuse)


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def split_response(raw: bytes) -> tuple[bytes, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head, body


class _BigOrigin(BaseHTTPRequestHandler):
    """GET: 4 MiB (/huge: 24 MiB) in one write. POST: reads the body slowly
    (about 16 MB/s), answers its sha256."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = HUGE if self.path == "/huge" else BIG
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    def do_POST(self):  # noqa: N802
        left = int(self.headers.get("Content-Length") or 0)
        h = hashlib.sha256()
        while left > 0:
            data = self.rfile.read(min(left, 65536))
            if not data:
                break
            h.update(data)
            left -= len(data)
            time.sleep(0.004)  # a slow reader: the relay's sends fall short
        out = h.hexdigest().encode()
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(out) + out)


class _SmallWindowServer(ThreadingHTTPServer):
    def server_bind(self):
        # Accepted sockets inherit a small receive buffer: a 4 MiB upload
        # cannot hide in the socket buffers, the relay's sends fall short.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        super().server_bind()


@pytest.fixture
def big_origin():
    srv = _SmallWindowServer((LOOPBACK, 0), _BigOrigin)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_requests_sent_with_the_connect_are_served(start_proxy, proxy, servers):
    echo = servers(EchoHTTPServer("o1"))
    fe = free_port()
    start_proxy(proxy, config(fe, echo.port, reuse="always"), wait_ports=[fe])
    for i in range(200):
        s = socket.create_connection((LOOPBACK, fe), timeout=10)
        try:
            s.sendall(b"GET /n/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % i)
            raw = recv_all(s, timeout=10)
        finally:
            s.close()
        assert status_of(raw) == 200, raw[:200]
        assert b'"path": "/n/%d"' % i in raw


def _send_in_pieces(fe: int, pieces: list[bytes], pause: float = 0.25) -> bytes:
    """Send `pieces` on a new connection with a pause before each but the
    first (an empty first piece: a pause before anything); the whole answer."""
    s = connect(fe)
    try:
        for i, piece in enumerate(pieces):
            if i > 0:
                time.sleep(pause)
            if piece:
                s.sendall(piece)
        return recv_all(s, timeout=10)
    finally:
        s.close()


def test_a_request_that_comes_late_is_served(start_proxy, proxy, servers):
    """Nothing to read right after accept: the first edge brings the request."""
    echo = servers(EchoHTTPServer("o1"))
    fe = free_port()
    start_proxy(proxy, config(fe, echo.port), wait_ports=[fe])
    raw = _send_in_pieces(fe, [b"", b"GET /late HTTP/1.1\r\nHo", b"st: x\r\nConnection: close\r\n\r\n"])
    assert status_of(raw) == 200, raw[:200]
    assert b'"path": "/late"' in raw


def test_a_body_that_comes_after_the_head_is_forwarded(start_proxy, proxy, servers):
    """The head alone is read after accept; the client socket must then be
    watched for the body."""
    echo = servers(EchoHTTPServer("o1"))
    fe = free_port()
    start_proxy(proxy, config(fe, echo.port), wait_ports=[fe])
    raw = _send_in_pieces(fe, [b"POST /body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                               b"Content-Length: 11\r\n\r\nhello", b" world"])
    assert status_of(raw) == 200, raw[:200]
    assert b'"body": "hello world"' in raw


def test_pipelined_requests_on_a_new_connection_are_all_answered(start_proxy, proxy, servers):
    echo = servers(EchoHTTPServer("o1"))
    fe = free_port()
    start_proxy(proxy, config(fe, echo.port, reuse="always"), wait_ports=[fe])
    s = connect(fe)
    try:
        s.sendall(b"GET /p1 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /p2 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = recv_all(s, timeout=10)
    finally:
        s.close()
    assert raw.count(b"HTTP/1.1 200 ") == 3, raw[:300]
    assert raw.index(b'"path": "/p1"') < raw.index(b'"path": "/p2"') < raw.index(b'"path": "/p3"')


def test_a_client_that_half_closes_after_its_request_gets_the_answer(start_proxy, proxy, servers):
    echo = servers(EchoHTTPServer("o1"))
    fe = free_port()
    start_proxy(proxy, config(fe, echo.port), wait_ports=[fe])
    s = connect(fe)
    try:
        s.sendall(b"GET /half HTTP/1.1\r\nHost: x\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        raw = recv_all(s, timeout=10)
    finally:
        s.close()
    assert status_of(raw) == 200, raw[:200]
    assert b'"path": "/half"' in raw


def _blackhole_listener():
    """A listener whose accept queue is full: the kernel drops further SYNs,
    so a connect to it stays in progress (as to a host that black-holes)."""
    lst = socket.socket()
    lst.bind((LOOPBACK, 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    fillers = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex((LOOPBACK, port))
        fillers.append(c)
    time.sleep(0.1)
    probe = socket.socket()
    probe.setblocking(False)
    probe.connect_ex((LOOPBACK, port))
    _, w, _ = select.select([], [probe], [], 0.3)
    probe.close()
    if w:
        for c in fillers:
            c.close()
        lst.close()
        pytest.skip("this kernel completes connects to a full accept queue")
    return lst, fillers, port


def _timed_request(fe: int) -> tuple[bytes, float]:
    """One GET with Connection: close; the whole answer and how long it took."""
    s = connect(fe)
    try:
        t0 = time.monotonic()
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = recv_all(s, timeout=10)
        return raw, time.monotonic() - t0
    finally:
        s.close()


def test_a_server_that_black_holes_syns_hits_timeout_connect(start_proxy, proxy):
    lst, fillers, port = _blackhole_listener()
    try:
        fe = free_port()
        start_proxy(proxy, config(fe, port, tconnect="400ms"), wait_ports=[fe])
        raw, took = _timed_request(fe)
        assert status_of(raw) == 503, raw[:200]
        assert 0.35 <= took < 5, took
    finally:
        for c in fillers:
            c.close()
        lst.close()


def test_a_server_that_accepts_and_never_answers_hits_timeout_server(start_proxy, proxy):
    # The kernel completes the handshake (backlog) and takes the request;
    # nobody ever reads it.
    lst = socket.socket()
    lst.bind((LOOPBACK, 0))
    lst.listen(16)
    try:
        fe = free_port()
        start_proxy(proxy, config(fe, lst.getsockname()[1], tserver="400ms"), wait_ports=[fe])
        raw, took = _timed_request(fe)
        assert status_of(raw) == 504, raw[:200]
        assert 0.35 <= took < 5, took
    finally:
        lst.close()


def _slow_download(port: int, path: bytes, pause: float, rcvbuf: int = 16384, every: int = 1,
                   settle: float = 0.0) -> bytes:
    """GET `path` through a small receive window (`rcvbuf`: the proxy's sends
    fall short), waiting `settle` s before reading and `pause` s after every
    `every` reads; the whole raw answer."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(20)
    s.connect((LOOPBACK, port))
    try:
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        time.sleep(settle)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
            if len(chunks) % every == 0:
                time.sleep(pause)
        return b"".join(chunks)
    finally:
        s.close()


def test_a_large_response_to_a_slow_reader_arrives_whole(start_proxy, proxy, big_origin):
    fe = free_port()
    start_proxy(proxy, config(fe, big_origin), wait_ports=[fe])
    head, body = split_response(_slow_download(fe, b"/big", 0.001))
    assert status_of(head) == 200, head
    assert len(body) == len(BIG)
    assert body == BIG


def test_a_client_that_reads_steadily_outlasts_timeout_client(start_proxy, proxy, big_origin):
    """`timeout client` is inactivity: each send the client takes restarts it."""
    fe = free_port()
    text = config(fe, big_origin).replace("timeout client 10s", "timeout client 1s")
    start_proxy(proxy, text, wait_ports=[fe])
    t0 = time.monotonic()
    raw = _slow_download(fe, b"/huge", 0.001)
    took = time.monotonic() - t0
    head, body = split_response(raw)
    assert status_of(head) == 200, head
    assert len(body) == len(HUGE), (len(body), took)
    assert body == HUGE
    assert took > 1.0, f"{took:.2f} s: too fast to show anything"


def test_a_server_that_reads_steadily_outlasts_timeout_server(start_proxy, proxy, big_origin):
    """`timeout server` is inactivity too: an upload the server reads for
    longer than that goes through."""
    fe = free_port()
    start_proxy(proxy, config(fe, big_origin, tserver="1s"), wait_ports=[fe])
    s = connect(fe, timeout=30)
    try:
        t0 = time.monotonic()
        s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(HUGE) + HUGE)
        raw = recv_all(s, timeout=30)
        took = time.monotonic() - t0
    finally:
        s.close()
    head, body = split_response(raw)
    assert status_of(head) == 200, head
    assert body == hashlib.sha256(HUGE).hexdigest().encode()
    assert took > 1.0, f"{took:.2f} s: too fast to show anything"


def test_a_large_upload_to_a_fresh_server_connection_arrives_whole(start_proxy, proxy, big_origin):
    """The request is sent right after connect; the body's sends fall short
    while the server reads slowly, so EPOLLOUT must join the server socket."""
    fe = free_port()
    start_proxy(proxy, config(fe, big_origin), wait_ports=[fe])
    s = connect(fe, timeout=30)
    try:
        s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(BIG) + BIG)
        raw = recv_all(s, timeout=30)
    finally:
        s.close()
    head, body = split_response(raw)
    assert status_of(head) == 200, head
    assert body == hashlib.sha256(BIG).hexdigest().encode()


SERVERS = 2000

STATS_CONFIG = """
global
    nbthread 1
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend stats
    bind 127.0.0.1:$sport
    http-request use-service prometheus-exporter if { path /metrics }
backend farm
$farm
"""


def test_a_large_stats_answer_to_a_slow_reader_arrives_whole(start_proxy, sluice):
    """About 6 MiB of Prometheus text, sent in slices: more than the socket
    buffers hold (tcp_wmem's 4 MiB at most), so the sends fall short."""
    sport = free_port()
    farm = "\n".join(f"    server f{i} 127.0.0.1:{1024 + i}" for i in range(SERVERS))
    start_proxy(sluice, render(STATS_CONFIG, sport=sport, farm=farm), wait_ports=[sport])
    # settle: let the answer fill the socket buffers before reading.
    raw = _slow_download(sport, b"/metrics", 0.005, rcvbuf=8192, every=8, settle=0.3)
    head, body = split_response(raw)
    assert status_of(head) == 200, head
    assert len(body) > 4 << 20, len(body)
    assert body.decode().count('haproxy_server_uweight{proxy="farm",server="f') == SERVERS
