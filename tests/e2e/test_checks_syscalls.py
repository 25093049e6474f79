"""The system calls of an HTTP health check (issue 4, and DESIGN.md's rule of
no read that is known to fail): under strace, a check sends its request and
sleeps until the answer's read edge; it never asks the socket for an answer
that cannot have come yet (a recv that says EAGAIN) and is never woken by a
write edge it did not wait for. Both with an answer that comes at once and one
that comes 150 ms later (inter 400 ms), and the checks still pass (the server stays UP)."""

import re
import shutil
import signal
import subprocess

import pytest

from checks_helpers import HttpBackend
from e2eutil import free_port, render, wait_until
from test_stats_socket import cli

STRACE = shutil.which("strace") or "/usr/bin/strace"

CFG = """
global
    nbthread 1
    stats socket $sock level admin

defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s

backend app
    option httpchk GET /check.txt HTTP/1.0
    server s1 127.0.0.1:$s1 check inter 400ms fall 1 rise 1

frontend fe
    bind 127.0.0.1:$fe
    default_backend app
"""


def _can_trace() -> bool:
    try:
        return subprocess.run([STRACE, "-o", "/dev/null", "true"], capture_output=True,
                              timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["ok", "slow"])
def test_http_check_never_reads_ahead_of_the_answer(sluice, tmp_path, servers, mode):
    if not _can_trace():
        pytest.skip("strace cannot trace here (ptrace not permitted)")
    be = servers(HttpBackend("s1"))
    be.mode = mode
    sock = str(tmp_path / "admin.sock")
    cfg = tmp_path / "sluice.cfg"
    cfg.write_text(render(CFG, s1=be.port, fe=free_port(), sock=sock))
    trace = tmp_path / "strace.txt"
    tracer = subprocess.Popen(
        # -ff: one file per thread, so no call is split into unfinished/resumed halves.
        [STRACE, "-ff", "-qq", "-e", "trace=sendto,recvfrom,epoll_wait,close", "-o", str(trace),
         str(sluice.path), "-db", "-f", str(cfg)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: be.checks >= 8, timeout=20, what="eight checks")
        # fall 1: a failed check would have taken the server down.
        state = cli(sock, "show servers state app")
        rows = [r for r in (ln.split() for ln in state.splitlines() if not ln.startswith("#"))
                if len(r) > 5]
        assert rows and rows[0][5] == "2", state  # srv_op_state 2: running
    finally:
        children = subprocess.run(["pgrep", "-P", str(tracer.pid)], capture_output=True,
                                  text=True).stdout.split()
        for pid in children:
            subprocess.run(["kill", "-TERM", pid])
        try:
            tracer.wait(timeout=20)
        except subprocess.TimeoutExpired:
            tracer.send_signal(signal.SIGKILL)
            tracer.wait(timeout=5)
    text = "\n".join(f.read_text() for f in sorted(tmp_path.glob("strace.txt.*")))
    requests = len(re.findall(r'sendto\(\d+, "GET /check\.txt', text))
    assert requests >= 8, text[-4000:]
    # Every answer was read...
    answers = len(re.findall(r'recvfrom\(\d+, "HTTP/1\.0 200', text))
    assert answers >= requests - 1, text[-4000:]
    # ...and no read was made on a check's socket before it could have come
    # (reads of the admin connection are not the checks').
    check_fds: set[str] = set()
    eagain = []
    for ln in text.splitlines():
        m = re.search(r"\b(sendto|recvfrom|close)\((\d+)", ln)
        if not m:
            continue
        call, fd = m.groups()
        if call == "sendto" and "GET /check.txt" in ln:
            check_fds.add(fd)
        elif call == "close":
            check_fds.discard(fd)
        elif call == "recvfrom" and fd in check_fds and "EAGAIN" in ln:
            eagain.append(ln)
    assert eagain == [], "\n".join(eagain[:10])
    # A connected check socket waits for reads only: no wake-up by a bare write edge.
    bare_out = [ln for ln in text.splitlines()
                if "epoll_wait(" in ln and re.search(r"events=EPOLLOUT[,}]", ln)]
    assert bare_out == [], "\n".join(bare_out[:10])
