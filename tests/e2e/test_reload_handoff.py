"""Reload hand-over under the master (-W): an old worker gives its idle
keep-alive client connections, and its idle server connections, to the new
worker (runtime/handoff.h) instead of making clients reconnect. A request
in flight at the reload finishes on the old worker and its connection goes
over afterwards; a connection whose frontend the reload removes stays with
the old worker and is told Connection: close; a server connection whose
server moved is not reused. Many connections at once (more than the
channel holds) all arrive."""

import socket
import threading
import time

import pytest

from e2eutil import connect, free_port, render, wait_until
from http_helpers import EchoHTTPServer
from test_reload import (Load, master_cli, owner_pid, pid_alive, start_master,
                         workers)
from test_reload_x import CFG as CFG_X

CFG = """
global
    nbthread 2
    maxconn 4000
    hard-stop-after 20s

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 20s

frontend $fe_name
    bind 127.0.0.1:$fe
    default_backend be

backend be
    server s1 127.0.0.1:$be
"""

REQUEST = b"GET /r HTTP/1.1\r\nHost: handoff.test\r\n\r\n"


class SlowOrigin:
    """HTTP/1.1 keep-alive origin that answers `/slow` after `delay` s and
    anything else at once; counts connections."""

    def __init__(self, delay: float):
        self.delay = delay
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.halt.set()
        self.thread.join(timeout=5)
        self.sock.close()

    def _accept(self):
        while not self.halt.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c: socket.socket):
        c.settimeout(30)
        buf = b""
        try:
            while not self.halt.is_set():
                while b"\r\n\r\n" not in buf:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                if b" /slow " in head.split(b"\r\n")[0]:
                    time.sleep(self.delay)
                body = b"ok\n"
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n" + body)
        except OSError:
            pass
        finally:
            c.close()


def cfg(fe: int, be: int, fe_name: str = "fe") -> str:
    return render(CFG, fe=fe, be=be, fe_name=fe_name)


def request(c: socket.socket, path: str = "/r", timeout: float = 10.0):
    c.settimeout(timeout)
    c.sendall(f"GET {path} HTTP/1.1\r\nHost: handoff.test\r\n\r\n".encode())
    return Load._response(c)


@pytest.mark.timeout(60)
def test_request_in_flight_at_the_reload_then_the_connection_moves(sluice, start_proxy, servers,
                                                                   tmp_path):
    origin = servers(SlowOrigin(delay=1.0))
    fe = free_port()
    p, sock = start_master(start_proxy, sluice, tmp_path, cfg(fe, origin.port), fe, "flight")
    old = workers(master_cli(sock, "show proc"))[0]
    c = connect(fe)
    assert request(c) == (200, False)
    c.sendall(b"GET /slow HTTP/1.1\r\nHost: handoff.test\r\n\r\n")
    time.sleep(0.2)  # the request is at the origin
    assert master_cli(sock, "reload").startswith("Success=1")
    new = workers(master_cli(sock, "show proc"))[0]
    assert new != old and pid_alive(old[0])  # still answering the slow request
    # The answer comes whole, without a goodbye...
    assert Load._response(c) == (200, False)
    # ...then the connection is the new worker's and the old one leaves.
    wait_until(lambda: not pid_alive(old[0]), timeout=10, what="old worker exit")
    assert owner_pid(fe, c) == new[0]
    conns = origin.connections
    assert request(c) == (200, False)
    assert origin.connections == conns  # on the server connection it was given
    c.close()


@pytest.mark.timeout(60)
def test_connection_whose_frontend_the_reload_removes_is_told_to_close(sluice, start_proxy,
                                                                       servers, tmp_path):
    """The frontend is renamed and the server moved to another origin. The
    new worker tells the old one which frontends it has, so the old worker
    keeps this idle connection: its next request is answered (by the old
    worker, on a fresh connection to the old origin: its idle one went over
    and was closed by the new worker, whose server moved) with
    `Connection: close`, never cut while idle. New connections reach the
    new origin."""
    a = servers(EchoHTTPServer("a"))
    b = servers(EchoHTTPServer("b"))
    fe = free_port()
    p, sock = start_master(start_proxy, sluice, tmp_path, cfg(fe, a.port), fe, "gone")
    old = workers(master_cli(sock, "show proc"))[0]
    c = connect(fe)
    assert request(c) == (200, False)
    p.cfg_path.write_text(cfg(fe, b.port, fe_name="renamed"))
    assert master_cli(sock, "reload").startswith("Success=1")
    time.sleep(0.5)
    assert pid_alive(old[0])  # it still has the connection
    c.setblocking(False)
    with pytest.raises(BlockingIOError):
        c.recv(1, socket.MSG_PEEK)  # open, nothing said
    assert owner_pid(fe, c) == old[0]
    assert request(c) == (200, True)
    assert c.recv(1) == b""
    c.close()
    wait_until(lambda: not pid_alive(old[0]), timeout=10, what="old worker exit")
    fresh = connect(fe)
    fresh.sendall(REQUEST)
    fresh.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = fresh.recv(65536)
        assert chunk, data
        data += chunk
    assert b"X-Server: b" in data, data
    fresh.close()


@pytest.mark.timeout(90)
def test_many_idle_connections_all_move(sluice, start_proxy, servers, tmp_path):
    """More connections than the channel's buffer holds at once: the old
    worker sends as the new one takes them (a full channel is tried again),
    and every connection answers its next request from the new worker."""
    be = servers(EchoHTTPServer("b1"))
    fe = free_port()
    p, sock = start_master(start_proxy, sluice, tmp_path,
                           cfg(fe, be.port).replace("timeout http-keep-alive 20s",
                                                    "timeout http-keep-alive 20s\n    http-reuse always"),
                           fe, "many")
    old = workers(master_cli(sock, "show proc"))[0]
    # One request at a time: the Python origin is served by a few server
    # connections (http-reuse always), while the proxy holds 600 clients.
    conns = []
    for _ in range(600):
        c = connect(fe)
        conns.append(c)
        assert request(c) == (200, False)
    assert master_cli(sock, "reload").startswith("Success=1")
    new = workers(master_cli(sock, "show proc"))[0]
    wait_until(lambda: not pid_alive(old[0]), timeout=20, what="old worker exit")
    for i, c in enumerate(conns):
        assert request(c) == (200, False), i
    assert owner_pid(fe, conns[0]) == new[0]
    assert owner_pid(fe, conns[-1]) == new[0]
    for c in conns:
        c.close()
    assert "hand-over" not in p.stderr(), p.stderr()


# test_reload_x's configuration, with time for idle connections to wait.
X_CFG = CFG_X.replace("timeout client 10s", "timeout client 30s").replace(
    "timeout server 10s", "timeout server 30s\n    timeout http-keep-alive 20s")


@pytest.mark.timeout(90)
def test_x_sf_reloads_hand_connections_over(sluice, start_proxy, servers, tmp_path):
    """The classic form with -x: the new process offers the old one a
    channel over its stats socket (`_handoff`), then -sf stops it; keep-alive
    clients under load never reconnect across 3 reloads, and each old
    process leaves at once."""
    be = servers(EchoHTTPServer("b1"))
    fe = free_port()
    sock = tmp_path / "stats.sock"
    conf = render(X_CFG, fe=fe, be=be.port, sock=sock, expose="expose-fd listeners")
    procs = [start_proxy(sluice, conf, wait_ports=[fe], name="x0")]
    idle = connect(fe)
    assert request(idle) == (200, False)
    with Load(fe, keepalive=3, fresh=1) as load:
        time.sleep(0.5)
        for i in range(3):
            old = procs[-1]
            procs.append(start_proxy(sluice, conf, wait_ports=[fe], name=f"x{i + 1}",
                                     extra_args=["-x", str(sock), "-sf", str(old.pid)]))
            assert old.wait_exit(timeout=10) == 0
            assert "will hand its idle connections over to us" in procs[-1].stderr(), \
                procs[-1].stderr()
            time.sleep(0.5)
    print(f"\nsluice: 3 reloads by -x -sf: {load.summary()}")
    assert load.failed == 0 and load.refused == 0 and load.ok > 100, load.summary()
    assert load.announced_closes == 0 and load.keepalive_connects == 3, load.summary()
    # The connection idle through all of it is the newest process's.
    assert owner_pid(fe, idle) == procs[-1].pid
    assert request(idle) == (200, False)
    idle.close()


@pytest.mark.timeout(60)
def test_handoff_refused_without_expose_fd(sluice, start_proxy, servers, tmp_path):
    """Without `expose-fd listeners` the old process refuses the channel (as
    it refuses its sockets): a warning, and it closes its keep-alive
    connections after announcing it, as before."""
    be = servers(EchoHTTPServer("b1"))
    fe = free_port()
    sock = tmp_path / "stats.sock"
    conf = render(X_CFG, fe=fe, be=be.port, sock=sock, expose="")
    old = start_proxy(sluice, conf, wait_ports=[fe], name="nx0")
    c = connect(fe)
    assert request(c) == (200, False)
    new = start_proxy(sluice, conf, wait_ports=[fe], name="nx1",
                      extra_args=["-x", str(sock), "-sf", str(old.pid)])
    assert "no hand-over of idle connections" in new.stderr(), new.stderr()
    assert request(c) == (200, True)  # the old process said goodbye
    assert old.wait_exit(timeout=10) == 0
    c.close()


@pytest.mark.timeout(60)
def test_new_worker_has_its_descriptor_table_sized(sluice, start_proxy, servers, tmp_path):
    """A worker sizes the kernel's descriptor table before it starts its
    threads (core/fd_table.h): growing it later, with threads, waits for an
    RCU grace period in whichever thread allocates a descriptor, which after
    a reload was the new worker's loop receiving the handed-over
    connections. Its table holds the descriptor limit (at most 65,536)
    from the start, after a reload too."""
    be = servers(EchoHTTPServer("b1"))
    fe = free_port()
    conf = cfg(fe, be.port).replace("maxconn 4000", "maxconn 3000")
    p, sock = start_master(start_proxy, sluice, tmp_path, conf, fe, "fdt")
    for _ in range(2):
        pid = workers(master_cli(sock, "show proc"))[0][0]
        status = open(f"/proc/{pid}/status").read()
        size = int(status.split("FDSize:")[1].split()[0])
        limit = int(open(f"/proc/{pid}/limits").read().split("Max open files")[1].split()[0])
        assert size >= min(limit, 65536) and limit >= 6000, (size, limit)
        assert master_cli(sock, "reload").startswith("Success=1")
