"""`slowstart` (issue 4): a server that comes back UP starts with a small
weight that grows to its full weight over the slowstart time. Not at
start-up. Run against sluice and haproxy."""

import time

import pytest

from checks_helpers import share_of, wait_log
from e2eutil import IdentServer, free_port, ident_of, render

CFG = """
global
    log 127.0.0.1:$syslog local0 info

defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s

listen app
    bind 127.0.0.1:$fe
    balance roundrobin
    server a 127.0.0.1:$a check inter 100ms fall 1 rise 1 weight 100 slowstart 4s
    server b 127.0.0.1:$b check inter 100ms weight 100
"""


@pytest.mark.timeout(90)
def test_weight_ramps_after_recovery(proxy, start_proxy, servers, syslog):
    a = servers(IdentServer(name="a"))
    b = servers(IdentServer(name="b"))
    fe = free_port()
    start_proxy(proxy, render(CFG, fe=fe, a=a.port, b=b.port, syslog=syslog.port),
                wait_ports=[fe])
    time.sleep(0.5)
    got = share_of(fe, 40, ident_of)
    assert abs(got.get("a", 0) - 20) <= 4, got  # full weight at start-up
    a.stop()
    wait_log(syslog, r"Server app/a is DOWN", 0, 10)
    servers(IdentServer(port=a.port, name="a"))
    wait_log(syslog, r"Server app/a is UP", 0, 10)
    early = share_of(fe, 40, ident_of)
    assert early.get("a", 0) <= 8, early  # about 0-25 % of its weight in the first second
    time.sleep(4.5)
    late = share_of(fe, 40, ident_of)
    assert abs(late.get("a", 0) - 20) <= 4, late
