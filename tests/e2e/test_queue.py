"""Server `maxconn` queueing, `timeout queue`, and frontend `maxconn` (excess
connections wait in the kernel's backlog)."""

import socket
import threading
import time

import pytest

from e2eutil import HoldServer, connect, free_port, recv_all, render

QUEUE = """
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout queue $tqueue

listen q
    bind 127.0.0.1:$fe
    $femaxconn
    server s1 127.0.0.1:$be maxconn $srvmaxconn
"""


def _run_clients(fe, n, timeout=60):
    """n concurrent clients: send `client-i`, read the reply to EOF."""
    barrier = threading.Barrier(n, timeout=30)
    results = {}

    def client(i):
        msg = b"client-%d" % i
        try:
            barrier.wait()
            with connect(fe, timeout=timeout) as s:
                s.sendall(msg)
                reply = recv_all(s, limit=4096, timeout=timeout)
            results[i] = True if reply == b"ok:" + msg else f"bad reply {reply!r}"
        except Exception as e:
            results[i] = repr(e)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout + 10)
    return results


@pytest.mark.timeout(90)
def test_server_maxconn_queues_excess(proxy, start_proxy, servers):
    be = servers(HoldServer(hold=0.5, name="hold"))
    fe = free_port()
    start_proxy(proxy, render(QUEUE, fe=fe, be=be.port, tqueue="30s", femaxconn="",
                              srvmaxconn=2), wait_ports=[fe])
    results = _run_clients(fe, 10)
    bad = {i: r for i, r in results.items() if r is not True}
    assert len(results) == 10 and not bad, f"clients failed: {bad}"
    be.wait_done(10)
    assert be.accepted == 10
    assert be.max_active <= 2, f"server saw {be.max_active} concurrent connections (maxconn 2)"
    assert be.max_active == 2, "the queue should keep both server slots busy"


@pytest.mark.timeout(60)
def test_timeout_queue_closes_cleanly(proxy, start_proxy, servers):
    be = servers(HoldServer(hold=8.0, name="busy"))
    fe = free_port()
    start_proxy(proxy, render(QUEUE, fe=fe, be=be.port, tqueue="500ms", femaxconn="",
                              srvmaxconn=1), wait_ports=[fe])
    busy = connect(fe, timeout=30)
    try:
        busy.sendall(b"first")
        be.wait_accepted(1, timeout=10)

        queued = connect(fe, timeout=30)
        with queued:
            queued.sendall(b"second")
            # Expect a clean close (FIN, recv() == b'') with no data, well
            # before the busy connection is released (8 s).
            try:
                data = recv_all(queued, limit=4096, timeout=6)
            except ConnectionResetError:
                pytest.fail("queued client was reset; expected a clean close (FIN)")
            assert data == b"", f"queued client received data: {data!r}"
        assert be.accepted == 1, "the queued request must never reach the server"
        assert be.active == 1, "the first connection is still being served"
    finally:
        busy.close()


@pytest.mark.timeout(90)
def test_frontend_maxconn_excess_waits_in_backlog(proxy, start_proxy, servers):
    be = servers(HoldServer(hold=0.5, name="hold"))
    fe = free_port()
    start_proxy(proxy, render(QUEUE, fe=fe, be=be.port, tqueue="30s", femaxconn="maxconn 2",
                              srvmaxconn=100), wait_ports=[fe])
    results = _run_clients(fe, 8)
    bad = {i: r for i, r in results.items() if r is not True}
    assert len(results) == 8 and not bad, f"clients failed: {bad}"
    be.wait_done(8)
    assert be.accepted == 8
    assert be.max_active <= 2, f"frontend maxconn 2 let {be.max_active} through at once"
