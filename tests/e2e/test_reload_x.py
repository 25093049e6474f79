"""`-x SOCKET` with `-sf`: the new process takes the old one's listening
sockets over its stats socket (`expose-fd listeners`, `_getsocks`), so a
connection queued on the old process's sockets is accepted by the new one,
never reset. Without -x each process binds its own sockets; what that loses
is printed for comparison, not asserted. Bad input: a socket without
expose-fd, or a missing socket, is a warning and the process binds anew."""

import time

import pytest

from e2eutil import free_port, render
from http_helpers import EchoHTTPServer
from test_reload import CLOSE_REQUEST, Load

CFG = """
global
    nbthread 2
    hard-stop-after 20s
    stats socket $sock level admin $expose
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:$fe
    default_backend be

backend be
    server s1 127.0.0.1:$be
"""


def reloads(sluice, start_proxy, fe, cfg, sock, use_x: bool, name: str):
    """3 reloads by -sf (and -x when asked) under new-connection load."""
    procs = [start_proxy(sluice, cfg, wait_ports=[fe], name=f"{name}0")]
    with Load(fe, keepalive=0, fresh=3, pause=0.001) as load:
        time.sleep(0.8)
        for i in range(3):
            old = procs[-1]
            args = (["-x", str(sock)] if use_x else []) + ["-sf", str(old.pid)]
            procs.append(start_proxy(sluice, cfg, wait_ports=[fe], name=f"{name}{i + 1}",
                                     extra_args=args))
            old.wait_exit(timeout=25)
            time.sleep(0.8)
        time.sleep(0.5)
    assert procs[-1].alive()
    assert all(not p.alive() for p in procs[:-1])
    return load, procs


@pytest.mark.timeout(120)
def test_x_reloads_lose_no_connection(sluice, start_proxy, servers, tmp_path):
    be = servers(EchoHTTPServer("b1"))
    fe = free_port()
    sock = tmp_path / "stats.sock"
    cfg = render(CFG, fe=fe, be=be.port, sock=sock, expose="expose-fd listeners")
    load, procs = reloads(sluice, start_proxy, fe, cfg, sock, True, "x")
    print(f"\nsluice: 3 reloads by -x -sf under new-connection load: {load.summary()}")
    for p in procs[1:]:
        assert "-x: 2 of 2 listening sockets taken" in p.stderr(), p.stderr()
    assert load.ok > 300, load.summary()
    assert load.failed == 0 and load.refused == 0, load.summary()


@pytest.mark.timeout(120)
def test_without_x_for_comparison(sluice, start_proxy, servers, tmp_path):
    be = servers(EchoHTTPServer("b1"))
    fe = free_port()
    sock = tmp_path / "stats.sock"
    cfg = render(CFG, fe=fe, be=be.port, sock=sock, expose="")
    load, _ = reloads(sluice, start_proxy, fe, cfg, sock, False, "nox")
    # Reported, not asserted: resets of connections queued on a closed socket.
    print(f"\nsluice: 3 reloads by -sf WITHOUT -x under new-connection load: {load.summary()}")
    assert load.ok > 300, load.summary()


@pytest.mark.timeout(60)
def test_x_bad_sockets_warn_and_bind_anew(sluice, start_proxy, servers, tmp_path):
    be = servers(EchoHTTPServer("b1"))
    fe = free_port()
    sock = tmp_path / "stats.sock"
    cfg = render(CFG, fe=fe, be=be.port, sock=sock, expose="")
    old = start_proxy(sluice, cfg, wait_ports=[fe], name="noexpose")
    new = start_proxy(sluice, cfg, wait_ports=[fe], name="refused",
                      extra_args=["-x", str(sock), "-sf", str(old.pid)])
    assert old.wait_exit(timeout=10) == 0
    assert "-x: " in new.stderr() and "expose-fd listeners" in new.stderr(), new.stderr()
    assert "binding the listening sockets anew" in new.stderr()
    missing = start_proxy(sluice, cfg, wait_ports=[fe], name="missing",
                          extra_args=["-x", str(tmp_path / "nosuch.sock"), "-sf", str(new.pid)])
    assert new.wait_exit(timeout=10) == 0
    assert "cannot connect to" in missing.stderr(), missing.stderr()
    # Still serving.
    import socket
    s = socket.create_connection(("127.0.0.1", fe), timeout=5)
    s.sendall(CLOSE_REQUEST)
    assert Load._response(s)[0] == 200
    s.close()
