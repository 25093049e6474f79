"""Runtime API commands that act on a server's checks and on the process's
limits: `set server ... health|agent`, `check-addr|check-port|agent-addr|
agent-port|agent-send`, `fqdn|ssl` answers, `set maxconn global`, and `show
info typed|json`. Answers are compared with haproxy's byte for byte; the
behaviours (a forced state that later checks move on, checks that follow a
new port, an agent that gets the new line, a lowered global maxconn that
holds a connection back) run against both."""

import json
import os
import re
import socket
import time

import pytest

from e2eutil import EchoServer, IdentServer, TcpServer, free_port, render, wait_until
from test_stats_socket import cli, stat

ANSWERS = """
global
    nbthread 1
    maxconn 100
    stats socket $sock level admin
    stats timeout 30s

defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen app
    mode tcp
    bind 127.0.0.1:$fe
    server c1 127.0.0.1:$closed check inter 1s
    server a1 127.0.0.1:$closed agent-check agent-port $closed agent-inter 1s
    server n1 127.0.0.1:$closed
"""


def _start(pbin, start_proxy, tmp_path, template, **values):
    sock = tmp_path / f"{pbin.kind}.sock"
    fe = free_port()
    cfg = render(template, sock=sock, fe=fe, **values)
    start_proxy(pbin, cfg, wait_ports=[fe], name=pbin.kind)
    wait_until(lambda: os.path.exists(sock), 10, what="stats socket")
    return sock, fe


def _fields(state_text, server):
    for line in state_text.split("\n"):
        f = line.split(" ")
        if len(f) == 25 and f[3] == server:
            return f
    raise KeyError(server)


def test_answers_match_haproxy(sluice, haproxy, start_proxy, tmp_path):
    closed = free_port()
    socks = [_start(p, start_proxy, tmp_path, ANSWERS, closed=closed)[0] for p in (sluice, haproxy)]
    commands = [
        "set server app/n1 agent up",
        "set server app/c1 health",
        "set server app/c1 health maybe",
        "set server app/a1 agent",
        "set server app/a1 agent stopping",
        "set server app/n1 health down",
        "set server app/n1 health stopping",
        "set server app/n1 health up",
        "set server app/c1 health up",
        "set server app/a1 agent down",
        "set server app/a1 agent up",
        "set server app/n1 check-addr 127.0.0.2",
        "set server app/n1 check-port 2",
        "set server app/c1 check-addr",
        "set server app/c1 check-addr bad",
        "set server app/c1 check-addr 127.0.0.3 port",
        "set server app/c1 check-addr 127.0.0.3 port x",
        "set server app/c1 check-addr 127.0.0.3 port 70000",
        "set server app/c1 check-addr 127.0.0.3 port 1234",
        "set server app/c1 check-addr ::1",
        "set server app/c1 check-port",
        "set server app/c1 check-port x",
        "set server app/c1 check-port 70000",
        "set server app/c1 check-port 4444",
        "set server app/c1 agent-addr 127.0.0.1",
        "set server app/c1 agent-port 1",
        "set server app/c1 agent-send x",
        "set server app/a1 agent-addr",
        "set server app/a1 agent-addr bad",
        "set server app/a1 agent-addr localhost port 5555",
        "set server app/a1 agent-port",
        "set server app/a1 agent-port x",
        "set server app/a1 agent-port 6666",
        "set server app/a1 agent-send",
        "set server app/a1 agent-send hello",
        "disable agent app/a1",
        "set server app/a1 agent up",
        "set server app/a1 agent-port 1",
        "set server app/a1 agent-send x",
        "enable agent app/a1",
        "disable health app/c1",
        "set server app/c1 check-port 1",
        "enable health app/c1",
        "set server app/n1 fqdn",
        "set server app/n1 fqdn www.example.com",
        "set server app/n1 ssl on",
        "set maxconn global",
        "set maxconn global 101",
        "set maxconn global 50",
        "set maxconn global 0",
        "set maxconn global x",
    ]
    for cmd in commands:
        ours, theirs = cli(socks[0], cmd), cli(socks[1], cmd)
        assert ours == theirs, f"{cmd!r}:\nsluice:  {ours!r}\nhaproxy: {theirs!r}"
    # What show servers state says of the changed check targets.
    ours, theirs = cli(socks[0], "show servers state app"), cli(socks[1], "show servers state app")
    for srv in ("c1", "a1", "n1"):
        # srv_check_port, srv_check_addr, srv_agent_addr, srv_agent_port
        assert _fields(ours, srv)[21:] == _fields(theirs, srv)[21:], srv
    assert _fields(ours, "c1")[21:23] == ["4444", "::1"]
    assert _fields(ours, "a1")[23:] == ["127.0.0.1", "6666"]
    # Maxconn back to the configured value, as haproxy's.
    for sock in socks:
        assert "\nMaxconn: 100\nHard_maxconn: 100\n" in cli(sock, "show info")


FORCED = """
global
    stats socket $sock level admin

defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen app
    mode tcp
    bind 127.0.0.1:$fe
    server s 127.0.0.1:$open check inter 150ms rise 2 fall 3
    server n 127.0.0.1:$open
"""


def _status(sock, srv):
    return stat(sock, "app", srv)["status"]


@pytest.mark.timeout(40)
def test_forced_health_then_checks_move_it(proxy, start_proxy, servers, tmp_path):
    """`health down` takes a passing server DOWN at once; its checks bring
    it back after `rise` successes. `health stopping` is NOLB; an unchecked
    server keeps what it was told."""
    ident = servers(IdentServer(name="open"))
    sock, _ = _start(proxy, start_proxy, tmp_path, FORCED, open=ident.port)
    wait_until(lambda: _status(sock, "s") == "UP", 10, what="s UP")
    # The answer comes after the change: the next command sees it.
    out = cli(sock, "set server app/s health down; show stat")
    row = [l for l in out.split("\n") if l.startswith("app,s,")][0]
    assert row.split(",")[17].startswith("DOWN"), row
    wait_until(lambda: _status(sock, "s") == "UP", 10, what="checks bring s back UP")
    assert cli(sock, "set server app/s health stopping") == "\n"
    assert _status(sock, "s") == "NOLB"
    # The next passing check takes it back to UP (no disable-on-404 here).
    wait_until(lambda: _status(sock, "s") == "UP", 10, what="checks end stopping")
    assert cli(sock, "set server app/n health down") == "\n"
    assert _status(sock, "n") == "DOWN"
    time.sleep(0.5)  # no check: it stays DOWN
    assert _status(sock, "n") == "DOWN"
    assert cli(sock, "set server app/n health stopping") == "\n"
    assert _status(sock, "n") == "NOLB"
    assert cli(sock, "set server app/n health up") == "\n"
    assert _status(sock, "n") == "no check"


MOVED = """
global
    stats socket $sock level admin

defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen app
    mode tcp
    bind 127.0.0.1:$fe
    server s 127.0.0.1:$open check port $closed inter 150ms rise 1 fall 1 agent-check agent-port $closed agent-inter 150ms
"""


class AgentServer(TcpServer):
    """Records what each agent connection sent, answers `up`."""

    def handle(self, conn, info):
        conn.settimeout(2)
        data = b""
        try:
            data = conn.recv(4096)
        except socket.timeout:
            pass
        info["line"] = data
        conn.sendall(b"up\n")


@pytest.mark.timeout(40)
def test_check_port_and_agent_targets_move_the_checks(proxy, start_proxy, servers, tmp_path):
    ident = servers(IdentServer(name="open"))
    agent = servers(AgentServer(name="agent"))
    closed = free_port()
    sock, _ = _start(proxy, start_proxy, tmp_path, MOVED, open=ident.port, closed=closed)
    wait_until(lambda: _status(sock, "s").startswith("DOWN"), 10, what="s DOWN (closed port)")
    assert cli(sock, f"set server app/s check-port {ident.port}") == "\n"
    wait_until(lambda: _status(sock, "s") == "UP", 10, what="check follows check-port")
    assert cli(sock, f"set server app/s check-addr 127.0.0.1 port {closed}") == "\n"
    wait_until(lambda: _status(sock, "s").startswith("DOWN"), 10, what="check follows check-addr")
    assert cli(sock, f"set server app/s check-port {ident.port}") == "\n"
    wait_until(lambda: _status(sock, "s") == "UP", 10, what="back UP")
    # The agent: new port, then a new line to send.
    assert cli(sock, f"set server app/s agent-port {agent.port}") == "\n"
    agent.wait_accepted(1, timeout=10)
    assert cli(sock, "set server app/s agent-send hello") == "\n"
    wait_until(lambda: any(i.get("line") == b"hello" for i in list(agent.infos)), 10,
               what="agent receives the new agent-send line")
    n = agent.accepted
    assert cli(sock, f"set server app/s agent-addr 127.0.0.1 port {closed}") == "\n"
    time.sleep(0.6)  # several agent intervals: at most the one in flight arrives
    assert agent.accepted <= n + 1


LIMITED = """
global
    maxconn 10
    stats socket $sock level admin

defaults
    timeout connect 1s
    timeout client 10s
    timeout server 10s

listen app
    mode tcp
    bind 127.0.0.1:$fe
    server e 127.0.0.1:$echo
"""


def _echo_ok(s, payload, timeout):
    s.settimeout(timeout)
    try:
        s.sendall(payload)
        return s.recv(100) == payload
    except (socket.timeout, OSError):
        return False


@pytest.mark.timeout(40)
def test_set_maxconn_global_limits_accepts(proxy, start_proxy, servers, tmp_path):
    echo = servers(EchoServer(name="echo"))
    sock, fe = _start(proxy, start_proxy, tmp_path, LIMITED, echo=echo.port)
    assert cli(sock, "set maxconn global 1") == "\n"
    first = socket.create_connection(("127.0.0.1", fe), timeout=5)
    second = None
    try:
        assert _echo_ok(first, b"one", 5)
        # The kernel completes the handshake, but the proxy does not accept it.
        second = socket.create_connection(("127.0.0.1", fe), timeout=5)
        assert not _echo_ok(second, b"two", 1.0)
        assert "\nMaxconn: 1\n" in cli(sock, "show info")
        # Raised again: the waiting connection is accepted at once.
        assert cli(sock, "set maxconn global 0") == "\n"
        second.settimeout(5)
        assert second.recv(100) == b"two"
    finally:
        first.close()
        if second is not None:
            second.close()


def test_set_maxconn_frontend_limits_accepts(sluice, start_proxy, servers, tmp_path):
    # Sluice only: haproxy 2.6 answers the raise with an empty reply and
    # resets the connection that waited, instead of accepting it.
    echo = servers(EchoServer(name="echo"))
    sock, fe = _start(sluice, start_proxy, tmp_path, LIMITED, echo=echo.port)
    assert cli(sock, "set maxconn frontend app 1") == "\n"
    first = socket.create_connection(("127.0.0.1", fe), timeout=5)
    second = None
    try:
        assert _echo_ok(first, b"one", 5)
        second = socket.create_connection(("127.0.0.1", fe), timeout=5)
        assert not _echo_ok(second, b"two", 1.0)
        # Raised again: the waiting connection is accepted at once, not when
        # the first one ends.
        assert cli(sock, "set maxconn frontend app 10") == "\n"
        second.settimeout(5)
        assert second.recv(100) == b"two"
    finally:
        first.close()
        if second is not None:
            second.close()


def _typed(text):
    out = []
    for line in text.split("\n"):
        if not line:
            continue
        m = re.match(r"^(\d+)\.([^.]+(?: [^.]+)?)\.1:([A-Za-z]{3}):(\w+):", line)
        assert m, line
        out.append(m.groups())
    return out


def test_show_info_typed_and_json_match_haproxy(sluice, haproxy, start_proxy, tmp_path):
    closed = free_port()
    socks = [_start(p, start_proxy, tmp_path, ANSWERS, closed=closed)[0] for p in (sluice, haproxy)]
    ours, theirs = cli(socks[0], "show info typed"), cli(socks[1], "show info typed")
    assert ours.endswith("\n\n") and theirs.endswith("\n\n")
    # Same positions, names, tags and types, in the same order.
    assert _typed(ours) == _typed(theirs)
    jo, jt = cli(socks[0], "show info json"), cli(socks[1], "show info json")
    assert jo.endswith("]\n\n") and jt.endswith("]\n\n")

    def shape(doc):
        return [(e["field"]["pos"], e["field"]["name"], e["processNum"], e["tags"],
                 e["value"]["type"], sorted(e)) for e in doc]

    assert shape(json.loads(jo)) == shape(json.loads(jt))
    # Values are the process's: the plain form and the typed form agree.
    plain = dict(l.split(": ", 1) for l in cli(socks[0], "show info").split("\n") if ": " in l)
    for line in ours.split("\n"):
        if line.startswith("15.Maxconn."):
            assert line.rsplit(":", 1)[1] == plain["Maxconn"]
