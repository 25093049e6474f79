"""sluicectl (issue 6): the operator's client. `status` (table and JSON),
server state changes that take effect on traffic and `show stat`, `reload`
through the master CLI with its exit status, and `roll`: a rolling restart
of four Python backends that become ready 2 s after a restart (their agent
says so), under load, losing no request."""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from e2eutil import free_port, free_ports, render, wait_until

CFG = """
global
    stats socket $sock level admin
$extra_global
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen app
    bind 127.0.0.1:$fe
    balance roundrobin
$servers
"""

# A backend that restarts itself on SIGHUP (exec, so its sockets close and
# reopen like a real restart) and whose agent answers "down" until DELAY
# seconds after each start, then "up": readiness from the app. (Not "ready":
# an agent's "ready" cancels a maintenance set from the CLI, as in HAProxy.)
BACKEND = r'''
import os, signal, socket, socketserver, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
name, http_port, agent_port, delay, state = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
started = time.time()

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(3)
        body = name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

class Agent(socketserver.BaseRequestHandler):
    def handle(self):
        word = b"up\n" if time.time() >= started + delay else b"down\n"
        if os.path.exists(os.path.join(state, "say-ready")):  # misconfigured agent: cancels maint
            word = b"up ready\n"
        self.request.sendall(word)

class AgentServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

class Http(ThreadingHTTPServer):
    daemon_threads = True

web = Http(("127.0.0.1", http_port), H)
agent = AgentServer(("127.0.0.1", agent_port), Agent)
threading.Thread(target=agent.serve_forever, daemon=True).start()

def restart(*_):
    os.execv(sys.executable, [sys.executable] + sys.argv)
signal.signal(signal.SIGHUP, restart)
with open(os.path.join(state, name + ".log"), "a") as f:
    f.write(f"start {started}\n")
with open(os.path.join(state, name + ".pid"), "w") as f:
    f.write(str(os.getpid()))
web.serve_forever(poll_interval=0.05)
'''

# The --exec command: signal the backend, return once the new process runs.
RESTART = r'''#!/bin/sh
set -e
dir=$(dirname "$0")
before=$(wc -l < "$dir/$1.log")
kill -HUP "$(cat "$dir/$1.pid")"
i=0
while [ "$(wc -l < "$dir/$1.log")" -le "$before" ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "$1 did not restart" >&2; exit 1; }
    sleep 0.05
done
'''


def ctl_path(sluice) -> str:
    return str(Path(sluice.path).parent / "sluicectl")


def ctl(sluice, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([ctl_path(sluice), *args], capture_output=True, text=True, timeout=timeout)


def stat_json(sluice, sock) -> dict:
    r = ctl(sluice, "-s", str(sock), "status", "--json")
    assert r.returncode == 0, r.stderr
    return {s["name"]: s for be in json.loads(r.stdout) if be["backend"] == "app" for s in be["servers"]}


def get(fe: int, conn=None) -> tuple[int, str]:
    c = conn or http.client.HTTPConnection("127.0.0.1", fe, timeout=5)
    c.request("GET", "/")
    r = c.getresponse()
    body = r.read().decode()
    if conn is None:
        c.close()
    return r.status, body


class Load:
    """Requests for the duration, half on one keep-alive connection, half on
    new connections; counts answers that are not a backend's 200."""

    def __init__(self, fe: int, limit_s: float = 120):
        self.fe, self.limit = fe, limit_s
        self.ok = self.failed = 0
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(ka,), daemon=True) for ka in (True, False)]

    def _run(self, keepalive: bool):
        deadline = time.monotonic() + self.limit
        conn = None
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                if keepalive and conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.fe, timeout=5)
                status, body = get(self.fe, conn if keepalive else None)
                if status == 200 and body in "abcd":
                    self.ok += 1
                else:
                    self.failed += 1
                    self.errors.append(f"{time.time():.2f} ka={keepalive} {status} {body[:80]}")
            except (OSError, http.client.HTTPException) as e:
                self.failed += 1
                self.errors.append(f"{time.time():.2f} ka={keepalive} {e!r}")
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(0.005)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(10)


class Farm:
    """Four backends a..d with their agents, and a Sluice balancing them."""

    def __init__(self, sluice, start_proxy, tmp_path, delay=2.0, server_extra="", checks=True):
        self.dir = tmp_path / "farm"
        self.dir.mkdir()
        (self.dir / "backend.py").write_text(BACKEND)
        self.restart = self.dir / "restart.sh"
        self.restart.write_text(RESTART)
        self.names = ["a", "b", "c", "d"]
        self.procs = []
        lines = []
        for n in self.names:
            hp, ap = free_ports(2)
            self.procs.append(subprocess.Popen([sys.executable, str(self.dir / "backend.py"), n, str(hp),
                                                str(ap), str(delay), str(self.dir)]))
            probes = f"check inter 100ms agent-check agent-port {ap} agent-inter 100ms" if checks else ""
            lines.append(f"    server {n} 127.0.0.1:{hp} {probes} {server_extra}")
        self.sock = tmp_path / "admin.sock"
        self.fe = free_port()
        self.sluice = sluice
        start_proxy(sluice, render(CFG, sock=self.sock, fe=self.fe, servers="\n".join(["    log global", "    option httplog", *lines]),
                           extra_global="    log stdout format raw local0 info"),
                    wait_ports=[self.fe])
        up = "UP" if checks else "no check"
        wait_until(lambda: all(s["status"] == up for s in stat_json(sluice, self.sock).values()),
                   timeout=15, what="all four servers UP")

    def starts(self, name) -> list[float]:
        return [float(l.split()[1]) for l in (self.dir / f"{name}.log").read_text().splitlines()]

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait(5)


@pytest.fixture
def farm(sluice, start_proxy, tmp_path):
    f = Farm(sluice, start_proxy, tmp_path)
    yield f
    f.close()


def roll(farm, *args, timeout=120):
    """Runs `sluicectl roll` (stdout not a terminal: plain lines), stamping
    each progress line with the wall clock as it arrives."""
    p = subprocess.Popen([ctl_path(farm.sluice), "-s", str(farm.sock), "roll", "app", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + timeout
    for line in p.stdout:
        lines.append((time.time(), line.rstrip("\n")))
        assert time.monotonic() < deadline, lines
    rc = p.wait(timeout=max(1, deadline - time.monotonic()))
    return rc, lines, p.stderr.read()


def phases(lines, server):
    """[(time, phase)] of the plain progress lines for app/SERVER."""
    out = []
    for t, l in lines:
        parts = l.split("] ", 1)
        if len(parts) == 2 and parts[1].startswith(f"app/{server} "):
            out.append((t, parts[1].split()[1].rstrip(":")))
    return out


# ---------------------------------------------------------------- status

@pytest.mark.timeout(60)
def test_status_table_json_and_state_changes(sluice, start_proxy, servers, tmp_path):
    from e2eutil import IdentServer, ident_of
    a = servers(IdentServer(name="a"))
    b = servers(IdentServer(name="b"))
    sock = tmp_path / "admin.sock"
    fe = free_port()
    cfg = render(CFG, sock=sock, fe=fe, extra_global="", servers=(
        f"    server a 127.0.0.1:{a.port} check inter 100ms weight 10\n"
        f"    server b 127.0.0.1:{b.port} check inter 100ms weight 10")).replace("mode http", "mode tcp")
    start_proxy(sluice, cfg, wait_ports=[fe])
    wait_until(lambda: all(s["status"] == "UP" for s in stat_json(sluice, sock).values()), timeout=10,
               what="servers UP")

    r = ctl(sluice, "-s", str(sock), "status")
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()
    assert rows[0].split()[:3] == ["BACKEND/SERVER", "STATE", "WEIGHT"], r.stdout
    app = [l for l in rows if l.split()[0] in ("app", "app/a", "app/b")]
    assert [l.split()[0] for l in app] == ["app", "app/a", "app/b"], r.stdout
    assert app[1].split()[1:3] == ["UP", "10"] and "L4OK" in app[1], r.stdout

    js = stat_json(sluice, sock)
    assert set(js) == {"a", "b"}
    assert js["a"]["weight"] == 10 and js["a"]["check"]["status"] == "L4OK"
    assert js["a"]["addr"] == f"127.0.0.1:{a.port}"
    assert isinstance(js["a"]["check"]["duration_ms"], int)
    assert set(js["a"]["sessions"]) == {"cur", "max", "total"}

    def share(n=10):
        got = {}
        for _ in range(n):
            who = ident_of(fe)
            got[who] = got.get(who, 0) + 1
        return got

    # disable: maintenance, no traffic; enable brings it back.
    assert ctl(sluice, "-s", str(sock), "disable", "app/a").returncode == 0
    assert stat_json(sluice, sock)["a"]["status"] == "MAINT"
    assert share() == {"b": 10}
    assert ctl(sluice, "-s", str(sock), "enable", "app/a").returncode == 0
    wait_until(lambda: stat_json(sluice, sock)["a"]["status"] == "UP", timeout=5, what="a UP again")
    assert set(share()) == {"a", "b"}

    # drain: no new sessions; ready ends it. maint, then ready.
    assert ctl(sluice, "-s", str(sock), "drain", "app/b").returncode == 0
    assert stat_json(sluice, sock)["b"]["status"] == "DRAIN"
    assert share() == {"a": 10}
    assert ctl(sluice, "-s", str(sock), "ready", "app/b").returncode == 0
    assert stat_json(sluice, sock)["b"]["status"] == "UP"
    assert ctl(sluice, "-s", str(sock), "maint", "app/b").returncode == 0
    assert stat_json(sluice, sock)["b"]["status"] == "MAINT"
    assert ctl(sluice, "-s", str(sock), "ready", "app/b").returncode == 0

    # weight: 30 vs 10 is 3:1.
    assert ctl(sluice, "-s", str(sock), "weight", "app/a", "30").returncode == 0
    wait_until(lambda: stat_json(sluice, sock)["b"]["status"] == "UP", timeout=5, what="b UP")
    assert stat_json(sluice, sock)["a"]["uweight"] == 30
    got = share(40)
    assert abs(got.get("a", 0) - 30) <= 3, got
    r = ctl(sluice, "-s", str(sock), "status", "app")
    assert [l for l in r.stdout.splitlines() if l.split()[0] == "app/a"][0].split()[2] == "30", r.stdout

    # Errors: clear messages and non-zero exits.
    r = ctl(sluice, "-s", str(sock), "drain", "app/zz")
    assert r.returncode != 0 and "no such server 'zz' in backend 'app'" in r.stderr, r
    r = ctl(sluice, "-s", str(sock), "drain", "nope/a")
    assert r.returncode != 0 and "no such backend 'nope'" in r.stderr, r
    r = ctl(sluice, "-s", str(sock), "status", "nope")
    assert r.returncode != 0 and "no such backend 'nope'" in r.stderr, r
    r = ctl(sluice, "-s", str(sock), "weight", "app", "3")
    assert r.returncode != 0 and "BACKEND/SERVER" in r.stderr, r
    r = ctl(sluice, "-s", str(tmp_path / "missing.sock"), "status")
    assert r.returncode != 0 and "no such socket" in r.stderr, r
    # Permission denied: root ignores file modes, so run as nobody then.
    os.chmod(sock, 0o600)
    as_other = [] if os.geteuid() != 0 else ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    if os.geteuid() != 0:
        os.chmod(sock, 0)
    r = subprocess.run([*as_other, ctl_path(sluice), "-s", str(sock), "status"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0 and "permission denied" in r.stderr, r


@pytest.mark.timeout(60)
def test_status_over_tcp_socket(sluice, start_proxy, servers, tmp_path):
    from e2eutil import IdentServer
    a = servers(IdentServer(name="a"))
    port, fe = free_ports(2)
    cfg = render(CFG, sock=f"ipv4@127.0.0.1:{port}", fe=fe, extra_global="",
                 servers=f"    server a 127.0.0.1:{a.port}").replace("mode http", "mode tcp")
    start_proxy(sluice, cfg, wait_ports=[fe, port])
    r = ctl(sluice, "--socket", f"ipv4@127.0.0.1:{port}", "status", "app")
    assert r.returncode == 0, r.stderr
    assert any(l.split()[:2] == ["app/a", "no"] for l in r.stdout.splitlines()), r.stdout  # "no check"


# ---------------------------------------------------------------- reload

@pytest.mark.timeout(90)
def test_reload_exit_status(sluice, start_proxy, tmp_path):
    from e2eutil import IdentServer  # noqa: F401
    fe = free_port()
    master = tmp_path / "master.sock"
    good = render(CFG, sock=tmp_path / "admin.sock", fe=fe, extra_global="",
                  servers=f"    server a 127.0.0.1:{free_port()}")
    p = start_proxy(sluice, good, wait_ports=[fe], extra_args=["-W", "-S", str(master)])
    wait_until(lambda: master.exists(), timeout=10, what="master socket")

    r = ctl(sluice, "--master", str(master), "reload")
    assert r.returncode == 0 and "reload succeeded" in r.stdout, r

    p.cfg_path.write_text(good + "\nbackend broken\n    balance nosuchalgo\n")
    r = ctl(sluice, "--master", str(master), "reload")
    assert r.returncode == 1, r
    assert "reload failed" in r.stderr and "nosuchalgo" in r.stderr, r.stderr
    assert ctl(sluice, "-s", str(tmp_path / "admin.sock"), "status").returncode == 0  # still serving

    p.cfg_path.write_text(good)
    r = ctl(sluice, "--master", str(master), "reload")
    assert r.returncode == 0, r

    r = ctl(sluice, "reload")
    assert r.returncode != 0 and "--master" in r.stderr, r
    r = ctl(sluice, "--master", str(tmp_path / "none.sock"), "reload")
    assert r.returncode != 0 and "no such socket" in r.stderr, r


# ---------------------------------------------------------------- roll

@pytest.mark.timeout(150)
def test_roll_under_load_loses_nothing_and_waits_for_the_agent(farm):
    before = {n: farm.starts(n) for n in farm.names}
    with Load(farm.fe) as load:
        time.sleep(0.5)
        rc, lines, err = roll(farm, "--exec", f"sh {farm.restart} {{server}}", "--ready-timeout", "20",
                              "--drain-timeout", "20")
        time.sleep(0.5)
    text = "\n".join(l for _, l in lines)
    assert rc == 0, text + err
    stamped = "\n".join(f"{t:.2f} {l}" for t, l in lines)
    assert load.failed == 0 and load.ok > 100, (load.ok, load.failed, load.errors[:5], stamped)
    for n in farm.names:
        starts = farm.starts(n)
        assert len(starts) == len(before[n]) + 1, (n, starts)
        ph = phases(lines, n)
        assert [p for _, p in ph] == ["drain", "maint", "exec", "ready", "up"], (n, text)
        # UP only once its agent said ready: 2 s after the new process started.
        up_at = ph[-1][0]
        assert up_at >= starts[-1] + 2.0, (n, up_at - starts[-1], text)
    # One server after the other: a is UP before b drains, and so on.
    order = [phases(lines, n) for n in farm.names]
    for prev, nxt in zip(order, order[1:]):
        assert prev[-1][0] <= nxt[0][0], text
    assert all(s["status"] == "UP" for s in stat_json(farm.sluice, farm.sock).values())
    assert "roll of app done" in text


@pytest.mark.timeout(60)
def test_roll_does_not_take_the_old_status_for_ready(farm):
    """With --settle 0, a server whose CMD left it dead must not pass for
    ready on the UP status from before: the roll marks its checks down
    before `state ready`, so only fresh successful checks could bring it UP."""
    rc, lines, err = roll(farm, "--servers", "a", "--settle", "0", "--ready-timeout", "2",
                          "--exec", f"kill $(cat {farm.dir}/{{server}}.pid)")
    text = "\n".join(l for _, l in lines)
    assert rc == 2, text + err
    assert "roll stopped at app/a" in err and "not UP within --ready-timeout 2s" in err, err
    assert stat_json(farm.sluice, farm.sock)["a"]["status"] == "MAINT"


@pytest.mark.timeout(120)
def test_roll_failing_command_stops_and_leaves_server_in_maint(farm):
    before = {n: farm.starts(n) for n in farm.names}
    cmd = f"if [ {{server}} = c ]; then echo 'cannot restart' >&2; exit 3; fi; sh {farm.restart} {{server}}"
    with Load(farm.fe) as load:
        rc, lines, err = roll(farm, "--exec", cmd, "--ready-timeout", "20")
    text = "\n".join(l for _, l in lines)
    assert rc != 0, text
    assert "roll stopped at app/c" in err and "exited with status 3" in err and "maint" in err.lower(), err
    assert "cannot restart" in err  # the command's own stderr passes through
    st = stat_json(farm.sluice, farm.sock)
    assert st["c"]["status"] == "MAINT", st["c"]
    assert st["d"]["status"] == "UP" and st["a"]["status"] == "UP" and st["b"]["status"] == "UP"
    assert len(farm.starts("a")) == len(before["a"]) + 1
    assert len(farm.starts("b")) == len(before["b"]) + 1
    assert farm.starts("c") == before["c"] and farm.starts("d") == before["d"]
    assert phases(lines, "d") == []
    assert load.failed == 0, load.errors[:5]


@pytest.mark.timeout(60)
def test_roll_dry_run_and_min_up(farm):
    before = {n: farm.starts(n) for n in farm.names}
    rc, lines, err = roll(farm, "--exec", "restart-app {server} {addr} {port}", "--batch", "2", "--dry-run")
    text = "\n".join(l for _, l in lines)
    assert rc == 0, err
    assert "dry run, nothing changed" in text and "batch 2:" in text and "batch 3:" not in text, text
    port_a = stat_json(farm.sluice, farm.sock)["a"]["addr"].rsplit(":", 1)[1]
    assert f"exec: restart-app 'a' '127.0.0.1' '{port_a}'" in text, text
    assert all(s["status"] == "UP" for s in stat_json(farm.sluice, farm.sock).values())
    assert {n: farm.starts(n) for n in farm.names} == before

    # Batches of 2 leave 2 UP: --min-up 3 refuses, before changing anything.
    rc, lines, err = roll(farm, "--exec", "false", "--batch", "2", "--min-up", "3")
    assert rc != 0 and "refusing to roll: only 2 server(s)" in err and "--min-up is 3" in err, err
    assert not any("drain" in l for _, l in lines)
    # A server already down counts: with c in maintenance only 2 stay UP
    # while a is out, so --min-up 3 refuses a batch of 1.
    assert ctl(farm.sluice, "-s", str(farm.sock), "maint", "app/c").returncode == 0
    rc, lines, err = roll(farm, "--exec", "false", "--min-up", "3")
    assert rc != 0 and "only 2 server(s)" in err, err
    assert stat_json(farm.sluice, farm.sock)["a"]["status"] == "UP"
    assert {n: farm.starts(n) for n in farm.names} == before


@pytest.mark.timeout(60)
def test_roll_progress_redrawn_on_a_terminal(farm):
    import pty
    import select
    master, slave = pty.openpty()
    p = subprocess.Popen([ctl_path(farm.sluice), "-s", str(farm.sock), "roll", "app", "--servers", "b",
                          "--exec", f"sh {farm.restart} {{server}}", "--ready-timeout", "20"],
                         stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    assert p.wait(10) == 0, p.stderr.read()
    text = out.decode(errors="replace")
    # Redrawn in place (cursor up, clear line), not one line per phase.
    assert "\x1b[1A" in text and "\x1b[K" in text, repr(text[:400])
    assert "[   " not in text, text  # no plain progress lines
    assert "app/b " in text and "app/a " not in text, text
    for phase in ("drain", "maint", "exec", "ready", "up"):
        assert f" {phase} " in text, (phase, text[-400:])
    assert len(farm.starts("b")) == 2 and len(farm.starts("a")) == 1


@pytest.mark.timeout(90)
def test_roll_waits_for_the_slowstart_ramp(sluice, start_proxy, tmp_path):
    farm = Farm(sluice, start_proxy, tmp_path, delay=0.5, server_extra="weight 20 slowstart 3s")
    try:
        wait_until(lambda: all(s["weight"] == 20 for s in stat_json(sluice, farm.sock).values()),
                   timeout=10, what="full weights")
        rc, lines, err = roll(farm, "--servers", "a,b", "--exec", f"sh {farm.restart} {{server}}",
                              "--ready-timeout", "20")
        text = "\n".join(l for _, l in lines)
        assert rc == 0, text + err
        for n in ("a", "b"):
            ph = phases(lines, n)
            assert [p for _, p in ph] == ["drain", "maint", "exec", "ready", "up"], text
            # UP after 0.5 s, then 3 s of ramp before the full weight.
            assert ph[-1][0] - farm.starts(n)[-1] >= 3.0, (n, text)
        assert "UP, weight 20" in text, text
    finally:
        farm.close()


def test_roll_servers_without_checks(sluice, start_proxy, tmp_path):
    """Nothing to wait for once ready: 'no check' counts as up."""
    farm = Farm(sluice, start_proxy, tmp_path, delay=0.1, checks=False)
    try:
        rc, lines, err = roll(farm, "--servers", "a,b", "--exec", f"sh {farm.restart} {{server}}",
                              "--ready-timeout", "10")
        text = "\n".join(l for _, l in lines)
        assert rc == 0, text + err
        for n in ("a", "b"):
            assert [p for _, p in phases(lines, n)] == ["drain", "maint", "exec", "ready", "up"], text
        assert all(s["status"] == "no check" for s in stat_json(sluice, farm.sock).values())
    finally:
        farm.close()


def slow_requests(fe, n=4):
    """n concurrent 3-second requests: one per server in round robin."""
    out = []

    def one():
        c = http.client.HTTPConnection("127.0.0.1", fe, timeout=20)
        c.request("GET", "/slow")
        r = c.getresponse()
        out.append((r.status, r.read().decode()))
        c.close()
    threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    return threads, out


@pytest.mark.timeout(90)
def test_roll_drain_waits_for_sessions_and_times_out(farm):
    def busy_server():
        st = stat_json(farm.sluice, farm.sock)
        if sum(s["sessions"]["cur"] for s in st.values()) < 4:
            return None
        return next(n for n, s in st.items() if s["sessions"]["cur"] > 0)

    # Sessions in progress: the drain waits for them.
    threads, out = slow_requests(farm.fe)
    busy = wait_until(busy_server, timeout=5, what="four slow sessions")
    t0 = time.time()
    rc, lines, err = roll(farm, "--servers", busy, "--exec", f"sh {farm.restart} {{server}}", "--ready-timeout", "20")
    text = "\n".join(l for _, l in lines)
    assert rc == 0, text + err
    ph = dict((p, t) for t, p in phases(lines, busy))
    assert ph["maint"] - t0 >= 2.0, text  # the 3 s request ended first
    for t in threads:
        t.join(10)
    assert [st for st, _ in out] == [200] * 4, out

    # Sessions that outlast --drain-timeout: the roll stops, the server stays in maint.
    threads, out = slow_requests(farm.fe)
    busy = wait_until(busy_server, timeout=5, what="four slow sessions")
    other = next(n for n in farm.names if n != busy)
    before = farm.starts(busy)
    rc, lines, err = roll(farm, "--servers", f"{busy},{other}", "--exec", f"sh {farm.restart} {{server}}",
                          "--drain-timeout", "1")
    assert rc == 2, err
    assert f"roll stopped at app/{busy}" in err and "--drain-timeout 1s" in err, err
    st = stat_json(farm.sluice, farm.sock)
    assert st[busy]["status"] == "MAINT" and st[other]["status"] == "UP", st
    assert farm.starts(busy) == before
    assert phases(lines, other) == []
    for t in threads:
        t.join(10)
    assert [st for st, _ in out] == [200] * 4, out  # the draining session was not cut


@pytest.mark.timeout(60)
def test_roll_ready_timeout_stops(farm):
    rc, lines, err = roll(farm, "--exec", f"sh {farm.restart} {{server}}", "--ready-timeout", "1")
    assert rc == 2, err
    assert "roll stopped at app/a" in err and "not UP within --ready-timeout 1s" in err, err
    st = stat_json(farm.sluice, farm.sock)
    assert st["a"]["status"] == "MAINT" and st["b"]["status"] == "UP", st
    assert len(farm.starts("a")) == 2 and len(farm.starts("b")) == 1
    assert phases(lines, "b") == []


@pytest.mark.timeout(60)
def test_roll_stops_when_an_agent_cancels_maint(farm):
    (farm.dir / "say-ready").write_text("")
    time.sleep(0.5)
    rc, lines, err = roll(farm, "--exec", f"sh {farm.restart} {{server}}", "--ready-timeout", "20")
    assert rc == 2, err
    assert "roll stopped at app/a" in err and "left maintenance by itself" in err, err
    assert len(farm.starts("a")) == 1  # not restarted while in service
