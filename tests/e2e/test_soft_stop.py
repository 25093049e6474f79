"""SIGUSR1 (soft stop): listeners close at once, live sessions keep working,
the process exits by itself when the last session ends."""

import signal
import socket
import time

import pytest

from e2eutil import EchoServer, connect, free_port, port_is_listening, recv_exact, render, wait_until

CFG = """
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s

listen soft
    bind 127.0.0.1:$fe
    server s1 127.0.0.1:$be
"""


@pytest.mark.timeout(60)
def test_sigusr1_soft_stop(proxy, start_proxy, servers):
    be = servers(EchoServer(name="echo"))
    fe = free_port()
    p = start_proxy(proxy, render(CFG, fe=fe, be=be.port), wait_ports=[fe])

    live = connect(fe, timeout=20)
    try:
        live.sendall(b"before-signal")
        assert recv_exact(live, 13) == b"before-signal"

        p.signal(signal.SIGUSR1)

        # New connections are refused once the listener is gone (bounded wait).
        wait_until(lambda: not port_is_listening(fe), timeout=10, what="listener closed")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", fe), timeout=5).close()

        # The live session still relays both ways, and keeps the process up.
        for i in range(3):
            msg = b"after-signal-%d" % i
            live.sendall(msg)
            assert recv_exact(live, len(msg)) == msg
            time.sleep(0.2)
        assert p.alive(), f"{proxy.kind} exited while a session was live\n{p.logs()}"
    finally:
        live.close()

    # Once the last session has ended, the process exits by itself.
    rc = p.wait_exit(timeout=20)
    assert rc == 0, f"soft stop should exit 0, got {rc}\n{p.logs()}"
