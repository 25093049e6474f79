"""Batched sends (src/core/send_batch.h). A request head toward the server (HTTP)
and the first bytes of a fresh server connection (TCP) wait for the end of the
loop turn and go to the kernel together, in one io_uring_enter. The same traffic
runs with batching on (the default) and off (SLUICE_IO_URING=0): nothing may be
lost, duplicated, reordered or mixed up between connections, and the switch
must really change the path (only a batching worker holds an io_uring ring)."""

import http.client
import json
import os
import signal
import socket
import threading

import pytest

from e2eutil import EchoServer, LOOPBACK, free_port, recv_all, wait_until
from http_helpers import EchoHTTPServer

HTTP_CONFIG = """
global
    nbthread 2
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    http-reuse always

frontend fe
    bind 127.0.0.1:{fe}
    default_backend app

backend app
    server s1 127.0.0.1:{srv}
"""

TCP_CONFIG = """
global
    nbthread 2
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s

listen echo
    bind 127.0.0.1:{fe}
    server s1 127.0.0.1:{srv}
"""

MODES = {"batched": {}, "unbatched": {"SLUICE_IO_URING": "0"}}


def uring_fds(pid: int) -> int:
    """io_uring descriptors held by the process."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[io_uring]":
                n += 1
        except OSError:
            pass
    return n


def run_threads(n: int, fn) -> list:
    errors: list = []

    def wrap(i):
        try:
            fn(i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"client {i}: {e!r}")

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a client did not finish"
    return errors


@pytest.mark.timeout(90)
@pytest.mark.parametrize("mode", MODES)
def test_http_keepalive_clients_get_their_own_answers(sluice, start_proxy, servers, mode):
    backend = servers(EchoHTTPServer("app"))
    fe = free_port()
    p = start_proxy(sluice, HTTP_CONFIG.format(fe=fe, srv=backend.port), wait_ports=[fe],
                    env=MODES[mode])
    clients, per_client = 24, 20

    def client(i):
        conn = http.client.HTTPConnection(LOOPBACK, fe, timeout=20)
        try:
            for j in range(per_client):
                body = f"body-{i}-{j}-" + "x" * (j * 97)
                if j % 3 == 0:
                    conn.request("GET", f"/c{i}/r{j}", headers={"Host": "app"})
                else:
                    conn.request("POST", f"/c{i}/r{j}", body=body.encode(),
                                 headers={"Host": "app", "Content-Type": "text/plain"})
                r = conn.getresponse()
                doc = json.loads(r.read())
                assert r.status == 200
                assert doc["path"] == f"/c{i}/r{j}", doc["path"]
                assert doc["body"] == ("" if j % 3 == 0 else body)
        finally:
            conn.close()

    errors = run_threads(clients, client)
    assert not errors, errors[:3]
    # Each request reached the server exactly once.
    assert backend.requests == clients * per_client
    if mode == "batched":
        assert uring_fds(p.pid) >= 1, "batching is on but no worker made a ring"
    else:
        assert uring_fds(p.pid) == 0


@pytest.mark.timeout(90)
@pytest.mark.parametrize("mode", MODES)
def test_tcp_new_connections_relay_byte_exact(sluice, start_proxy, servers, mode):
    backend = servers(EchoServer())
    fe = free_port()
    p = start_proxy(sluice, TCP_CONFIG.format(fe=fe, srv=backend.port), wait_ports=[fe],
                    env=MODES[mode])
    rounds, clients = 5, 32

    # First round with the proxy stopped while the clients connect and send:
    # when it resumes, every accepted connection already has its first bytes,
    # so the first send to the server is the batched one (connected clients
    # otherwise race the proxy's accept with their first send).
    os.kill(p.pid, signal.SIGSTOP)
    try:
        socks = []
        for i in range(clients):
            s = socket.create_connection((LOOPBACK, fe), timeout=20)
            s.sendall(b"first %d " % i)
            socks.append(s)
    finally:
        os.kill(p.pid, signal.SIGCONT)
    for i, s in enumerate(socks):
        try:
            s.sendall(b"then more")
            s.shutdown(socket.SHUT_WR)
            assert recv_all(s, timeout=20) == b"first %d then more" % i
        finally:
            s.close()

    def client(i):
        for r in range(rounds):
            # A first piece sent with the connect (batched early send), more
            # after it, then a half-close: everything must come back in order.
            first = f"hello {i}/{r} ".encode() * (1 + i)
            rest = bytes((i * 7 + k) % 251 for k in range(3000 + 100 * r))
            s = socket.create_connection((LOOPBACK, fe), timeout=20)
            try:
                s.sendall(first)
                s.sendall(rest)
                s.shutdown(socket.SHUT_WR)
                got = recv_all(s, timeout=20)
            finally:
                s.close()
            assert got == first + rest, f"round {r}: {len(got)} bytes back"

    errors = run_threads(clients, client)
    assert not errors, errors[:3]
    total = (rounds + 1) * clients
    wait_until(lambda: backend.accepted >= total, 10, what="every connection reached the server")
    assert backend.accepted == total
    assert (uring_fds(p.pid) >= 1) == (mode == "batched")


@pytest.mark.timeout(60)
def test_refused_server_with_a_batched_first_send_is_retried_elsewhere(sluice, start_proxy,
                                                                       servers):
    """The first bytes queued for a server that refuses: the batch reports the
    failure and the connection is retried on the next server (option redispatch)."""
    good = servers(EchoServer())
    dead = free_port()  # nothing listens there
    fe = free_port()
    cfg = TCP_CONFIG.replace("nbthread 2", "nbthread 1").format(fe=fe, srv=dead)
    cfg = cfg.replace("    server s1", "    balance roundrobin\n    retries 1\n    option redispatch\n"
                      f"    server s2 127.0.0.1:{good.port}\n    server s1")
    start_proxy(sluice, cfg, wait_ports=[fe])
    for i in range(6):
        s = socket.create_connection((LOOPBACK, fe), timeout=10)
        try:
            s.sendall(b"ping %d" % i)
            s.shutdown(socket.SHUT_WR)
            assert recv_all(s, timeout=10) == b"ping %d" % i
        finally:
            s.close()
