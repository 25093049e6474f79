"""Differential test (issue 4): sluice and haproxy check the same servers,
which follow one failing script (HTTP 500, check timeout, connection
refused, each followed by recovery). Both must log the same sequence of
state transitions with the same status reasons and codes (syslog over UDP)."""

import re
import time

import pytest

from checks_helpers import HttpBackend
from e2eutil import UdpSyslog, free_port, render

CFG = """
global
    log 127.0.0.1:$syslog local0 info

defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 200ms

listen app
    bind 127.0.0.1:$fe
    option httpchk GET /check.txt HTTP/1.0
    server s1 127.0.0.1:$s1 check inter 200ms fall 2 rise 2
    server s2 127.0.0.1:$s2 check inter 200ms fall 2 rise 2
"""

TRANSITION = re.compile(r"(?:Backup )?Server (\S+) is (UP|DOWN), reason: ([^,.]+)"
                        r"(?:, code: (\d+))?")

# (what s1 does, transitions each proxy must have logged afterwards)
SCRIPT = [("500", 1), ("ok", 2), ("hang", 3), ("ok", 4), ("refused", 5), ("ok", 6)]


def _transitions(log: UdpSyslog) -> list[tuple]:
    out = []
    for m in log.snapshot():
        r = TRANSITION.search(m)
        if r:
            out.append(r.groups())
    return out


@pytest.mark.timeout(120)
def test_same_transitions_as_haproxy(sluice, haproxy, start_proxy, servers):
    s1 = servers(HttpBackend("s1"))
    s2 = servers(HttpBackend("s2"))
    logs = {}
    try:
        for pbin in (sluice, haproxy):
            log = UdpSyslog().start()
            logs[pbin.kind] = log
            fe = free_port()
            start_proxy(pbin, render(CFG, fe=fe, s1=s1.port, s2=s2.port, syslog=log.port),
                        wait_ports=[fe])
        time.sleep(1.0)  # both settled: every server UP, no transition yet
        for log in logs.values():
            assert _transitions(log) == [], _transitions(log)
        for mode, want in SCRIPT:
            if mode == "refused":
                s1.down()
            else:
                s1.up()
                s1.mode = mode
            deadline = time.monotonic() + 10
            while any(len(_transitions(log)) < want for log in logs.values()):
                assert time.monotonic() < deadline, {k: _transitions(v) for k, v in logs.items()}
                time.sleep(0.05)
            time.sleep(0.5)  # nothing more may follow
        got = {k: _transitions(v) for k, v in logs.items()}
        assert got["sluice"] == got["haproxy"], got
        assert len(got["sluice"]) == len(SCRIPT), got
        assert [t[1] for t in got["sluice"]] == ["DOWN", "UP"] * 3
    finally:
        for log in logs.values():
            log.stop()
