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
