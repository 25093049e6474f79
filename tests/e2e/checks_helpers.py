"""Helpers for the health-check end-to-end tests: private MariaDB / Redis
servers on free loopback ports, and raw MySQL protocol probes."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

from e2eutil import free_port, wait_until

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
MARIADB = shutil.which("mariadb") or "/usr/bin/mariadb"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"

# MariaDB never counts connection errors from 127.0.0.1 or ::1: checks and
# probes come from here.
CHECK_SOURCE = "127.0.0.2"


class MariaDB:
    """A throw-away MariaDB: own datadir, own port, max_connect_errors=10,
    name resolution on (no skip-name-resolve), so that host blocking works."""

    def __init__(self, max_connect_errors: int = 10):
        self.dir = Path(tempfile.mkdtemp(prefix="sluice-mariadb-"))
        self.port = free_port()
        self.sock = str(self.dir / "mysqld.sock")
        self.max_connect_errors = max_connect_errors
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return os.access(MARIADBD, os.X_OK) and os.access(INSTALL_DB, os.X_OK)

    def start(self) -> "MariaDB":
        data = self.dir / "data"
        user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run([INSTALL_DB, "--no-defaults", f"--datadir={data}", *user,
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)
        self.log = open(self.dir / "mariadbd.log", "wb")
        self.proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", f"--datadir={data}", *user, f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.sock}",
             f"--pid-file={self.dir / 'mariadbd.pid'}",
             f"--max-connect-errors={self.max_connect_errors}",
             "--skip-log-bin", "--innodb-buffer-pool-size=16M"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: self.query("SELECT 1") == "1", timeout=60, interval=0.2,
                   what="mariadb to accept queries")
        self.query("CREATE USER 'sluice_check'@'%'; "
                   "CREATE USER 'app'@'%' IDENTIFIED BY 'apppw'; "
                   "GRANT SELECT ON *.* TO 'app'@'%'")
        return self

    def query(self, sql: str) -> str | None:
        r = subprocess.run([MARIADB, "--no-defaults", "-S", self.sock, "-uroot", "-N", "-B",
                            "-e", sql], capture_output=True, text=True, timeout=20)
        return r.stdout.strip() if r.returncode == 0 else None

    def status(self, name: str) -> int:
        out = self.query(f"SHOW GLOBAL STATUS LIKE '{name}'")
        return int(out.split()[1])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def mysql_read_packet(s: socket.socket) -> tuple[int, bytes] | None:
    head = b""
    while len(head) < 4:
        d = s.recv(4 - len(head))
        if not d:
            return None
        head += d
    n = head[0] | head[1] << 8 | head[2] << 16
    body = b""
    while len(body) < n:
        d = s.recv(n - len(body))
        if not d:
            break
        body += d
    return head[3], body


def greeting_from(port: int, source: str = CHECK_SOURCE, hang_up: bool = True) -> bytes:
    """Connect from `source`, read the first packet (greeting or error) and
    hang up without logging in: what a user-less haproxy check does."""
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    try:
        p = mysql_read_packet(s)
    finally:
        s.close()
    return p[1] if p else b""


def host_blocked(port: int, source: str = CHECK_SOURCE) -> bool:
    body = greeting_from(port, source)
    return body[:1] == b"\xff" and b"blocked" in body


def mysql_login(port: int, user: str, password: str, host: str = "127.0.0.1") -> str | None:
    r = subprocess.run([MARIADB, "--no-defaults", "-h", host, "-P", str(port), f"-u{user}",
                        f"-p{password}", "-N", "-B", "--connect-timeout=5", "-e",
                        "SELECT CURRENT_USER()"], capture_output=True, text=True, timeout=20)
    return r.stdout.strip() if r.returncode == 0 else None


class Redis:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="sluice-redis-"))
        self.port = free_port()
        self.proc = None

    @staticmethod
    def available() -> bool:
        return os.access(REDIS, os.X_OK)

    def start(self) -> "Redis":
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(lambda: _listening(self.port), timeout=20, what="redis to listen")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class AgentServer:
    """An agent-check agent: answers every connection with `self.answer`
    (one line), which the test changes as it goes. Counts connections."""

    def __init__(self, answer: str = "up"):
        from e2eutil import TcpServer

        outer = self

        class _Srv(TcpServer):
            def handle(self, conn, info):
                conn.sendall((outer.answer + "\n").encode())
                conn.shutdown(socket.SHUT_WR)
                conn.settimeout(2)
                try:
                    while conn.recv(4096):
                        pass
                except OSError:
                    pass

        self.answer = answer
        self._srv = _Srv(name="agent")
        self.port = self._srv.port

    def start(self) -> "AgentServer":
        self._srv.start()
        return self

    def stop(self):
        self._srv.stop()

    @property
    def accepted(self) -> int:
        return self._srv.accepted

    def say(self, answer: str, settle_checks: int = 3, timeout: float = 10.0):
        """Change the answer and wait until the proxy fetched it `settle_checks` times."""
        self.answer = answer
        n = self._srv.accepted
        wait_until(lambda: self._srv.accepted >= n + settle_checks, timeout=timeout,
                   what=f"{settle_checks} agent checks after {answer!r}")


def share_of(fe: int, n: int, ident_of) -> dict[str, int]:
    """Send `n` connections through `fe` and count answers per server name."""
    counts: dict[str, int] = {}
    for _ in range(n):
        name = ident_of(fe, timeout=10)
        counts[name] = counts.get(name, 0) + 1
    return counts


class HttpBackend:
    """A loopback HTTP/1.x server for check tests. `/check.txt` answers per
    `self.mode`: "ok" (200, body "OK"), "slow" (200 after `slow_delay`
    seconds), "500", "hang" (never answers),
    "nostring" (200 without "OK"), "404". Any other path answers 200 with the
    server's name, or `self.traffic` when set ("500": a 500 error page). `down()` closes the listener (refused), `up()` reopens it."""

    def __init__(self, name: str, port: int | None = None):
        self.name = name
        self.port = port or free_port()
        self.mode = "ok"
        self.traffic = "ok"
        self.slow_delay = 0.15
        self.checks = 0
        self._srv = None
        self._thread = None
        self._hold = []

    def _make(self):
        import http.server
        import threading

        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def _answer(self, head_only):
                if self.path.startswith("/check.txt"):
                    outer.checks += 1
                    mode = outer.mode
                    if mode == "hang":
                        outer._hold.append(self.connection)
                        time.sleep(3)
                        return
                    if mode == "slow":
                        time.sleep(outer.slow_delay)
                    code = {"500": 500, "404": 404}.get(mode, 200)
                    body = b"SERVICE OK\n" if mode in ("ok", "slow") else b"degraded\n"
                elif outer.traffic == "500":
                    code, body = 500, b"internal error\n"
                else:
                    code, body = 200, outer.name.encode() + b"\n"
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                if not head_only:
                    self.wfile.write(body)

            def do_GET(self):
                self._answer(False)

            def do_HEAD(self):
                self._answer(True)

            def do_OPTIONS(self):
                self._answer(False)

        class S(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._srv = S(("127.0.0.1", self.port), H)
        self._thread = threading.Thread(target=self._srv.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def start(self) -> "HttpBackend":
        self._make()
        return self

    def down(self):
        if self._srv:
            self._srv.shutdown()
            self._srv.server_close()
            self._srv = None

    def up(self):
        if not self._srv:
            self._make()

    def stop(self):
        self.down()


def http_name_via(port: int, timeout: float = 5.0) -> str:
    """One HTTP/1.0 request through a TCP-mode proxy: the server's name, or
    '' on any failure."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                d = s.recv(4096)
                if not d:
                    break
                data += d
    except OSError:
        return ""
    if not data.startswith(b"HTTP/1.0 200"):
        return ""
    return data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace").strip()


class TrafficLoop:
    """Sends requests through the proxy in a background thread (bounded by
    `max_requests`), recording which server answered and every failure."""

    def __init__(self, port: int, pause: float = 0.02, max_requests: int = 20000):
        import threading

        self.port = port
        self.pause = pause
        self.max_requests = max_requests
        self.answers: list[tuple[float, str]] = []
        self.failures: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        for _ in range(self.max_requests):
            if self._stop.is_set():
                return
            name = http_name_via(self.port)
            now = time.monotonic()
            if name:
                self.answers.append((now, name))
            else:
                self.failures.append(now)
            time.sleep(self.pause)

    def start(self) -> "TrafficLoop":
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)

    def last_seen(self, name: str) -> float | None:
        times = [t for t, n in self.answers if n == name]
        return times[-1] if times else None


def wait_log(syslog, pattern: str, since: int, timeout: float) -> float:
    """Poll `syslog` for a line matching `pattern` among messages after index
    `since`; return the monotonic time it was first seen."""
    import re

    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in syslog.snapshot()[since:]:
            if rx.search(m):
                return time.monotonic()
        time.sleep(0.01)
    raise AssertionError(f"no log line matching {pattern!r} within {timeout}s; got:\n" +
                         "\n".join(syslog.snapshot()[since:]))


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class Postgres:
    """A throw-away PostgreSQL 15: initdb into a temp dir owned by the
    postgres user, own port, unix socket in the temp dir, trust auth on
    loopback; run with runuser when we are root."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="sluice-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.started = False

    @staticmethod
    def available() -> bool:
        return (PG_BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser"))

    def _run(self, argv, timeout=120):
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=True, capture_output=True, timeout=timeout)

    def start(self) -> "Postgres":
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                   "--auth=trust", "-E", "UTF8", "--no-sync"])
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "pg.log"),
                   "-w", "-t", "60", "-o",
                   f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                   "start"])
        self.started = True
        wait_until(lambda: _listening(self.port), timeout=30, what="postgres to listen")
        return self

    def stop(self):
        if self.started:
            try:
                self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                           "-t", "30", "stop"], timeout=60)
            except Exception:
                pass
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


class SmtpStub:
    """A minimal SMTP server: greets with `banner_code`, answers HELO/EHLO
    with 250 and QUIT with 221. Counts the greetings it sent."""

    def __init__(self, banner_code: int = 220):
        from e2eutil import TcpServer

        outer = self

        class _Srv(TcpServer):
            def handle(self, conn, info):
                conn.settimeout(3)
                conn.sendall(b"%d stub.local ESMTP ready\r\n" % outer.banner_code)
                buf = b""
                try:
                    for _ in range(20):
                        d = conn.recv(4096)
                        if not d:
                            break
                        buf += d
                        while b"\r\n" in buf:
                            line, buf = buf.split(b"\r\n", 1)
                            verb = line[:4].upper()
                            if verb in (b"HELO", b"EHLO"):
                                outer.helos.append(line.decode(errors="replace"))
                                conn.sendall(b"250 stub.local\r\n")
                            elif verb == b"QUIT":
                                conn.sendall(b"221 bye\r\n")
                                return
                            else:
                                conn.sendall(b"502 no\r\n")
                except OSError:
                    pass

        self.banner_code = banner_code
        self.helos: list[str] = []
        self._srv = _Srv(name="smtp")
        self.port = self._srv.port

    def start(self) -> "SmtpStub":
        self._srv.start()
        return self

    def stop(self):
        self._srv.stop()
