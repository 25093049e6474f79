"""Reloads under load: master-worker (-W) with SIGUSR2 and the master CLI,
an invalid configuration on reload, a long TCP session across a reload, and
the classic -sf form. The load client counts every failed request: a reset,
an end of stream where a response was due, a non-200, a refused connect.
An old Sluice worker must lose none. Under the master, it hands its idle
keep-alive connections (and idle server connections) to the new worker, so
clients keep their connections; without a successor to hand them to (-sf),
it closes one only after a response that said `Connection: close`."""

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from e2eutil import EchoServer, connect, free_port, recv_exact, render, wait_until
from http_helpers import EchoHTTPServer

CFG = """
global
    nbthread 2
    hard-stop-after 20s
$extra_global
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 5s

frontend fe
    bind 127.0.0.1:$fe
    default_backend be

backend be
    server s1 127.0.0.1:$be
$extra
"""

TCP_CFG = """
global
    nbthread 2
    hard-stop-after 30s
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s

listen echo
    bind 127.0.0.1:$fe
    server s1 127.0.0.1:$be
$extra
"""

REQUEST = b"GET /load HTTP/1.1\r\nHost: reload.test\r\n\r\n"
CLOSE_REQUEST = b"GET /load HTTP/1.1\r\nHost: reload.test\r\nConnection: close\r\n\r\n"


class Load:
    """Keep-alive and new-connection HTTP clients in threads, for a bounded
    time; every request either gets a complete 200 or counts as a failure."""

    def __init__(self, port: int, keepalive: int = 4, fresh: int = 2, pause: float = 0.002):
        self.port = port
        self.ok = 0
        self.failed = 0
        self.refused = 0
        self.announced_closes = 0  # responses that said Connection: close
        self.keepalive_connects = 0  # connections the keep-alive clients opened
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.pause = pause
        self.threads = [threading.Thread(target=self._keepalive, daemon=True) for _ in range(keepalive)]
        self.threads += [threading.Thread(target=self._fresh, daemon=True) for _ in range(fresh)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)

    def _note(self, what: str, refused: bool = False):
        with self.lock:
            if refused:
                self.refused += 1
            else:
                self.failed += 1
            if len(self.errors) < 20:
                self.errors.append(what)

    def _connect(self):
        try:
            return socket.create_connection(("127.0.0.1", self.port), timeout=10)
        except ConnectionRefusedError:
            self._note("connect refused", refused=True)
        except OSError as e:
            self._note(f"connect: {e!r}", refused=True)
        return None

    @staticmethod
    def _response(s: socket.socket):
        """(status, close announced) of one response, or raise."""
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise EOFError(f"end of stream before the response head ({len(buf)} bytes)")
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "connection" and "close" in value.lower():
                close = True
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                raise EOFError("end of stream in the response body")
            body += chunk
        return status, close

    def _keepalive(self):
        s = None
        while not self.stop.is_set():
            if s is None:
                s = self._connect()
                if s is None:
                    time.sleep(0.01)
                    continue
                with self.lock:
                    self.keepalive_connects += 1
            try:
                s.sendall(REQUEST)
                status, close = self._response(s)
            except (OSError, EOFError, ValueError) as e:
                self._note(f"keep-alive request: {e!r}")
                s.close()
                s = None
                continue
            if status != 200:
                self._note(f"status {status}")
            else:
                with self.lock:
                    self.ok += 1
            if close:
                with self.lock:
                    self.announced_closes += 1
                s.close()
                s = None
            time.sleep(self.pause)
        if s is not None:
            s.close()

    def _fresh(self):
        while not self.stop.is_set():
            s = self._connect()
            if s is None:
                time.sleep(0.01)
                continue
            try:
                s.sendall(CLOSE_REQUEST)
                status, _ = self._response(s)
                if status != 200:
                    self._note(f"status {status}")
                else:
                    with self.lock:
                        self.ok += 1
            except (OSError, EOFError, ValueError) as e:
                self._note(f"new-connection request: {e!r}")
            finally:
                s.close()
            time.sleep(self.pause)

    def summary(self) -> str:
        return (f"ok={self.ok} failed={self.failed} refused={self.refused} "
                f"announced_closes={self.announced_closes} "
                f"keepalive_connects={self.keepalive_connects} errors={self.errors}")


def master_cli(path: Path, command: str, timeout: float = 40.0) -> str:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(path))
    s.sendall(command.encode() + b"\n")
    s.shutdown(socket.SHUT_WR)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:  # haproxy's master may reset once it answered
            break
        if not chunk:
            break
        out += chunk
    s.close()
    return out.decode(errors="replace")


def show_proc_or_empty(path: Path) -> str:
    """`show proc`, or "" while the master CLI is unavailable (haproxy's
    master re-executes itself on reload)."""
    try:
        return master_cli(path, "show proc", timeout=5)
    except OSError:
        return ""


def workers(show_proc: str) -> tuple[list[int], list[int]]:
    """(current, old) worker pids from `show proc`."""
    current, old, section = [], [], None
    for line in show_proc.splitlines():
        if line.startswith("# workers"):
            section = current
        elif line.startswith("# old workers"):
            section = old
        elif line.startswith("#"):
            section = None
        elif section is not None and line.split():
            section.append(int(line.split()[0]))
    return current, old


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (not yet reaped) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def start_master(start_proxy, pbin, tmp_path, cfg: str, fe: int, name: str, extra=()):
    sock = tmp_path / f"{name}-master.sock"
    p = start_proxy(pbin, cfg, wait_ports=[fe], name=name,
                    extra_args=["-W", "-S", str(sock), *extra])
    wait_until(lambda: sock.exists(), timeout=10, what="master CLI socket")
    wait_until(lambda: workers(master_cli(sock, "show proc"))[0], timeout=10,
               what="a current worker")
    return p, sock


@pytest.mark.timeout(90)
def test_sigusr2_reloads_under_load_lose_nothing(proxy, start_proxy, servers, tmp_path):
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    p, sock = start_master(start_proxy, proxy, tmp_path,
                           render(CFG, fe=fe, be=be.port, extra="", extra_global=""), fe, "mw")
    seen_workers: set[int] = set()
    with Load(fe) as load:
        time.sleep(1.0)
        for i in range(5):
            before, _ = workers(show_proc_or_empty(sock))
            seen_workers.update(before)
            p.signal(signal.SIGUSR2)
            wait_until(lambda: (w := workers(show_proc_or_empty(sock))[0]) and w != before,
                       timeout=20, what=f"a new worker after reload {i + 1}")
            time.sleep(1.6)
        time.sleep(1.0)
    current, old = workers(master_cli(sock, "show proc"))
    seen_workers.update(current)
    print(f"\n{proxy.kind}: 5 reloads by SIGUSR2 under load: {load.summary()}")
    assert p.alive(), p.logs()
    assert load.ok > 200, f"too little load to mean anything: {load.summary()}"
    if proxy.kind == "sluice":
        assert load.failed == 0 and load.refused == 0, load.summary()
        # Every keep-alive connection went over to each new worker: none was
        # closed, so each client still has the one it opened first.
        assert load.announced_closes == 0, load.summary()
        assert load.keepalive_connects == 4, load.summary()
    # Old workers are gone once their sessions have ended (the load stopped).
    retired = [w for w in seen_workers if w not in current]
    assert len(retired) == 5, (seen_workers, current)
    wait_until(lambda: not any(pid_alive(w) for w in retired), timeout=15,
               what="old workers exiting")
    wait_until(lambda: not workers(master_cli(sock, "show proc"))[1], timeout=10,
               what="show proc without old workers")
    # Still serving after it all.
    s = connect(fe)
    s.sendall(CLOSE_REQUEST)
    assert Load._response(s)[0] == 200
    s.close()


@pytest.mark.timeout(60)
def test_invalid_config_on_reload_keeps_service(sluice, start_proxy, servers, tmp_path):
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    good = render(CFG, fe=fe, be=be.port, extra="", extra_global="")
    p, sock = start_master(start_proxy, sluice, tmp_path, good, fe, "bad")
    before, _ = workers(master_cli(sock, "show proc"))
    with Load(fe, keepalive=2, fresh=1) as load:
        time.sleep(0.5)
        p.cfg_path.write_text(good + "\nbackend broken\n    balance nosuchalgo\n")
        answer = master_cli(sock, "reload")
        assert answer.startswith("Success=0\n--\n"), answer
        assert "nosuchalgo" in answer, answer
        p.signal(signal.SIGUSR2)  # the same by signal: logged
        wait_until(lambda: p.stderr().count("Reload failed") >= 2, timeout=10,
                   what="the failed reload logged")
        time.sleep(0.5)
    assert "nosuchalgo" in p.stderr()
    assert load.failed == 0 and load.refused == 0 and load.ok > 20, load.summary()
    show = master_cli(sock, "show proc")
    assert workers(show) == (before, []), show
    assert "[failed: 2]" in show, show

    # A bind that cannot be opened fails the reload too, with the reason.
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        p.cfg_path.write_text(good.replace("default_backend be",
                                           f"bind 127.0.0.1:{taken.getsockname()[1]}\n"
                                           "    default_backend be"))
        answer = master_cli(sock, "reload")
        assert answer.startswith("Success=0"), answer
        assert "Address already in use" in answer, answer
    finally:
        taken.close()

    # Fixed: the next reload works and says so.
    p.cfg_path.write_text(good)
    answer = master_cli(sock, "reload")
    assert answer.startswith("Success=1\n--\n"), answer
    after, _ = workers(master_cli(sock, "show proc"))
    assert after and after != before


@pytest.mark.timeout(60)
def test_long_tcp_session_survives_reload(sluice, start_proxy, servers, tmp_path):
    be = servers(EchoServer(name="echo"))
    fe = free_port()
    p, sock = start_master(start_proxy, sluice, tmp_path,
                           render(TCP_CFG, fe=fe, be=be.port, extra=""), fe, "tcp")
    old_worker, _ = workers(master_cli(sock, "show proc"))
    live = connect(fe, timeout=20)
    try:
        live.sendall(b"before-reload")
        assert recv_exact(live, 13) == b"before-reload"
        assert master_cli(sock, "reload").startswith("Success=1")
        current, old = workers(master_cli(sock, "show proc"))
        assert old == old_worker and current != old_worker
        # New connections go to the new worker while the old one relays on.
        fresh = connect(fe)
        fresh.sendall(b"new")
        assert recv_exact(fresh, 3) == b"new"
        fresh.close()
        for i in range(5):
            msg = b"after-reload-%d" % i
            live.sendall(msg)
            assert recv_exact(live, len(msg)) == msg
            time.sleep(0.3)
        assert pid_alive(old_worker[0]), "the old worker left while a session was live"
    finally:
        live.close()
    # Once the session ended by itself, the old worker leaves.
    wait_until(lambda: not pid_alive(old_worker[0]), timeout=15, what="old worker exit")
    wait_until(lambda: not workers(master_cli(sock, "show proc"))[1], timeout=10,
               what="no old workers")
    assert "Former worker (%d) exited with code 0" % old_worker[0] in p.stderr()


@pytest.mark.timeout(90)
def test_sf_reloads(sluice, start_proxy, servers, tmp_path):
    """The classic form: each new process tells the previous one to stop
    softly once it accepts. Without -x each process binds its own sockets
    (SO_REUSEPORT): connections waiting in the old process's backlog when it
    closes them can be reset, so losses are counted, not asserted."""
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    cfg = render(CFG, fe=fe, be=be.port, extra="", extra_global="")
    procs = [start_proxy(sluice, cfg, wait_ports=[fe], name="sf0")]
    with Load(fe) as load:
        time.sleep(0.5)
        for i in range(5):
            old = procs[-1]
            procs.append(start_proxy(sluice, cfg, wait_ports=[fe], name=f"sf{i + 1}",
                                     extra_args=["-sf", str(old.pid)]))
            old.wait_exit(timeout=25)  # it finished its sessions and left
            time.sleep(0.5)
    print(f"\nsluice: 5 reloads by -sf under load: {load.summary()}")
    assert load.ok > 100 and load.announced_closes > 0, load.summary()
    # Keep-alive clients never see a close that was not announced.
    assert not [e for e in load.errors if e.startswith("keep-alive")], load.summary()
    assert procs[-1].alive()
    assert all(not p.alive() for p in procs[:-1])


@pytest.mark.timeout(60)
def test_st_stops_the_old_process_now(sluice, start_proxy, servers, tmp_path):
    be = servers(EchoServer(name="echo"))
    fe = free_port()
    cfg = render(TCP_CFG, fe=fe, be=be.port, extra="")
    pidfile = tmp_path / "st.pid"
    old = start_proxy(sluice, cfg, wait_ports=[fe], name="st0", extra_args=["-p", str(pidfile)])
    assert int(pidfile.read_text()) == old.pid
    live = connect(fe)
    live.sendall(b"x")
    assert recv_exact(live, 1) == b"x"
    new = start_proxy(sluice, cfg, wait_ports=[fe], name="st1",
                      extra_args=["-p", str(pidfile), "-st", str(old.pid)])
    assert old.wait_exit(timeout=10) == 0
    live.close()
    # The old process leaves the pid file alone: the new one wrote its pid there.
    assert int(pidfile.read_text()) == new.pid
    s = connect(fe)
    s.sendall(b"y")
    assert recv_exact(s, 1) == b"y"
    s.close()
    assert new.alive()


@pytest.mark.timeout(60)
def test_master_stops_with_its_workers(sluice, start_proxy, servers, tmp_path):
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    pidfile = tmp_path / "mw.pid"
    p, sock = start_master(start_proxy, sluice, tmp_path,
                           render(CFG, fe=fe, be=be.port, extra="", extra_global=""), fe, "stop",
                           extra=["-p", str(pidfile)])
    assert int(pidfile.read_text()) == p.pid  # the master's pid
    worker = workers(master_cli(sock, "show proc"))[0][0]
    help_text = master_cli(sock, "help")
    assert "reload" in help_text and "show proc" in help_text
    assert master_cli(sock, "nonsense").startswith("Unknown command: 'nonsense'")
    p.signal(signal.SIGTERM)
    assert p.wait_exit(timeout=15) == 0
    assert not pid_alive(worker)
    assert not sock.exists()
    assert not pidfile.exists()


@pytest.mark.timeout(60)
def test_worker_crash_is_logged_and_stops_the_master(sluice, start_proxy, servers, tmp_path):
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    p, sock = start_master(start_proxy, sluice, tmp_path,
                           render(CFG, fe=fe, be=be.port, extra="", extra_global=""), fe, "crash")
    worker = workers(master_cli(sock, "show proc"))[0][0]
    os.kill(worker, signal.SIGKILL)
    rc = p.wait_exit(timeout=15)
    assert rc == 128 + signal.SIGKILL
    assert f"Current worker ({worker}) exited with code 137" in p.stderr()
    assert "exit-on-failure" in p.stderr()


@pytest.mark.timeout(60)
def test_no_exit_on_failure_keeps_the_master(sluice, start_proxy, servers, tmp_path):
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    p, sock = start_master(
        start_proxy, sluice, tmp_path,
        render(CFG, fe=fe, be=be.port, extra="",
               extra_global="    master-worker no-exit-on-failure"), fe, "noexit")
    worker = workers(master_cli(sock, "show proc"))[0][0]
    os.kill(worker, signal.SIGKILL)
    wait_until(lambda: f"Current worker ({worker}) exited" in p.stderr(), timeout=10,
               what="the crash logged")
    assert p.alive()
    # A reload brings a worker back.
    assert master_cli(sock, "reload").startswith("Success=1")
    s = connect(fe)
    s.sendall(CLOSE_REQUEST)
    assert Load._response(s)[0] == 200
    s.close()


@pytest.mark.timeout(60)
def test_daemon_pidfile_holds_the_master(sluice, servers, tmp_path):
    """-W -D: the pid file names the master; SIGUSR2 to it reloads, SIGTERM
    stops master and workers."""
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    cfg = tmp_path / "d.cfg"
    cfg.write_text(render(CFG, fe=fe, be=be.port, extra="", extra_global=""))
    pidfile = tmp_path / "d.pid"
    sock = tmp_path / "d.sock"
    r = subprocess.run([sluice.path, "-W", "-D", "-q", "-f", str(cfg), "-p", str(pidfile),
                        "-S", str(sock)], capture_output=True, timeout=20)
    assert r.returncode == 0, r.stderr
    master = int(pidfile.read_text())
    try:
        first = workers(master_cli(sock, "show proc"))[0]
        assert first and master not in first
        assert Path(f"/proc/{first[0]}/stat").read_text().split(")")[1].split()[1] == str(master)
        os.kill(master, signal.SIGUSR2)
        wait_until(lambda: (w := workers(show_proc_or_empty(sock))[0]) and w != first,
                   timeout=20, what="a new worker")
        s = connect(fe)
        s.sendall(CLOSE_REQUEST)
        assert Load._response(s)[0] == 200
        s.close()
    finally:
        os.kill(master, signal.SIGTERM)
    wait_until(lambda: not pid_alive(master), timeout=15, what="master exit")
    assert not pidfile.exists()


@pytest.mark.timeout(60)
def test_idle_keepalive_connection_moves_to_the_new_worker(sluice, start_proxy, servers, tmp_path):
    """The property the zero-loss reload rests on: after the reload, an idle
    keep-alive connection of the old worker is the new worker's. It stays
    open, the old worker leaves at once (nothing left to serve), and the
    next request on it is answered by the new worker, on the server
    connection the old one had (the origin sees no new connection)."""
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    p, sock = start_master(start_proxy, sluice, tmp_path,
                           render(CFG, fe=fe, be=be.port, extra="", extra_global=""), fe, "idle")
    old = workers(master_cli(sock, "show proc"))[0]
    c = connect(fe)
    c.sendall(REQUEST)
    assert Load._response(c) == (200, False)
    assert owner_pid(fe, c) == old[0]
    origin_conns = be.connections
    assert master_cli(sock, "reload").startswith("Success=1")
    new = workers(master_cli(sock, "show proc"))[0]
    assert new != old
    # The old worker has nothing left: it goes without waiting for the client.
    wait_until(lambda: not pid_alive(old[0]), timeout=10, what="old worker exit")
    # Still open: nothing to read, no end of stream.
    c.setblocking(False)
    with pytest.raises(BlockingIOError):
        c.recv(1, socket.MSG_PEEK)
    c.setblocking(True)
    c.settimeout(10)
    assert owner_pid(fe, c) == new[0]
    c.sendall(REQUEST)
    assert Load._response(c) == (200, False)
    assert be.connections == origin_conns, "the new worker opened a server connection"
    c.sendall(REQUEST)
    assert Load._response(c) == (200, False)
    c.close()


def owner_pid(fe: int, client: socket.socket) -> int | None:
    """The pid holding the proxy's end of `client`'s connection (ss -p)."""
    port = client.getsockname()[1]
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( dport = :{port} )"],
                         capture_output=True, text=True, timeout=10).stdout
    if "pid=" not in out:
        return None
    return int(out.split("pid=")[1].split(",")[0])


@pytest.mark.timeout(60)
def test_systemd_notifications(sluice, start_proxy, servers, tmp_path):
    """Type=notify: READY=1 when the first worker accepts, RELOADING=1 then
    READY=1 around a reload, STOPPING=1 on SIGTERM."""
    if "with libsystemd" not in subprocess.run([sluice.path, "-vv"], capture_output=True,
                                               text=True).stdout:
        pytest.skip("built without libsystemd")
    notify_path = tmp_path / "notify.sock"
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(str(notify_path))
    ns.settimeout(10)
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    sock = tmp_path / "sd-master.sock"
    p = start_proxy(sluice, render(CFG, fe=fe, be=be.port, extra="", extra_global=""),
                    wait_ports=[fe], name="sd", extra_args=["-Ws", "-S", str(sock)],
                    env={"NOTIFY_SOCKET": str(notify_path)})

    def next_message() -> str:
        return ns.recv(4096).decode()

    try:
        first = next_message()
        assert "READY=1" in first and f"MAINPID={p.pid}" in first, first
        p.signal(signal.SIGUSR2)
        reloading = next_message()
        assert "RELOADING=1" in reloading and "MONOTONIC_USEC=" in reloading, reloading
        assert "READY=1" in next_message()
        p.signal(signal.SIGTERM)
        assert "STOPPING=1" in next_message()
        assert p.wait_exit(timeout=15) == 0
    finally:
        ns.close()


@pytest.mark.timeout(60)
def test_old_worker_bounded_by_hard_stop_after(sluice, start_proxy, servers, tmp_path):
    """An old worker whose client never finishes its request leaves at
    hard-stop-after (a connection in the middle of a request is not handed
    over: the old worker holds part of it)."""
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    cfg = render(CFG, fe=fe, be=be.port, extra="", extra_global="").replace(
        "hard-stop-after 20s", "hard-stop-after 2s").replace(
        "timeout http-keep-alive 5s", "timeout http-keep-alive 60s").replace(
        "timeout client 10s", "timeout client 60s")
    p, sock = start_master(start_proxy, sluice, tmp_path, cfg, fe, "hsa")
    old = workers(master_cli(sock, "show proc"))[0]
    c = connect(fe)
    c.sendall(REQUEST)
    assert Load._response(c) == (200, False)
    c.sendall(REQUEST[:-2])  # a request head without its end
    time.sleep(0.2)
    t0 = time.monotonic()
    assert master_cli(sock, "reload").startswith("Success=1")
    wait_until(lambda: not pid_alive(old[0]), timeout=15, what="old worker exit")
    took = time.monotonic() - t0
    assert 1.5 <= took <= 6, took
    assert "hard-stop-after reached" in p.stderr()
    c.close()


@pytest.mark.timeout(60)
def test_reload_changing_nbthread_loses_nothing(sluice, start_proxy, servers, tmp_path):
    """nbthread 2 -> 1 -> 3 under load: the master keeps every socket of the
    SO_REUSEPORT group (the kernel still routes connections to each), so the
    new worker serves the extra one from all its threads."""
    be = EchoHTTPServer("b1")
    servers(be)
    fe = free_port()
    cfg = render(CFG, fe=fe, be=be.port, extra="", extra_global="")
    p, sock = start_master(start_proxy, sluice, tmp_path, cfg, fe, "nbt")
    with Load(fe, keepalive=2, fresh=3) as load:
        time.sleep(0.5)
        for n in (1, 3, 2):
            p.cfg_path.write_text(cfg.replace("nbthread 2", f"nbthread {n}"))
            assert master_cli(sock, "reload").startswith("Success=1")
            time.sleep(1.0)
    print(f"\nsluice: nbthread 2->1->3->2 under load: {load.summary()}")
    assert load.failed == 0 and load.refused == 0 and load.ok > 50, load.summary()
    # Every socket of the group has a worker thread accepting on it.
    for _ in range(20):
        s = connect(fe, timeout=5)
        s.sendall(CLOSE_REQUEST)
        assert Load._response(s)[0] == 200
        s.close()
