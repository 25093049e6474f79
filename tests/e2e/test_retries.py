"""`retries` + `option redispatch`: with one live and one dead server (no
health checks), every client connection succeeds because connection attempts
that land on the dead server are redispatched to the live one. Without
redispatch (the control), the connections that land on the dead server fail.
"""

import threading

import pytest

from e2eutil import IdentServer, connect, free_port, recv_all, render

CFG = """
defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s

listen rr
    bind 127.0.0.1:$fe
    balance roundrobin
    retries 3
    $redispatch
    server dead 127.0.0.1:$dead
    server live 127.0.0.1:$live
"""


def _clients(fe, n):
    """n concurrent clients; returns the list of answers ('' = closed with
    no data, or an exception text)."""
    out = [None] * n

    def one(i):
        try:
            with connect(fe, timeout=30) as s:
                s.sendall(b"hi")
                out[i] = recv_all(s, limit=4096, timeout=30).decode().strip()
        except Exception as e:
            out[i] = repr(e)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=45)
    return out


@pytest.mark.timeout(90)
def test_redispatch_every_connection_succeeds(proxy, start_proxy, servers):
    live = servers(IdentServer(name="live"))
    fe, dead = free_port(), free_port()
    start_proxy(proxy, render(CFG, fe=fe, dead=dead, live=live.port,
                              redispatch="option redispatch"), wait_ports=[fe])
    answers = _clients(fe, 10)
    assert answers == ["live"] * 10, answers
    assert live.accepted == 10


@pytest.mark.timeout(90)
def test_without_redispatch_dead_server_connections_fail(proxy, start_proxy, servers):
    """Control: proves the dead server really is in the rotation, so the
    test above cannot pass by accident."""
    live = servers(IdentServer(name="live"))
    fe, dead = free_port(), free_port()
    start_proxy(proxy, render(CFG, fe=fe, dead=dead, live=live.port, redispatch=""),
                wait_ports=[fe])
    answers = _clients(fe, 10)
    failed = [a for a in answers if a != "live"]
    assert 0 < len(failed) < 10, f"roundrobin should send some to the dead server: {answers}"
    assert all(a == "" or "Reset" in a for a in failed), answers
    assert live.accepted == 10 - len(failed)
