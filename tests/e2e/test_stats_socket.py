"""The runtime API on the stats socket: `show stat` CSV (compared with
haproxy's for the same configuration), typed and JSON forms, `show servers
state`, server administration (disable/enable, weights, drain, maint,
addresses, dynamic servers), levels, bad input and the socket's file
permissions. Answers that haproxy defines are compared byte for byte."""

import grp
import json
import os
import pwd
import re
import socket
import time

import pytest

from e2eutil import EchoServer, IdentServer, free_port, ident_of, render, wait_until
from http_helpers import EchoHTTPServer, one_shot


def cli(path, command: str, timeout: float = 5.0) -> str:
    """One non-interactive command line; returns everything until close."""
    if isinstance(path, tuple):
        s = socket.create_connection(path, timeout=timeout)
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(str(path))
    with s:
        s.sendall(command.encode() + b"\n")
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            b = s.recv(65536)
            if not b:
                break
            out += b
    return out.decode()


def rows(csv_text: str):
    lines = [l for l in csv_text.split("\n") if l]
    header = lines[0][2:].split(",")
    return header, [dict(zip(header, l.split(","))) for l in lines[1:]]


def stat(path, pxname: str, svname: str) -> dict:
    _, rs = rows(cli(path, "show stat"))
    for r in rs:
        if r["pxname"] == pxname and r["svname"] == svname:
            return r
    raise KeyError((pxname, svname))


DIFF_CONFIG = """
global
    nbthread 1
    stats socket $sock level admin
    stats timeout 30s

defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    mode http
    bind 127.0.0.1:$fe_http
    default_backend app

backend app
    mode http
    balance roundrobin
    server s1 127.0.0.1:$closed check inter 200ms maxqueue 5
    server s2 127.0.0.1:$open weight 3
    server s3 127.0.0.1:$open backup

listen tcpl
    mode tcp
    bind 127.0.0.1:$fe_tcp
    balance leastconn
    server t1 127.0.0.1:$open check inter 200ms
    server t2 127.0.0.1:$open maxconn 7

listen dead
    mode tcp
    bind 127.0.0.1:$fe_dead
    retries 2
    server d 127.0.0.1:$closed

listen webok
    mode http
    bind 127.0.0.1:$fe_ok
    server e 127.0.0.1:$echo
"""


def _diff_pair(sluice, haproxy, start_proxy, servers, tmp_path):
    """Sluice and haproxy on the same configuration and the same servers."""
    ident = servers(IdentServer(name="open"))
    echo = servers(EchoHTTPServer("echo"))
    closed = free_port()
    socks = []
    for pbin in (sluice, haproxy):
        fe_http, fe_tcp, fe_dead, fe_ok = free_port(), free_port(), free_port(), free_port()
        sock = tmp_path / f"{pbin.kind}.sock"
        cfg = render(DIFF_CONFIG, sock=sock, fe_http=fe_http, fe_tcp=fe_tcp, closed=closed,
                     open=ident.port, fe_dead=fe_dead, fe_ok=fe_ok, echo=echo.port)
        start_proxy(pbin, cfg, wait_ports=[fe_http, fe_tcp], name=pbin.kind)
        socks.append(sock)
    for sock in socks:
        # Let every check run at least once (s1 goes DOWN, t1 UP).
        wait_until(lambda: os.path.exists(sock), 10, what="stats socket")
        wait_until(lambda: stat(sock, "app", "s1")["status"] == "DOWN" and
                   stat(sock, "tcpl", "t1")["status"] == "UP", 15, what="checks settled")
    return socks


# Fields whose values legitimately differ between two processes started a
# moment apart (ages, limits derived from the fd limit, addresses of the
# per-test ports are identical since both share the config).
VOLATILE = {"lastchg", "downtime", "slim", "check_duration", "chkdown", "chkfail", "need_conn_est",
            "pid", "rate", "rate_max", "conn_rate", "conn_rate_max", "lastsess"}


def test_show_stat_matches_haproxy(sluice, haproxy, start_proxy, servers, tmp_path):
    a, b = _diff_pair(sluice, haproxy, start_proxy, servers, tmp_path)
    ours, theirs = cli(a, "show stat"), cli(b, "show stat")
    # Header: byte for byte, trailing comma included; the dump ends with a blank line.
    assert ours.split("\n")[0] == theirs.split("\n")[0]
    assert ours.endswith(",\n\n") and theirs.endswith(",\n\n")
    h, our_rows = rows(ours)
    _, their_rows = rows(theirs)
    key = lambda r: (r["pxname"], r["svname"])
    assert [key(r) for r in our_rows] == [key(r) for r in their_rows]
    for o, t in zip(our_rows, their_rows):
        for col in h:
            if col in VOLATILE:
                # Same emptiness even where the value may differ.
                assert (o[col] == "") == (t[col] == ""), (key(o), col, o[col], t[col])
            else:
                assert o[col] == t[col], (key(o), col, o[col], t[col])


def _typed_fields(text):
    out = set()
    for line in text.split("\n"):
        if not line:
            continue
        m = re.match(r"^([FBS])\.(\d+)\.(\d+)\.(\d+)\.([a-z0-9_]+)\.1:(\w{3}):(\w+):", line)
        assert m, line
        out.add(m.groups())
    return out


def test_counters_after_same_traffic_match_haproxy(sluice, haproxy, start_proxy, servers,
                                                   tmp_path):
    """The same traffic through both: TCP sessions and HTTP requests whose
    server answers garbage (502) give the same counters."""
    a, b = _diff_pair(sluice, haproxy, start_proxy, servers, tmp_path)
    counted = ["stot", "lbtot", "bin", "bout", "econ", "eresp", "wretr", "wredis", "hrsp_1xx",
               "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other", "req_tot",
               "cli_abrt", "srv_abrt", "dreq", "dresp", "ereq", "conn_tot", "status", "connect",
               "reuse", "h1_total_connections", "h1_total_streams"]
    results = []
    for sock in (a, b):
        fe_http = int(re.search(r"bind 127.0.0.1:(\d+)", (tmp_path / f"{'sluice' if sock == a else 'haproxy'}.cfg").read_text()).group(1))
        fe_tcp = int(re.findall(r"bind 127.0.0.1:(\d+)", (tmp_path / f"{'sluice' if sock == a else 'haproxy'}.cfg").read_text())[1])
        for _ in range(3):
            assert ident_of(fe_tcp) == "open"
        for _ in range(2):
            status, _, _ = one_shot(fe_http, "GET", "/", {"Host": "x"})
            assert status == 502
        fe_dead = int(re.findall(r"bind 127.0.0.1:(\d+)", (tmp_path / f"{'sluice' if sock == a else 'haproxy'}.cfg").read_text())[2])
        for _ in range(2):
            assert ident_of(fe_dead) == ""  # refused, retried, closed
        fe_ok = int(re.findall(r"bind 127.0.0.1:(\d+)", (tmp_path / f"{'sluice' if sock == a else 'haproxy'}.cfg").read_text())[3])
        for path in ("/a", "/b", "/c"):
            status, _, _ = one_shot(fe_ok, "GET", path, {"Host": "x"})
            assert status == 200
        time.sleep(0.3)
        _, rs = rows(cli(sock, "show stat"))
        results.append({(r["pxname"], r["svname"]): {c: r[c] for c in counted} for r in rs})
    for k in results[1]:
        if k[0] in ("web", "app", "webok"):
            # HTTP byte counts: haproxy counts its internal (HTX) message
            # sizes, Sluice the bytes on the wire; and our 502 page is not
            # haproxy's text.
            for side in results:
                side[k].pop("bout")
                side[k].pop("bin")
        assert results[0][k] == results[1][k], (k, results[0][k], results[1][k])


def test_typed_and_json_match_haproxy(sluice, haproxy, start_proxy, servers, tmp_path):
    a, b = _diff_pair(sluice, haproxy, start_proxy, servers, tmp_path)
    # Typed: the same objects, fields, positions, tags and types.
    assert _typed_fields(cli(a, "show stat typed")) == _typed_fields(cli(b, "show stat typed"))
    # JSON: valid, and the same field set per object (haproxy 2.6 takes the
    # filter before the format word).
    ours = json.loads(cli(a, "show stat 3 -1 -1 json"))
    theirs = json.loads(cli(b, "show stat 3 -1 -1 json"))

    def shape(doc):
        return [[(e["objType"], e["field"]["name"], e["value"]["type"], e["tags"]["nature"])
                 for e in obj] for obj in doc]

    assert shape(ours) == shape(theirs)
    assert {e["objType"] for obj in ours for e in obj} == {"Server", "Backend"}


def test_servers_state_and_answers_match_haproxy(sluice, haproxy, start_proxy, servers, tmp_path):
    a, b = _diff_pair(sluice, haproxy, start_proxy, servers, tmp_path)

    def mask_age(text):  # srv_time_since_last_change (10th field) is an age
        out = []
        for line in text.split("\n"):
            f = line.split(" ")
            if len(f) == 25 and not line.startswith("#"):
                f[9] = "AGE"
            out.append(" ".join(f))
        return "\n".join(out)

    # `show info`: the same keys in the same order (values are the process's own).
    keys = lambda text: [l.split(":")[0] for l in text.split("\n")]
    assert keys(cli(a, "show info")) == keys(cli(b, "show info"))
    for cmd in ["show servers state", "show servers state tcpl", "show servers state nope"]:
        assert mask_age(cli(a, cmd)) == mask_age(cli(b, cmd)), cmd
    # Deterministic answers and error texts, byte for byte, in this order.
    commands = [
        "show backend",
        "show cli level",
        "show backend; show cli level",
        "get weight app/s2",
        "set weight app/s2 10",
        "get weight app/s2",
        "set weight app/s2 50%",
        "get weight app/s2",
        "set weight app/s2 300",
        "set weight app/s2",
        "set weight app/s2 abc",
        "set weight app 3",
        "set weight app/zz 3",
        "set weight zz/s1 3",
        "set server app/s2",
        "set server app/s2 bogus",
        "set server app/s2 state foo",
        "set server app/s2 state drain",
        "set server app/s2 state ready",
        "disable server app/s3",
        "enable server app/s3",
        "set server tcpl/t2 addr 127.0.0.2 port 1",
        "set server tcpl/t2 addr 127.0.0.2",
        "set server tcpl/t2 addr bad",
        "set server tcpl/t2 addr",
        "set maxconn server tcpl/t2 20",
        "set maxconn server tcpl/t2",
        "set maxconn server tcpl/t2 x",
        "set maxconn frontend nope 3",
        "enable health tcpl/t2",
        "enable agent tcpl/t2",
        "disable health tcpl/t2",
        "del server tcpl/t2",
        "del server tcpl",
        "del server nope/x",
        "add server tcpl",
        "add server tcpl/t1 127.0.0.1:1",
        "add server tcpl/t9 127.0.0.1:1",
        "del server tcpl/t9",
        "clear counters",
        "clear counters all",
        "show servers state tcpl",
        "set timeout cli 5",
        "set timeout cli",
        "set timeout cli abc",
        "show errors nope",
        "show stat typed 1 -1 -1",
    ]
    for cmd in commands:
        ours, theirs = mask_age(cli(a, cmd)), mask_age(cli(b, cmd))
        assert ours == theirs, f"{cmd!r}:\nsluice:  {ours!r}\nhaproxy: {theirs!r}"


TRAFFIC = """
global
    stats socket $sock level admin
    stats socket $usock level user
    stats socket $osock level operator
    stats socket ipv4@127.0.0.1:$tcpsock level admin

defaults
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen tcpl
    mode tcp
    bind 127.0.0.1:$fe_tcp
    balance roundrobin
    server a 127.0.0.1:$a
    server b 127.0.0.1:$b

frontend web
    mode http
    bind 127.0.0.1:$fe_http
    default_backend app

backend app
    mode http
    server h1 127.0.0.1:$h1
"""


@pytest.fixture
def running(sluice, start_proxy, servers, tmp_path):
    a = servers(IdentServer(name="a"))
    b = servers(IdentServer(name="b"))
    h1 = servers(EchoHTTPServer("h1"))
    ports = dict(fe_tcp=free_port(), fe_http=free_port(), tcpsock=free_port())
    env = dict(sock=tmp_path / "admin.sock", usock=tmp_path / "user.sock",
               osock=tmp_path / "oper.sock", a=a.port, b=b.port, h1=h1.port, **ports)
    start_proxy(sluice, render(TRAFFIC, **env), wait_ports=[ports["fe_tcp"], ports["fe_http"]])
    return env


def test_counters_move_after_traffic(running):
    sock = running["sock"]
    got = {"a": 0, "b": 0}
    for _ in range(6):
        got[ident_of(running["fe_tcp"])] += 1
    # Bytes are counted when a session ends, a moment after the client saw EOF.
    wait_until(lambda: int(stat(sock, "tcpl", "FRONTEND")["bout"]) == 12, 5, what="tcp sessions ended")
    fe = stat(sock, "tcpl", "FRONTEND")
    assert int(fe["stot"]) == 6
    assert int(fe["bout"]) == 12  # "a\n" or "b\n" each time
    for s in ("a", "b"):
        r = stat(sock, "tcpl", s)
        assert int(r["stot"]) == got[s] and int(r["lbtot"]) == got[s], (r, got)
        assert int(r["bout"]) == 2 * got[s]
        assert (r["lastsess"] != "-1") == (got[s] > 0)
    be = stat(sock, "tcpl", "BACKEND")
    assert int(be["stot"]) == 6 and int(be["lbtot"]) == 6
    assert int(be["rate_max"]) >= 1
    for _ in range(4):
        status, _, _ = one_shot(running["fe_http"], "GET", "/x", {"Host": "h"})
        assert status == 200
    wait_until(lambda: int(stat(sock, "app", "h1")["hrsp_2xx"]) == 4, 5, what="transactions ended")
    web = stat(sock, "web", "FRONTEND")
    assert int(web["hrsp_2xx"]) == 4 and int(web["req_tot"]) == 4
    assert int(web["bin"]) > 0 and int(web["bout"]) > 0
    h1 = stat(sock, "app", "h1")
    assert int(h1["hrsp_2xx"]) == 4 and int(h1["req_tot"]) == 4 and int(h1["lbtot"]) == 4
    assert int(h1["bout"]) > 0 and int(h1["ttime"]) >= 0
    # `clear counters all` zeroes them; the plain form keeps totals.
    assert cli(sock, "clear counters") == "\n"
    assert int(stat(sock, "tcpl", "FRONTEND")["stot"]) == 6
    assert cli(sock, "clear counters all") == "\n"
    assert int(stat(sock, "tcpl", "FRONTEND")["stot"]) == 0
    # The same over the TCP stats socket.
    assert "Name: Sluice" in cli(("127.0.0.1", running["tcpsock"]), "show info")


def _spread(port, n=8):
    seen = {}
    for _ in range(n):
        name = ident_of(port)
        seen[name] = seen.get(name, 0) + 1
    return seen


def test_disable_weights_drain(running):
    sock, fe = running["sock"], running["fe_tcp"]
    assert set(_spread(fe)) == {"a", "b"}
    assert cli(sock, "disable server tcpl/a") == "\n"
    assert stat(sock, "tcpl", "a")["status"] == "MAINT"
    assert set(_spread(fe)) == {"b"}
    assert cli(sock, "enable server tcpl/a") == "\n"
    assert set(_spread(fe)) == {"a", "b"}
    assert cli(sock, "set weight tcpl/b 0") == "\n"
    assert cli(sock, "get weight tcpl/b") == "0 (initial 1)\n\n"
    assert set(_spread(fe)) == {"a"}
    assert cli(sock, "set server tcpl/b weight 100%") == "\n"
    assert set(_spread(fe)) == {"a", "b"}
    assert cli(sock, "set server tcpl/a state drain") == "\n"
    assert stat(sock, "tcpl", "a")["status"] == "DRAIN"
    assert set(_spread(fe)) == {"b"}
    assert cli(sock, "set server tcpl/a state maint") == "\n"
    assert " 1 " in cli(sock, "show servers state tcpl").split("\n")[2]  # admin state FMAINT
    assert cli(sock, "set server tcpl/a state ready") == "\n"
    assert set(_spread(fe)) == {"a", "b"}


def test_addr_add_del_server(running, servers):
    sock, fe = running["sock"], running["fe_tcp"]
    c = servers(IdentServer(name="c"))
    assert cli(sock, f"set server tcpl/b addr 127.0.0.1 port {c.port}") == (
        f"no need to change the addr, port changed from '{running['b']}' to '{c.port}' "
        "by 'stats socket command'\n\n")
    assert set(_spread(fe)) == {"a", "c"}
    d = servers(IdentServer(name="d"))
    assert cli(sock, f"add server tcpl/d 127.0.0.1:{d.port} weight 2") == "New server registered.\n\n"
    assert stat(sock, "tcpl", "d")["status"] == "MAINT"  # added servers start in maintenance
    assert "d" not in _spread(fe)
    assert cli(sock, "set server tcpl/d state ready") == "\n"
    assert "d" in _spread(fe, 12)
    assert cli(sock, "del server tcpl/d") == "Only servers in maintenance mode can be deleted.\n"
    assert cli(sock, "set server tcpl/d state maint") == "\n"
    assert cli(sock, "del server tcpl/d") == "Server deleted.\n"
    assert "tcpl,d," not in cli(sock, "show stat")
    assert "d" not in _spread(fe)
    # The name is free again; a check is set aside until `enable health`.
    assert cli(sock, f"add server tcpl/d 127.0.0.1:{free_port()} check inter 100ms") == (
        "New server registered.\n\n")
    assert cli(sock, "enable health tcpl/d") == "\n"
    assert cli(sock, "set server tcpl/d state ready") == "\n"
    wait_until(lambda: stat(sock, "tcpl", "d")["status"].startswith("DOWN"), 10,
               what="dynamic server's check marks it DOWN")
    assert stat(sock, "tcpl", "d")["check_status"] == "L4CON"


def test_levels(running):
    user, oper, admin = running["usock"], running["osock"], running["sock"]
    for cmd in ["disable server tcpl/a", "set weight tcpl/a 3", "add server tcpl/z 127.0.0.1:1",
                "del server tcpl/a", "set maxconn frontend web 3", "clear counters",
                "show sess", "enable health tcpl/a"]:
        assert cli(user, cmd) == "Permission denied\n\n", cmd
    assert cli(user, "show stat").startswith("# pxname,")
    assert cli(user, "show cli level") == "user\n\n"
    assert cli(oper, "clear counters") == "\n"
    assert cli(oper, "clear counters all") == "Permission denied\n\n"
    assert cli(oper, "disable server tcpl/a") == "Permission denied\n\n"
    assert cli(admin, "operator; show cli level; disable server tcpl/a") == (
        "\noperator\n\nPermission denied\n\n")
    assert cli(user, "operator") == "Permission denied\n\n"
    assert stat(admin, "tcpl", "a")["status"] != "MAINT"
    assert "shutdown sessions" in cli(admin, "help")
    assert "shutdown sessions" not in cli(user, "help")
    assert cli(user, "shutdown sessions server tcpl/a") == "Permission denied\n\n"


SHUTDOWN = """
global
    nbthread 1
    stats socket $sock level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
listen echo
    bind 127.0.0.1:$fe
    server e 127.0.0.1:$e
    server f 127.0.0.1:$f
"""


def test_shutdown_sessions_server(sluice, start_proxy, servers, tmp_path):
    """`shutdown sessions server B/S` closes that server's live sessions (on
    every thread) and leaves the others' alone."""
    e = servers(EchoServer())
    f = servers(EchoServer())
    fe = free_port()
    sock = tmp_path / "admin.sock"
    start_proxy(sluice, render(SHUTDOWN, sock=sock, fe=fe, e=e.port, f=f.port), wait_ports=[fe])
    clients = []
    for i in range(4):  # round robin: two on each server
        c = socket.create_connection(("127.0.0.1", fe), timeout=5)
        c.sendall(b"ping%d" % i)
        assert c.recv(16) == b"ping%d" % i
        clients.append(c)
    wait_until(lambda: int(stat(sock, "echo", "e")["scur"]) == 2, 5, what="two sessions on e")
    assert cli(sock, "shutdown sessions server echo/e") == "\n"
    closed, alive = 0, 0
    for c in clients:
        c.settimeout(5)
        try:
            c.sendall(b"x")
            data = c.recv(16)
        except OSError:
            data = b""
        if data == b"x":
            alive += 1
        else:
            closed += 1
        c.close()
    assert (closed, alive) == (2, 2)


def test_bad_input_keeps_the_connection(running):
    sock = running["sock"]
    assert cli(sock, "foo bar").startswith(
        "Unknown command. Please enter one of the following commands only:\n")
    assert cli(sock, "show foo").startswith(
        "Unknown command, but maybe one of the following ones is a better match:\n")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(sock))

    def until_prompt():
        buf = b""
        deadline = time.monotonic() + 5
        while not buf.endswith(b"> ") and time.monotonic() < deadline:
            buf += s.recv(65536)
        return buf.decode()

    with s:
        s.sendall(b"prompt\n")
        assert until_prompt() == "\n> "
        s.sendall(b"nonsense here\n")
        assert until_prompt().startswith("Unknown command")
        s.sendall(b"set weight tcpl/a 999\n")
        assert until_prompt() == "Absolute weight can only be between 0 and 256 inclusive.\n\n> "
        s.sendall(b"show backend\n")
        assert until_prompt() == "# name\ntcpl\napp\n\n> "
        s.sendall(b"\n")
        assert until_prompt() == "> "
        s.sendall(b"quit\n")
        assert s.recv(100) == b""
    # An oversized line is refused and the connection closed...
    big = cli(sock, "show stat " + "x" * 40000)
    assert big == "Command line too long.\n\n"
    # ...and the socket still serves.
    assert cli(sock, "show cli level") == "admin\n\n"
    # Sessions: at least nothing breaks with a live TCP session open.
    with socket.create_connection(("127.0.0.1", running["fe_tcp"]), timeout=5) as c:
        c.recv(10)
        out = cli(sock, "show sess")
        assert re.search(r"proto=tcpv4 src=127\.0\.0\.1:\d+ fe=tcpl be=tcpl srv=[ab] age=\d+s\n", out), out
    # An HTTP keep-alive connection idle between requests is listed too.
    with socket.create_connection(("127.0.0.1", running["fe_http"]), timeout=5) as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            got += c.recv(4096)
        port = c.getsockname()[1]
        out = cli(sock, "show sess")
        assert re.search(rf"proto=tcpv4 src=127\.0\.0\.1:{port} fe=web be=<NONE> srv=<none> age=\d+s\n",
                         out), out
    assert cli(sock, "show errors").startswith("Total events captured on [")


def test_socket_file_mode_and_owner(sluice, start_proxy, servers, tmp_path):
    nobody = pwd.getpwnam("nobody")
    fe = free_port()
    cfg = f"""
global
    stats socket {tmp_path}/a.sock mode 640 user nobody group nogroup level admin
    stats socket {tmp_path}/b.sock mode 600
    stats timeout 1s
defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen l
    bind 127.0.0.1:{fe}
    server s 127.0.0.1:{free_port()}
"""
    start_proxy(sluice, cfg, wait_ports=[fe])
    st = os.stat(tmp_path / "a.sock")
    assert st.st_mode & 0o777 == 0o640
    assert st.st_uid == nobody.pw_uid
    assert st.st_gid == grp.getgrnam("nogroup").gr_gid
    assert os.stat(tmp_path / "b.sock").st_mode & 0o777 == 0o600
    # Default level is operator; `stats timeout` closes an idle connection.
    assert cli(tmp_path / "b.sock", "show cli level") == "operator\n\n"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(tmp_path / "b.sock"))
    with s:
        s.sendall(b"prompt\n")
        t0 = time.monotonic()
        data = b""
        while True:
            b = s.recv(100)
            if not b:
                break
            data += b
        assert data == b"\n> "
        assert 0.5 < time.monotonic() - t0 < 4


def test_stats_socket_config_errors(sluice, start_proxy, tmp_path):
    cfg = f"""
global
    stats socket {tmp_path}/a.sock level root
"""
    p = start_proxy.create(sluice, cfg)
    p.start_args = None
    import subprocess
    r = subprocess.run([sluice.path, "-c", "-f", str(p.cfg_path)], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0
    assert "[stats socket] 'level' only supports 'user', 'operator', and 'admin'" in (
        r.stdout + r.stderr)


HATOP = """
global
    stats socket $sock level admin

defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen web
    mode tcp
    bind 127.0.0.1:$fe
    server alpha 127.0.0.1:$a
    server bravo 127.0.0.1:$b
"""


def test_hatop_lists_servers_and_disables_one(sluice, start_proxy, servers, tmp_path):
    """Debian's hatop, driven in a tmux of our own: it starts, lists the
    servers, and F10 (disable server on one backend) on the selected server
    puts it in maintenance in Sluice."""
    import shutil
    import subprocess
    if not shutil.which("tmux") or not os.path.exists("/usr/bin/hatop"):
        pytest.skip("tmux or hatop missing")
    a = servers(IdentServer(name="a"))
    b = servers(IdentServer(name="b"))
    fe = free_port()
    sock = tmp_path / "admin.sock"
    start_proxy(sluice, render(HATOP, sock=sock, fe=fe, a=a.port, b=b.port), wait_ports=[fe])
    tmux = ["tmux", "-L", f"sluice-hatop-{os.getpid()}-{fe}"]
    subprocess.run(tmux + ["new-session", "-d", "-x", "160", "-y", "40",
                           f"/usr/bin/python3 /usr/bin/hatop -s {sock} 2>{tmp_path}/hatop.err; sleep 60"],
                   check=True, timeout=10)
    try:
        def screen(escapes=False):
            args = ["capture-pane", "-p"] + (["-e"] if escapes else [])
            return subprocess.run(tmux + args, capture_output=True, text=True, timeout=10).stdout

        wait_until(lambda: "bravo" in screen() and "alpha" in screen(), 15,
                   what=f"hatop lists the servers (stderr: {(tmp_path / 'hatop.err').read_text() if (tmp_path / 'hatop.err').exists() else ''})")
        text = screen()
        assert "Sluice Version" in text
        assert re.search(r"^alpha\s+1 -\s+none", text, re.M), text
        # The cursor starts on the first line of the list (">>> web"); move
        # it down to "bravo".
        lines = text.split("\n")
        top = next(i for i, l in enumerate(lines) if l.startswith(">>> web"))
        target = next(i for i, l in enumerate(lines) if l.startswith("bravo"))
        subprocess.run(tmux + ["send-keys"] + ["Down"] * (target - top), check=True, timeout=10)
        wait_until(lambda: "\x1b[7mbravo" in screen(escapes=True), 10, what="cursor on bravo")
        subprocess.run(tmux + ["send-keys", "F10"], check=True, timeout=10)
        wait_until(lambda: stat(sock, "web", "bravo")["status"] == "MAINT", 10,
                   what="hatop's disable reaches Sluice")
        assert stat(sock, "web", "alpha")["status"] == "no check"
        wait_until(lambda: re.search(r"^bravo\s+1 MAINT", screen(), re.M), 10,
                   what="hatop shows bravo in maintenance")
        # Traffic now goes to alpha only.
        assert {ident_of(fe) for _ in range(4)} == {"a"}
    finally:
        subprocess.run(tmux + ["kill-server"], timeout=10)
