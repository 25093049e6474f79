"""`option httpchk` end to end (issue 4), against sluice and haproxy: a
server whose /check.txt turns to 500, to a timeout or to a body without the
expected string leaves the pool within fall x inter plus one inter, comes
back after rise x inter, and no client request fails meanwhile because the
other server stays healthy. Client traffic is HTTP/1.0 through a TCP-mode
proxy."""

import time

import pytest

from checks_helpers import HttpBackend, TrafficLoop, wait_log
from e2eutil import free_port, render

INTER = 0.3
FALL = 2
RISE = 2
TIMEOUT_CHECK = 0.2
SLACK = 0.6  # scheduling on a loaded test machine

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

backend app
    balance roundrobin
    option httpchk GET /check.txt HTTP/1.0
    $expect
    server s1 127.0.0.1:$s1 check inter 300ms fall 2 rise 2
    server s2 127.0.0.1:$s2 check inter 300ms fall 2 rise 2

frontend fe
    bind 127.0.0.1:$fe
    default_backend app
"""

CASES = {
    # mode: (expect line, reason in the DOWN log line)
    "500": ("", r"Layer7 wrong status, code: 500"),
    "hang": ("", r"Layer7 timeout"),
    "nostring": ("http-check expect string OK", r"Layer7 (wrong status|invalid response)"),
}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("mode", list(CASES))
def test_sick_check_leaves_and_returns(proxy, start_proxy, servers, syslog, mode):
    expect, reason = CASES[mode]
    s1 = servers(HttpBackend("s1"))
    s2 = servers(HttpBackend("s2"))
    fe = free_port()
    start_proxy(proxy, render(CFG, fe=fe, s1=s1.port, s2=s2.port, expect=expect,
                              syslog=syslog.port), wait_ports=[fe])
    traffic = TrafficLoop(fe).start()
    try:
        # Both serve before anything breaks.
        deadline = time.monotonic() + 10
        while {n for _, n in traffic.answers} != {"s1", "s2"}:
            assert time.monotonic() < deadline, traffic.answers[-10:]
            time.sleep(0.05)

        mark = len(syslog.snapshot())
        t0 = time.monotonic()
        s1.mode = mode
        bound = FALL * INTER + INTER + (FALL * TIMEOUT_CHECK if mode == "hang" else 0) + SLACK
        t_down = wait_log(syslog, r"Server app/s1 is DOWN, reason: " + reason, mark, 10)
        assert t_down - t0 <= bound, f"DOWN after {t_down - t0:.2f}s (bound {bound:.2f}s)"
        time.sleep(0.3)
        after = [n for t, n in traffic.answers if t > t_down + 0.1]
        assert after and set(after) == {"s2"}, after[-10:]

        mark = len(syslog.snapshot())
        t1 = time.monotonic()
        s1.mode = "ok"
        # A hanging check in flight may still time out once.
        bound = RISE * INTER + INTER + (TIMEOUT_CHECK if mode == "hang" else 0) + SLACK
        t_up = wait_log(syslog, r"Server app/s1 is UP, reason: Layer7 check passed", mark, 10)
        assert t_up - t1 <= bound, f"UP after {t_up - t1:.2f}s (bound {bound:.2f}s)"
        deadline = time.monotonic() + 5
        while traffic.last_seen("s1") is None or traffic.last_seen("s1") < t_up:
            assert time.monotonic() < deadline, "s1 got no traffic after coming back"
            time.sleep(0.05)
    finally:
        traffic.stop()
    assert traffic.failures == [], f"{len(traffic.failures)} client requests failed"
