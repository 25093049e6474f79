"""Server state across reloads: `server-state-file` and
`load-server-state-from-file`. In master-worker mode Sluice saves the
running worker's `show servers state` to the server-state-file before the
new worker starts; the new worker loads it, so maintenance, drain, weights
and DOWN states set before the reload hold after it, and traffic follows
them. With haproxy an operator saves the file by hand before the reload;
the second test does that against both."""

import json
import signal
import socket
import time

import pytest

from e2eutil import free_port, render, wait_until
from http_helpers import EchoHTTPServer, closed_port
from test_reload import master_cli, show_proc_or_empty, start_master, workers
from test_stats_socket import cli

CFG = """
global
    nbthread 2
    stats socket $sock level admin
    server-state-file $state
$extra_global
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    load-server-state-from-file global

frontend fe
    bind 127.0.0.1:$fe
    default_backend be

backend be
    balance roundrobin
    server s1 127.0.0.1:$p1 check inter 500ms
    server s2 127.0.0.1:$p2 check inter 500ms
    server s3 127.0.0.1:$p3 check inter 500ms
    server s4 127.0.0.1:$p4 check inter 500ms

backend pool
    server up1 127.0.0.1:$p1 check inter 30s
    server up2 127.0.0.1:$p2 check inter 30s
    server dead 127.0.0.1:$dead check inter $dead_inter fall 1
"""


def states(text: str) -> dict[str, tuple[int, int, int]]:
    """server -> (op_state, admin_state, uweight) from `show servers state`."""
    out = {}
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) >= 19 and not line.startswith("#"):
            out[f"{f[1]}/{f[3]}"] = (int(f[5]), int(f[6]), int(f[7]))
    return out


def hits(fe: int, n: int) -> dict[str, int]:
    """Which server answered each of `n` requests on new connections."""
    seen: dict[str, int] = {}
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", fe), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        buf = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
        s.close()
        body = buf.partition(b"\r\n\r\n")[2]
        name = json.loads(body)["server"]
        seen[name] = seen.get(name, 0) + 1
    return seen


def set_runtime_state(sock):
    for cmd in ("set server be/s1 state maint", "set server be/s2 state drain",
                "set server be/s3 weight 10"):
        assert cli(sock, cmd).strip() == "", cmd


def check_restored(sock, fe, dead=True):
    st = states(cli(sock, "show servers state"))
    assert st["be/s1"][1] & 0x01, st  # forced maint
    assert st["be/s2"][1] & 0x08 and st["be/s2"][0] == 2, st  # forced drain, still UP
    assert st["be/s3"][2] == 10 and st["be/s4"][2] == 1, st
    assert st["pool/up1"][0] == 2 and st["pool/up2"][0] == 2, st
    if dead:
        assert st["pool/dead"][0] == 0, st  # DOWN at once, not UP until a check
    stat = cli(sock, "show stat")
    rows = {f"{r.split(',')[0]}/{r.split(',')[1]}": r.split(",")[17]
            for r in stat.splitlines() if r and not r.startswith("#")}
    assert rows["be/s1"] == "MAINT", rows
    assert rows["be/s2"] == "DRAIN", rows  # fully UP: not "DRAIN 1/3"
    assert rows["pool/up1"] == "UP" and rows["be/s3"] == "UP", rows
    if dead:
        assert rows["pool/dead"] == "DOWN", rows
    seen = hits(fe, 44)
    assert "s1" not in seen and "s2" not in seen, seen
    assert seen.get("s3", 0) >= 4 * seen.get("s4", 0) and seen.get("s4", 0) >= 1, seen


@pytest.mark.timeout(60)
def test_runtime_state_survives_sigusr2_reload(sluice, start_proxy, servers, tmp_path):
    srv = [servers(EchoHTTPServer(f"s{i}")) for i in range(1, 5)]
    fe = free_port()
    sock = tmp_path / "stats.sock"
    state = tmp_path / "servers.state"
    cfg = render(CFG, sock=sock, state=state, fe=fe, p1=srv[0].port, p2=srv[1].port,
                 p3=srv[2].port, p4=srv[3].port, dead=closed_port(), extra_global="", dead_inter="300ms")
    p, msock = start_master(start_proxy, sluice, tmp_path, cfg, fe, "state")
    wait_until(lambda: states(cli(sock, "show servers state")).get("pool/dead", (2,))[0] == 0,
               timeout=10, what="the dead server seen DOWN")
    set_runtime_state(sock)
    # A missing file at first start was only a warning.
    assert "Can't open global server state file" in p.stderr(), p.stderr()
    # The new configuration checks the dead server only every 30 s: DOWN
    # right after the reload can only come from the state file.
    p.cfg_path.write_text(cfg.replace("inter 300ms", "inter 30s"))
    before, _ = workers(master_cli(msock, "show proc"))
    p.signal(signal.SIGUSR2)
    wait_until(lambda: (w := workers(show_proc_or_empty(msock))[0]) and w != before,
               timeout=20, what="a new worker")
    assert state.exists() and state.read_text().startswith("1\n")
    check_restored(sock, fe)
    # And once more: the restored state is saved again by the next reload.
    before, _ = workers(master_cli(msock, "show proc"))
    p.signal(signal.SIGUSR2)
    wait_until(lambda: (w := workers(show_proc_or_empty(msock))[0]) and w != before,
               timeout=20, what="a second new worker")
    check_restored(sock, fe)
    assert p.alive(), p.logs()


@pytest.mark.timeout(60)
def test_operator_saved_state_file_loads_at_restart(proxy, start_proxy, servers, tmp_path):
    """HAProxy's flow: `show servers state > FILE`, then start with it."""
    srv = [servers(EchoHTTPServer(f"s{i}")) for i in range(1, 5)]
    fe = free_port()
    sock = tmp_path / "stats.sock"
    state = tmp_path / "servers.state"
    cfg = render(CFG, sock=sock, state=state, fe=fe, p1=srv[0].port, p2=srv[1].port,
                 p3=srv[2].port, p4=srv[3].port, dead=closed_port(), extra_global="", dead_inter="300ms")
    p = start_proxy(proxy, cfg, wait_ports=[fe], name="first")
    # haproxy 2.6 here (nbthread 2) did not run every check within 10 s in
    # this test: the DOWN server part is Sluice's only.
    dead = proxy.kind == "sluice"
    if dead:
        wait_until(lambda: states(cli(sock, "show servers state")).get("pool/dead", (2,))[0] == 0,
                   timeout=10, what="the dead server seen DOWN")
    set_runtime_state(sock)
    saved = cli(sock, "show servers state")
    state.write_text(saved)
    p.stop()
    wait_until(lambda: not socket.socket().connect_ex(("127.0.0.1", fe)) == 0, timeout=5,
               what="the first process gone")
    second = cfg.replace("inter 300ms", "inter 30s")
    q = start_proxy(proxy, second, wait_ports=[fe], name="second")
    check_restored(sock, fe, dead)
    assert q.alive(), q.logs()
    q.stop()
    wait_until(lambda: not socket.socket().connect_ex(("127.0.0.1", fe)) == 0, timeout=5,
               what="the second process gone")
    # A corrupted line: the file is ignored whole (a warning), the process starts.
    state.write_text(saved.rstrip("\n") + "\nthis line is not a server state\n")
    r = start_proxy(proxy, second, wait_ports=[fe], name="third")
    st = states(cli(sock, "show servers state"))
    assert st["be/s1"][1] == 0 and st["be/s3"][2] == 1, st
    assert "corrupted" in r.stderr(), r.stderr()
