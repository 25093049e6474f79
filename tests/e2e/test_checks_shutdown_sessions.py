"""`on-marked-down shutdown-sessions` and `on-marked-up
shutdown-backup-sessions` (issue 4), against sluice and haproxy: a
long-lived TCP session to a server that is marked down is closed by the
proxy when the server has the option, and survives without it; sessions on
a backup server are closed when an active server with the option comes up."""

import socket
import time

import pytest

from checks_helpers import HttpBackend
from e2eutil import EchoServer, free_port, render

CFG_DOWN = """
defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s

listen with_option
    bind 127.0.0.1:$fe_a
    server s1 127.0.0.1:$echo_a check port $chk_a inter 200ms fall 1 rise 1 on-marked-down shutdown-sessions

listen without_option
    bind 127.0.0.1:$fe_b
    server s2 127.0.0.1:$echo_b check port $chk_b inter 200ms fall 1 rise 1
"""

CFG_UP = """
defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s

listen app
    bind 127.0.0.1:$fe
    server act 127.0.0.1:$echo_a check port $chk inter 200ms fall 1 rise 1 on-marked-up shutdown-backup-sessions
    server bk 127.0.0.1:$echo_b backup
"""


def _echo(c: socket.socket, data: bytes) -> bytes:
    c.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = c.recv(4096)
        if not chunk:
            break
        got += chunk
    return got


def _closed_within(c: socket.socket, seconds: float) -> bool:
    c.settimeout(seconds)
    try:
        return c.recv(4096) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


@pytest.mark.timeout(60)
def test_marked_down_closes_sessions_only_with_the_option(proxy, start_proxy, servers):
    echo_a, echo_b = servers(EchoServer(name="a")), servers(EchoServer(name="b"))
    chk_a, chk_b = servers(HttpBackend("chk_a")), servers(HttpBackend("chk_b"))
    fe_a, fe_b = free_port(), free_port()
    start_proxy(proxy, render(CFG_DOWN, fe_a=fe_a, fe_b=fe_b, echo_a=echo_a.port,
                              echo_b=echo_b.port, chk_a=chk_a.port, chk_b=chk_b.port),
                wait_ports=[fe_a, fe_b])
    time.sleep(0.5)
    with socket.create_connection(("127.0.0.1", fe_a), timeout=5) as a, \
            socket.create_connection(("127.0.0.1", fe_b), timeout=5) as b:
        assert _echo(a, b"hello a") == b"hello a"
        assert _echo(b, b"hello b") == b"hello b"
        chk_a.down()
        chk_b.down()
        assert _closed_within(a, 5.0), "the session to the DOWN server stayed open"
        time.sleep(0.6)  # s2 is DOWN too by now (fall 1, inter 200ms)
        b.settimeout(5)
        assert _echo(b, b"still here") == b"still here"


@pytest.mark.timeout(60)
def test_marked_up_closes_backup_sessions(proxy, start_proxy, servers):
    echo_a, echo_b = servers(EchoServer(name="a")), servers(EchoServer(name="b"))
    chk = servers(HttpBackend("chk"))
    chk.down()  # the active server starts DOWN after its first check
    fe = free_port()
    start_proxy(proxy, render(CFG_UP, fe=fe, echo_a=echo_a.port, echo_b=echo_b.port,
                              chk=chk.port), wait_ports=[fe])
    time.sleep(0.8)
    with socket.create_connection(("127.0.0.1", fe), timeout=5) as c:
        assert _echo(c, b"on backup") == b"on backup"
        assert echo_b.accepted == 1 and echo_a.accepted == 0
        chk.up()
        assert _closed_within(c, 5.0), "the backup session stayed open"
    with socket.create_connection(("127.0.0.1", fe), timeout=5) as c:
        assert _echo(c, b"on active") == b"on active"
    assert echo_a.accepted == 1
