"""Helpers for Sluice's end-to-end tests: ports, configs, the proxy process
wrapper, and small loopback servers (echo, sink, source, half-close, syslog).

Standard library only. Every wait here is bounded in time and in count.
"""

from __future__ import annotations

import hashlib
import os
import re
import select
import signal
import socket
import string
import subprocess
import threading
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"

# --------------------------------------------------------------------- ports

_used_ports: set[int] = set()
_ports_lock = threading.Lock()


def free_port(host: str = LOOPBACK, kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port that is free now and was not handed out before in this
    run. (Race with other programs is possible but unlikely: the kernel hands
    out ephemeral ports in a rotating fashion.)"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(200):
        with socket.socket(family, kind) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        with _ports_lock:
            if port not in _used_ports:
                _used_ports.add(port)
                return port
    raise RuntimeError("could not find a fresh free port")


def free_ports(n: int) -> list[int]:
    return [free_port() for _ in range(n)]


# --------------------------------------------------------------------- configs

def render(template: str, **values) -> str:
    """Fill `$name` / `${name}` placeholders. Unknown placeholders are an
    error (a typo in a test must not silently produce a broken config).
    Use `$$` for a literal dollar sign (e.g. `$${ENV}` for env expansion)."""
    return string.Template(template).substitute(**values)


# --------------------------------------------------------------------- data

BLOCK = 1 << 20


def stream_block(seed: bytes, index: int, size: int = BLOCK) -> bytes:
    """Block `index` of the deterministic pseudo-random stream `seed`."""
    return hashlib.shake_256(seed + b":" + index.to_bytes(8, "big")).digest(size)


def stream_blocks(seed: bytes, total: int, size: int = BLOCK):
    i = 0
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield stream_block(seed, i, size)[:n]
        sent += n
        i += 1


def stream_sha256(seed: bytes, total: int) -> str:
    h = hashlib.sha256()
    for b in stream_blocks(seed, total):
        h.update(b)
    return h.hexdigest()


# --------------------------------------------------------------------- sockets

def connect(port: int, host: str = LOOPBACK, timeout: float = 10.0) -> socket.socket:
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_all(s: socket.socket, limit: int = 64 << 20, timeout: float = 20.0) -> bytes:
    """Read until EOF (bounded by `limit` bytes and `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    chunks = []
    total = 0
    while total < limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no EOF after {timeout}s ({total} bytes read)")
        s.settimeout(remaining)
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)
        total += len(b)
    raise AssertionError(f"more than {limit} bytes received before EOF")


def recv_exact(s: socket.socket, n: int, timeout: float = 20.0) -> bytes:
    deadline = time.monotonic() + timeout
    buf = bytearray()
    while len(buf) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"got {len(buf)}/{n} bytes after {timeout}s")
        s.settimeout(remaining)
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError(f"EOF after {len(buf)}/{n} bytes")
        buf += b
    return bytes(buf)


def port_is_listening(port: int) -> bool:
    """True if some socket listens on TCP `port` (any address), from
    /proc/net/tcp{,6}. This does not connect, so it creates no session."""
    hexport = f":{port:04X}"
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f, None)
                for line in f:
                    parts = line.split()
                    if len(parts) > 3 and parts[1].endswith(hexport) and parts[3] == "0A":
                        return True
        except FileNotFoundError:
            continue
    return False


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------- proxy

class ProxyExited(RuntimeError):
    pass


class Proxy:
    """One sluice or haproxy process running in the foreground (`-db`)."""

    def __init__(self, kind: str, binary: str, workdir: Path, config: str | None,
                 name: str = "proxy", extra_args: list[str] | None = None,
                 env: dict | None = None, cfg_args: list[str] | None = None):
        """`config` is written to WORKDIR/NAME.cfg and passed with `-f`;
        or give `cfg_args` (e.g. ["-f", "a.cfg", "-f", "dir"]) instead."""
        self.kind = kind
        self.binary = binary
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cfg_path = self.workdir / f"{name}.cfg"
        if config is not None:
            self.cfg_path.write_text(config)
        self.cfg_args = list(cfg_args) if cfg_args else ["-f", str(self.cfg_path)]
        self.stdout_path = self.workdir / f"{name}.stdout"
        self.stderr_path = self.workdir / f"{name}.stderr"
        self.extra_args = list(extra_args or [])
        self.env = env
        self.proc: subprocess.Popen | None = None
        self._out = None
        self._err = None

    @property
    def argv(self) -> list[str]:
        return [self.binary, "-db", *self.cfg_args, *self.extra_args]

    def start(self, wait_ports=(), timeout: float = 20.0) -> "Proxy":
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err,
                                     cwd=str(self.workdir), env=env,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        for port in wait_ports:
            while not port_is_listening(port):
                if self.proc.poll() is not None:
                    raise ProxyExited(f"{self.kind} exited with {self.proc.returncode} "
                                      f"before listening on {port}\n{self.logs()}")
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"{self.kind} not listening on {port} after "
                                       f"{timeout}s\n{self.logs()}")
                time.sleep(0.02)
        # A last look: the process must still be alive once its ports are up.
        time.sleep(0.05)
        if self.proc.poll() is not None:
            raise ProxyExited(f"{self.kind} exited with {self.proc.returncode}\n{self.logs()}")
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int):
        if self.alive():
            self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout: float = 5.0):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    pass
        # Kill anything it left in its session (it should leave nothing).
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for f in (self._out, self._err):
            if f:
                f.close()

    def stdout(self) -> str:
        try:
            return self.stdout_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def logs(self) -> str:
        rc = self.proc.poll() if self.proc else None
        cfg = self.cfg_path.read_text() if self.cfg_path.exists() else "(see argv)"
        return (f"--- {self.kind} argv: {' '.join(self.argv)} (exit: {rc})\n"
                f"--- config {self.cfg_path}:\n{cfg}\n"
                f"--- stdout:\n{self.stdout()[-4000:]}\n--- stderr:\n{self.stderr()[-4000:]}")


def run_cmd(argv: list[str], timeout: float = 30.0, env: dict | None = None,
            cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run a short-lived command (e.g. `-c`), capturing output, bounded."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, env=e, cwd=cwd, text=True, errors="replace")


# --------------------------------------------------------------------- servers

class TcpServer:
    """A threaded loopback TCP server. Subclasses implement handle(conn, info)
    where `info` is a per-connection dict the test can inspect afterwards.
    Tracks how many connections were accepted and the peak concurrency."""

    def __init__(self, port: int | None = None, host: str = LOOPBACK, name: str = "srv",
                 backlog: int = 128):
        self.name = name
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.backlog = backlog
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.accepted = 0
        self.active = 0
        self.max_active = 0
        self.infos: list[dict] = []
        self.errors: list[str] = []

    def start(self) -> "TcpServer":
        s = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET,
                          socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(self.backlog)
        s.settimeout(0.1)
        self._sock = s
        t = threading.Thread(target=self._accept_loop, name=f"{self.name}-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            info = {"peer": addr, "received": 0, "sha256": None, "done": False}
            with self._lock:
                self.accepted += 1
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                self._conns.append(conn)
                self.infos.append(info)
            t = threading.Thread(target=self._run, args=(conn, info),
                                 name=f"{self.name}-conn", daemon=True)
            t.start()
            with self._lock:
                self._threads.append(t)

    def _leave(self, info):
        with self._lock:
            if not info.get("_left"):
                info["_left"] = True
                self.active -= 1

    def _run(self, conn, info):
        try:
            conn.settimeout(60)
            self.handle(conn, info)
        except Exception as e:  # recorded, asserted on by tests that care
            if not self._stop.is_set():
                info["error"] = repr(e)
                with self._lock:
                    self.errors.append(f"{self.name}: {e!r}")
        finally:
            self._leave(info)
            info["done"] = True
            try:
                conn.close()
            except OSError:
                pass

    def handle(self, conn: socket.socket, info: dict):
        raise NotImplementedError

    def wait_accepted(self, n: int, timeout: float = 20.0):
        wait_until(lambda: self.accepted >= n, timeout, what=f"{self.name}: {n} accepted")

    def wait_done(self, n: int, timeout: float = 20.0):
        wait_until(lambda: sum(1 for i in list(self.infos) if i["done"]) >= n, timeout,
                   what=f"{self.name}: {n} connections done")

    def stop(self):
        self._stop.set()
        if self._sock:
            try:
                self._sock.close()
            except OSError:
                pass
        with self._lock:
            conns = list(self._conns)
            threads = list(self._threads)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        deadline = time.monotonic() + 5
        for t in threads:
            t.join(timeout=max(0.01, deadline - time.monotonic()))


class EchoServer(TcpServer):
    def handle(self, conn, info):
        while True:
            b = conn.recv(65536)
            if not b:
                break
            info["received"] += len(b)
            conn.sendall(b)
        conn.shutdown(socket.SHUT_WR)


class IdentServer(TcpServer):
    """Sends `name\\n`, then closes its write side and reads until EOF."""

    def handle(self, conn, info):
        conn.sendall(self.name.encode() + b"\n")
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(65536):
            pass


class SinkServer(TcpServer):
    """Counts and hashes what it receives until EOF, then closes."""

    def handle(self, conn, info):
        h = hashlib.sha256()
        while True:
            b = conn.recv(1 << 18)
            if not b:
                break
            info["received"] += len(b)
            h.update(b)
        info["sha256"] = h.hexdigest()


class SourceServer(TcpServer):
    """Sends `total` bytes of stream `seed`, then closes its write side."""

    def __init__(self, total: int, seed: bytes = b"source", **kw):
        super().__init__(**kw)
        self.total = total
        self.seed = seed

    def handle(self, conn, info):
        for b in stream_blocks(self.seed, self.total):
            conn.sendall(b)
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(65536):
            pass


class BulkServer(TcpServer):
    """Full duplex: hashes everything it receives (until EOF) while sending
    `total` bytes of stream `seed` (then SHUT_WR). Used for the
    byte-exactness test in both directions at once."""

    def __init__(self, total: int, seed: bytes = b"server-to-client", **kw):
        super().__init__(**kw)
        self.total = total
        self.seed = seed

    def handle(self, conn, info):
        conn.settimeout(120)

        def sender():
            try:
                for b in stream_blocks(self.seed, self.total):
                    conn.sendall(b)
                conn.shutdown(socket.SHUT_WR)
                info["sent"] = self.total
            except Exception as e:
                info["send_error"] = repr(e)

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        h = hashlib.sha256()
        while True:
            b = conn.recv(1 << 20)
            if not b:
                break
            info["received"] += len(b)
            h.update(b)
        info["sha256"] = h.hexdigest()
        t.join(timeout=120)


class ReadThenReplyServer(TcpServer):
    """Reads until EOF (client's FIN), then writes a reply that depends on
    what it got, then closes."""

    def __init__(self, extra: int = 100_000, **kw):
        super().__init__(**kw)
        self.extra = extra

    @staticmethod
    def reply_for(data: bytes, extra: int) -> bytes:
        head = b"GOT %d %s\n" % (len(data), hashlib.sha256(data).hexdigest().encode())
        return head + stream_block(b"reply", 0, extra)

    def handle(self, conn, info):
        data = bytearray()
        while True:
            b = conn.recv(65536)
            if not b:
                break
            data += b
        info["received"] = len(data)
        info["data"] = bytes(data)
        conn.sendall(self.reply_for(bytes(data), self.extra))


class CloseFirstServer(TcpServer):
    """Sends `greeting`, closes its write side first, then keeps reading what
    the client still sends until EOF."""

    def __init__(self, greeting: bytes = b"bye-from-server\n", **kw):
        super().__init__(**kw)
        self.greeting = greeting

    def handle(self, conn, info):
        conn.sendall(self.greeting)
        conn.shutdown(socket.SHUT_WR)
        data = bytearray()
        while True:
            b = conn.recv(65536)
            if not b:
                break
            data += b
        info["received"] = len(data)
        info["data"] = bytes(data)


class HoldServer(TcpServer):
    """Reads one chunk, holds the connection `hold` seconds, replies with the
    chunk, then closes. The active count drops *before* the close so that a
    proxy's next dispatch cannot be counted as overlapping."""

    def __init__(self, hold: float = 0.5, **kw):
        super().__init__(**kw)
        self.hold = hold

    def handle(self, conn, info):
        b = conn.recv(65536)
        info["received"] = len(b)
        info["data"] = b
        self._stop.wait(self.hold)
        conn.sendall(b"ok:" + b)
        self._leave(info)
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(65536):
            pass


class UdpSyslog:
    """Collects syslog datagrams on a loopback UDP port."""

    def __init__(self, host: str = LOOPBACK):
        self.host = host
        self.port = free_port(host, socket.SOCK_DGRAM)
        self.messages: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = None
        self._thread = None

    def start(self) -> "UdpSyslog":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((self.host, self.port))
        s.settimeout(0.1)
        self._sock = s
        self._thread = threading.Thread(target=self._loop, name="syslog", daemon=True)
        self._thread.start()
        return self

    def _loop(self):
        while not self._stop.is_set():
            try:
                data, _ = self._sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.messages.append(data.decode("utf-8", errors="replace"))

    def clear(self):
        with self._lock:
            self.messages.clear()

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, pattern: str, timeout: float = 10.0) -> re.Match:
        rx = re.compile(pattern)

        def find():
            for m in self.snapshot():
                r = rx.search(m)
                if r:
                    return r
            return None
        try:
            return wait_until(find, timeout, what=f"syslog line matching {pattern!r}")
        except TimeoutError:
            raise AssertionError(f"no syslog line matches {pattern!r}; got:\n" +
                                 "\n".join(self.snapshot()))

    def stop(self):
        self._stop.set()
        if self._sock:
            self._sock.close()
        if self._thread:
            self._thread.join(timeout=2)


def ident_of(port: int, timeout: float = 10.0) -> str:
    """Connect through `port` to an IdentServer and return its name ('' if
    the connection was closed without data)."""
    with connect(port, timeout=timeout) as s:
        try:
            data = recv_all(s, limit=4096, timeout=timeout)
        except ConnectionResetError:
            return ""
    return data.decode(errors="replace").strip()


def wait_readable(s: socket.socket, timeout: float) -> bool:
    r, _, _ = select.select([s], [], [], timeout)
    return bool(r)
