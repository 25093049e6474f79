"""`option check-duration-alert MEDIAN_MS [window N]` (Sluice's own, issue
4): one warning when the moving median of a server's check durations goes
above the threshold, one notice when it is back under; none for a single
slow check."""

import time

import pytest

from checks_helpers import HttpBackend, wait_log
from e2eutil import free_port, render

CFG = """
global
    log 127.0.0.1:$syslog local0 info

defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 2s

listen app
    bind 127.0.0.1:$fe
    option httpchk GET /check.txt
    option check-duration-alert 80 window 5
    server s1 127.0.0.1:$s1 check inter 100ms
"""

ABOVE = r"Server app/s1 check duration median \d+ms over the last 5 checks is above the 80ms"
UNDER = r"Server app/s1 check duration median \d+ms over the last 5 checks is back under"


@pytest.mark.timeout(60)
def test_alert_once_and_recover_once(sluice, start_proxy, servers, syslog):
    s1 = servers(HttpBackend("s1"))
    s1.slow_delay = 0.2
    fe = free_port()
    start_proxy(sluice, render(CFG, fe=fe, s1=s1.port, syslog=syslog.port), wait_ports=[fe])
    time.sleep(1.0)
    # One slow check is not a trend.
    s1.mode = "slow"
    n = s1.checks
    deadline = time.monotonic() + 5
    while s1.checks < n + 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    s1.mode = "ok"
    time.sleep(1.0)
    assert not any("check duration median" in m for m in syslog.snapshot()), syslog.snapshot()

    s1.mode = "slow"
    wait_log(syslog, ABOVE, 0, 10)
    time.sleep(1.0)  # still slow: no repeat
    s1.mode = "ok"
    wait_log(syslog, UNDER, 0, 10)
    time.sleep(0.5)
    lines = [m for m in syslog.snapshot() if "check duration median" in m]
    assert len(lines) == 2, lines
    assert lines[0].startswith("<132>"), lines[0]  # local0.warning
    # The server never went down: slowness alone is not a failure.
    assert not any("is DOWN" in m for m in syslog.snapshot())
