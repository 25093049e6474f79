"""Server connection pool limits (`pool-max-conn`, `pool-purge-delay`),
`option originalto`, and WebSocket: an upgrade through the proxy relays
frames both ways and `timeout tunnel` governs the idle tunnel. Each test
runs under Sluice and haproxy (the oracle)."""

import base64
import hashlib
import http.client
import json
import os
import socket
import struct
import time

import pytest

from e2eutil import LOOPBACK, TcpServer, free_port, wait_until
from http_helpers import EchoHTTPServer, count_connections, header_values, one_shot, request

POOL = """
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  http-reuse always

frontend fe
  bind {lo}:{fport}
  default_backend be

backend be
  server app {lo}:{srv} {opts}
"""


def _keepalive_requests(fport, n):
    conn = http.client.HTTPConnection(LOOPBACK, fport, timeout=10)
    try:
        for i in range(n):
            status, _, _ = request(conn, "GET", f"/r{i}", {"Host": "x"})
            assert status == 200
    finally:
        conn.close()


@pytest.mark.timeout(60)
def test_pool_max_conn_zero_disables_reuse(start_proxy, proxy, servers):
    app = servers(EchoHTTPServer("app"))
    fport = free_port()
    start_proxy(proxy, POOL.format(lo=LOOPBACK, fport=fport, srv=app.port, opts="pool-max-conn 0"),
                wait_ports=[fport])
    _keepalive_requests(fport, 6)
    assert app.requests == 6
    assert app.connections == 6


@pytest.mark.timeout(60)
def test_reuse_and_purge_delay(start_proxy, proxy, servers):
    app = servers(EchoHTTPServer("app"))
    fport = free_port()
    start_proxy(proxy, POOL.format(lo=LOOPBACK, fport=fport, srv=app.port,
                                   opts="pool-purge-delay 300ms"), wait_ports=[fport])
    _keepalive_requests(fport, 6)
    assert app.requests == 6
    assert app.connections < 6  # reused
    # Idle server connections are closed after the purge delay.
    wait_until(lambda: count_connections(app.port) == 0, timeout=5.0,
               what="idle server connections purged")


@pytest.mark.timeout(60)
def test_pool_low_conn_keeps_reuse_and_purge(start_proxy, proxy, servers):
    """`pool-low-conn` only gates taking idle connections from other threads:
    requests from separate client connections still reuse the idle server
    connection, and the purge delay still closes it."""
    app = servers(EchoHTTPServer("app"))
    fport = free_port()
    start_proxy(proxy, POOL.format(lo=LOOPBACK, fport=fport, srv=app.port,
                                   opts="pool-low-conn 4 pool-purge-delay 300ms"),
                wait_ports=[fport])
    for i in range(6):
        status, _, _ = one_shot(fport, "GET", f"/c{i}", {"Host": "x"})
        assert status == 200
    assert app.requests == 6
    assert app.connections < 6  # reused across client connections
    wait_until(lambda: count_connections(app.port) == 0, timeout=5.0,
               what="idle server connections purged")


ORIGINALTO = """
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s

frontend fe
  bind {lo}:{fport}
  option originalto
  default_backend be

frontend fe_hdr
  bind {lo}:{fport2}
  option originalto header X-Dst
  default_backend be

frontend fe_except
  bind {lo}:{fport3}
  option originalto except 127.0.0.0/8
  default_backend be

backend be
  server app {lo}:{srv}
"""


@pytest.mark.timeout(60)
def test_originalto(start_proxy, proxy, servers):
    app = servers(EchoHTTPServer("app"))
    ports = [free_port() for _ in range(3)]
    start_proxy(proxy, ORIGINALTO.format(lo=LOOPBACK, fport=ports[0], fport2=ports[1],
                                         fport3=ports[2], srv=app.port), wait_ports=ports)

    def seen(port):
        _, _, data = one_shot(port, "GET", "/", {"Host": "x"})
        return [(k.lower(), v) for k, v in json.loads(data)["headers"]]

    assert ("x-original-to", LOOPBACK) in seen(ports[0])
    assert ("x-dst", LOOPBACK) in seen(ports[1])
    assert not [h for h in seen(ports[2]) if h[0] == "x-original-to"]


# ----------------------------------------------------------------- WebSocket

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ws_frame(payload: bytes, opcode: int = 1, mask: bool = True) -> bytes:
    head = bytes([0x80 | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError(f"closed after {len(out)} of {n} bytes")
        out += chunk
    return out


def ws_read(sock):
    b0, b1 = read_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", read_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", read_exact(sock, 8))[0]
    key = read_exact(sock, 4) if b1 & 0x80 else None
    data = read_exact(sock, n)
    if key:
        data = bytes(b ^ key[i % 4] for i, b in enumerate(data))
    return b0 & 0x0F, data


class WebSocketEcho(TcpServer):
    """Answers the upgrade, greets first (server to client), then echoes
    every frame back with "echo:" in front."""

    def handle(self, conn, info):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        key = b""
        for line in data.split(b"\r\n"):
            if line.lower().startswith(b"sec-websocket-key:"):
                key = line.split(b":", 1)[1].strip()
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        conn.sendall(ws_frame(b"hello from server", mask=False))
        while True:
            try:
                op, payload = ws_read(conn)
            except (ConnectionError, OSError):
                return
            if op == 8:
                conn.sendall(ws_frame(payload, opcode=8, mask=False))
                return
            conn.sendall(ws_frame(b"echo:" + payload, opcode=op, mask=False))


WS = """
defaults
  mode http
  timeout connect 1s
  timeout client 400ms
  timeout server 400ms
  timeout tunnel 1500ms

frontend fe
  bind {lo}:{fport}
  default_backend be

backend be
  server ws {lo}:{srv}
"""


@pytest.mark.timeout(60)
def test_websocket_relays_both_ways_and_tunnel_timeout(start_proxy, proxy, servers):
    ws = servers(WebSocketEcho(name="ws"))
    fport = free_port()
    start_proxy(proxy, WS.format(lo=LOOPBACK, fport=fport, srv=ws.port), wait_ports=[fport])
    s = socket.create_connection((LOOPBACK, fport), timeout=10)
    try:
        key = base64.b64encode(os.urandom(16))
        s.sendall(b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        want = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
        assert want in head, head
        assert ws_read(s) == (1, b"hello from server")
        for i in range(3):
            s.sendall(ws_frame(b"msg%d" % i))
            assert ws_read(s) == (1, b"echo:msg%d" % i)
        big = os.urandom(200_000)
        s.sendall(ws_frame(big, opcode=2))
        assert ws_read(s) == (2, b"echo:" + big)
        # Idle longer than timeout client/server but within timeout tunnel: still open.
        time.sleep(0.9)
        s.sendall(ws_frame(b"after idle"))
        assert ws_read(s) == (1, b"echo:after idle")
        # Idle past timeout tunnel: the proxy closes the tunnel.
        t0 = time.monotonic()
        s.settimeout(10)
        assert s.recv(1) == b""
        waited = time.monotonic() - t0
        assert 1.2 <= waited <= 4.0, waited
    finally:
        s.close()
