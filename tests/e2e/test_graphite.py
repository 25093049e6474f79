"""Graphite push (global `graphite ...`) against a real carbon-cache from
Debian's graphite-carbon: whisper files appear under the Diamond-shaped path
with the values Sluice reports in `show stat`; with carbon stopped Sluice
keeps serving, buffers, drops the oldest lines beyond the bound (counted in
`show info`), and reconnects when carbon is back."""

import os
import shutil
import socket
import subprocess
import time

import pytest

from e2eutil import free_port, render, wait_until
from http_helpers import EchoHTTPServer, one_shot

CARBON = "/usr/bin/carbon-cache"
pytestmark = pytest.mark.skipif(not os.path.exists(CARBON) or not shutil.which("whisper-fetch"),
                                reason="graphite-carbon / python3-whisper not installed")

CARBON_CONF = """[cache]
STORAGE_DIR = $dir/storage
LOCAL_DATA_DIR = $dir/storage/whisper
WHITELISTS_DIR = $dir/lists
CONF_DIR = $dir
LOG_DIR = $dir/log
PID_DIR = $dir
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $line
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $pickle
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $query
WHISPER_AUTOFLUSH = True
"""

CONFIG = """
global
    log stdout format raw local0 info
    stats socket $sock level admin
    graphite 127.0.0.1:$carbon interval 1s metrics scur,stot,status,check_duration,hrsp_2xx buffer $buffer

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    bind 127.0.0.1:$port
    default_backend app

backend app
    server s1 127.0.0.1:$up check inter 300ms
"""


class Carbon:
    def __init__(self, workdir, port):
        self.dir = workdir
        self.port = port
        self.proc = None
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "carbon.conf").write_text(render(
            CARBON_CONF, dir=str(workdir), line=port, pickle=free_port(), query=free_port()))
        (workdir / "storage-schemas.conf").write_text("[all]\npattern = .*\nretentions = 1s:1h\n")

    def start(self):
        self.log = open(self.dir / "carbon.out", "ab")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", CARBON, f"--config={self.dir / 'carbon.conf'}", "--debug", "start"],
            stdout=self.log, stderr=subprocess.STDOUT)

        def listening():
            assert self.proc.poll() is None, (self.dir / "carbon.out").read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                return False
        wait_until(listening, 30, interval=0.2, what="carbon-cache listening")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def wsp(self, path):
        return self.dir / "storage" / "whisper" / (path.replace(".", "/") + ".wsp")

    def values(self, path, since):
        f = self.wsp(path)
        if not f.exists():
            return []
        out = subprocess.run(["whisper-fetch", f"--from={int(since)}", str(f)],
                             capture_output=True, text=True, timeout=10).stdout
        vals = []
        for line in out.splitlines():
            ts, v = line.split()
            if v != "None":
                vals.append((int(ts), float(v)))
        return vals


def cli(path, command):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(path))
    with s:
        s.sendall(command.encode() + b"\n")
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    return out.decode()


def stat(sock, px, sv, field):
    lines = cli(sock, "show stat").splitlines()
    head = lines[0].lstrip("# ").split(",")
    for l in lines[1:]:
        row = dict(zip(head, l.split(",")))
        if row.get("pxname") == px and row.get("svname") == sv:
            return row[field]
    raise KeyError((px, sv))


def info(sock, field):
    for l in cli(sock, "show info").splitlines():
        k, _, v = l.partition(": ")
        if k == field:
            return v
    raise KeyError(field)


@pytest.fixture
def carbon(tmp_path):
    c = Carbon(tmp_path / "carbon", free_port())
    yield c
    c.stop()


def test_graphite_push_to_carbon(sluice, start_proxy, servers, carbon, tmp_path):
    carbon.start()
    t0 = time.time() - 2
    echo = servers(EchoHTTPServer("s1"))
    port = free_port()
    sock = tmp_path / "stats.sock"
    cfg = render(CONFIG, port=port, up=echo.port, carbon=carbon.port, sock=str(sock), buffer=10000)
    start_proxy(sluice, cfg, wait_ports=[port])
    for i in range(7):
        assert one_shot(port, "GET", f"/r{i}", {})[0] == 200
    prefix = "servers." + socket.gethostname().replace(".", "_") + ".haproxy"
    stot = f"{prefix}.app.BACKEND.stot"
    # The newest stot in whisper equals what `show stat` says (7, no more traffic).
    wait_until(lambda: carbon.values(stot, t0) and carbon.values(stot, t0)[-1][1] == 7.0, 20,
               interval=0.5, what="stot 7 in whisper")
    assert stat(sock, "app", "BACKEND", "stot") == "7"
    assert carbon.values(f"{prefix}.app.s1.stot", t0)[-1][1] == 7.0
    assert carbon.values(f"{prefix}.web.FRONTEND.hrsp_2xx", t0)[-1][1] == 7.0
    assert carbon.values(f"{prefix}.app.BACKEND.scur", t0)[-1][1] == 0.0
    wait_until(lambda: carbon.values(f"{prefix}.app.s1.status", t0), 10, interval=0.5,
               what="status in whisper")
    assert carbon.values(f"{prefix}.app.s1.status", t0)[-1][1] == 1.0
    # check_duration in ms, as the CSV column: a value Sluice reported.
    durations = [v for _, v in carbon.values(f"{prefix}.app.s1.check_duration", t0)]
    assert durations and all(0 <= d < 1000 for d in durations)
    assert all(d == int(d) for d in durations)


def test_graphite_carbon_outage(sluice, start_proxy, servers, carbon, tmp_path):
    carbon.start()
    echo = servers(EchoHTTPServer("s1"))
    port = free_port()
    sock = tmp_path / "stats.sock"
    # 3 proxies rows + 1 server row, 5 metrics: under 20 lines a second; 30 kept.
    cfg = render(CONFIG, port=port, up=echo.port, carbon=carbon.port, sock=str(sock), buffer=30)
    p = start_proxy(sluice, cfg, wait_ports=[port])
    prefix = "servers." + socket.gethostname().replace(".", "_") + ".haproxy"
    stot = f"{prefix}.app.BACKEND.stot"
    wait_until(lambda: carbon.values(stot, time.time() - 60), 20, interval=0.5, what="first push")
    assert info(sock, "GraphiteDropped") == "0"

    carbon.stop()
    # Carbon away: traffic still served, lines buffered, the oldest dropped.
    for i in range(10):
        assert one_shot(port, "GET", f"/o{i}", {})[0] == 200
        time.sleep(0.3)
    wait_until(lambda: int(info(sock, "GraphiteDropped")) > 0, 15, interval=0.5,
               what="lines dropped beyond the bound")
    assert "unreachable" in p.stdout()
    dropped = int(info(sock, "GraphiteDropped"))
    assert stat(sock, "app", "BACKEND", "stot") == "10"

    # Carbon back: Sluice reconnects (backoff at most 30 s, but it failed
    # only a few times) and the new total arrives.
    t_back = time.time()
    carbon.start()
    wait_until(lambda: any(v == 10.0 for _, v in carbon.values(stot, t_back - 15)), 40,
               interval=0.5, what="stot 10 in whisper after carbon came back")
    wait_until(lambda: "lines dropped while it was away" in p.stdout(), 10, what="reconnect log")
    assert int(info(sock, "GraphiteDropped")) >= dropped
