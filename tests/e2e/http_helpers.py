"""Helpers for the HTTP-mode end-to-end tests: an echo backend that reports
what it received, a small keep-alive client, and the seed-config rewrite."""

import http.client
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from e2eutil import LOOPBACK

# Response headers an echo backend adds when the path asks for them, so the
# tests can exercise cacheability (`cookie ... nocache`).
PATH_HEADERS = {
    "cc-max": ("Cache-Control", "max-age=60"),
    "cc-public": ("Cache-Control", "public"),
    "cc-private": ("Cache-Control", "private"),
    "last-mod": ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"),
    "set-own": ("Set-Cookie", "SERVERID=theirs; path=/"),
}


class _Listener(ThreadingHTTPServer):
    # The default backlog (5) drops SYNs when a proxy opens many server
    # connections at once, and each drop costs the client a 1 s retransmit.
    request_queue_size = 128


class EchoHTTPServer:
    """HTTP/1.1 keep-alive server on loopback. Every response is JSON:
    {"server": name, "method", "path", "headers": [[name, value], ...],
    "body": text}. Counts accepted connections and requests."""

    def __init__(self, name: str, port: int = 0):
        self.name = name
        self.connections = 0
        self.requests = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Head and body leave in one write (flushed after each request):
            # unbuffered, the body waits on Nagle behind the head's ACK.
            wbufsize = 1 << 16

            def setup(self):
                super().setup()
                with outer.lock:
                    outer.connections += 1

            def log_message(self, *args):
                pass

            def _answer(self, with_body=True):
                with outer.lock:
                    outer.requests += 1
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("latin-1") if n else ""
                doc = {"server": outer.name, "method": self.command, "path": self.path,
                       "headers": [[k, v] for k, v in self.headers.items()], "body": body}
                data = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Server", outer.name)
                for key, (h, v) in PATH_HEADERS.items():
                    if key in self.path:
                        self.send_header(h, v)
                self.end_headers()
                if with_body:
                    self.wfile.write(data)

            def do_GET(self):
                self._answer()

            def do_POST(self):
                self._answer()

            def do_HEAD(self):
                self._answer(with_body=False)

        self.httpd = _Listener((LOOPBACK, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       name=f"echo-{self.name}", daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join(timeout=5)


def request(conn: http.client.HTTPConnection, method: str, path: str, headers: dict,
            body: bytes | None = None):
    """One request; returns (status, [(name, value)...] lowercased names, body bytes)."""
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, [(k.lower(), v) for k, v in r.getheaders()], data


def one_shot(port: int, method: str, path: str, headers: dict, body: bytes | None = None,
             timeout: float = 15.0):
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        return request(conn, method, path, headers, body)
    finally:
        conn.close()


def header_values(headers, name: str) -> list[str]:
    return [v for k, v in headers if k == name.lower()]


def seed_for_test(text: str, frontend_port: int, backend_ports: dict[int, int]) -> str:
    """The seed config with loopback ports, without the lines a test cannot
    run (chroot, uid/gid, daemon, nbproc, syslog target), and the 1.x
    timeouts in their modern spelling, which haproxy 2.6 requires."""
    out = []
    for line in text.splitlines():
        word = line.split()[0] if line.split() else ""
        if word in ("chroot", "uid", "gid", "daemon", "nbproc", "ulimit-n"):
            continue
        if word == "log" and "global" not in line:
            continue  # no syslog listener here
        legacy = {"contimeout": "timeout connect", "clitimeout": "timeout client",
                  "srvtimeout": "timeout server"}
        if word == "maxconn" and not line.startswith((" ", "\t")) is False and "20000" in line:
            line = line.replace("20000", "4000")  # the fd limit here is 20000
        if word in legacy:  # haproxy 2.6 refuses the 1.x spellings
            line = line.replace(word, legacy[word], 1)
        if word == "bind":
            line = re.sub(r"bind\s+\S+", f"bind {LOOPBACK}:{frontend_port}", line)
        if word == "server":
            for old, new in backend_ports.items():
                line = line.replace(f":{old} ", f":{new} ").replace(f":{old}\n", f":{new}\n")
                if line.endswith(f":{old}"):
                    line = line[: -len(str(old))] + str(new)
        out.append(line)
    return "\n".join(out) + "\n"


def count_connections(port: int) -> int:
    """Established TCP connections to a local port (from /proc/net/tcp)."""
    n = 0
    hexport = f"{port:04X}"
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for row in f:
                    parts = row.split()
                    if parts[1].endswith(":" + hexport) and parts[3] == "01":
                        n += 1
        except OSError:
            pass
    return n


def closed_port() -> int:
    s = socket.socket()
    s.bind((LOOPBACK, 0))
    port = s.getsockname()[1]
    s.close()
    return port
