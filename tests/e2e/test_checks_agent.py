"""`agent-check` (issue 4): the application tells the balancer how to treat
its server. Run against sluice and haproxy: traffic and weights follow the
agent's words, with HAProxy's semantics (only "ready" ends a "drain"; a
weight is relative to the configured one; "down"/"fail" take the server
down, "up" brings it back when the health check agrees)."""

import pytest

from checks_helpers import AgentServer, share_of
from e2eutil import IdentServer, free_port, ident_of, render

CFG = """
global
    log 127.0.0.1:$syslog local0 info

defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen app
    bind 127.0.0.1:$fe
    balance roundrobin
    server a 127.0.0.1:$a weight 10 agent-check agent-port $agent agent-inter 100ms
    server b 127.0.0.1:$b weight 10
"""


def _assert_share(fe, n, **expected):
    """Weighted round robin: exact per balancer, but sluice keeps one
    balancer per thread, so allow a little slack."""
    got = share_of(fe, n, ident_of)
    assert set(got) == set(expected), got
    for name, want in expected.items():
        assert abs(got[name] - want) <= max(2, n // 10), got


def _start(proxy, start_proxy, servers, syslog, answer):
    a = servers(IdentServer(name="a"))
    b = servers(IdentServer(name="b"))
    agent = servers(AgentServer(answer))
    fe = free_port()
    start_proxy(proxy, render(CFG, fe=fe, a=a.port, b=b.port, agent=agent.port,
                              syslog=syslog.port), wait_ports=[fe])
    agent.say(answer)
    return fe, agent


@pytest.mark.timeout(90)
def test_drain_weight_ready_up(proxy, start_proxy, servers, syslog):
    fe, agent = _start(proxy, start_proxy, servers, syslog, "up")
    _assert_share(fe, 20, a=10, b=10)

    agent.say("drain")
    assert share_of(fe, 12, ident_of) == {"b": 12}
    syslog.wait_for(r"Server app/a enters drain state\. 1 active and 0 backup servers online")

    # A weight alone does not end the drain (HAProxy: "remains in drain").
    agent.say("50%")
    assert share_of(fe, 12, ident_of) == {"b": 12}

    # "ready" ends it: a now has half of b's weight (5 vs 10).
    agent.say("ready")
    _assert_share(fe, 60, a=20, b=40)

    agent.say("up 100%")
    _assert_share(fe, 40, a=20, b=20)


@pytest.mark.timeout(90)
def test_fail_then_up(proxy, start_proxy, servers, syslog):
    fe, agent = _start(proxy, start_proxy, servers, syslog, "up")
    agent.say("fail #disk full")
    syslog.wait_for(r'Server app/a is DOWN, reason: Layer7 wrong status, code: 0, '
                    r'info: "via agent : fail \(disk full\)", check duration: \d+ms\. '
                    r'1 active and 0 backup servers left\.')
    assert share_of(fe, 10, ident_of) == {"b": 10}
    agent.say("up")  # rise 2 (default)
    syslog.wait_for(r'Server app/a is UP, reason: Layer7 check passed, code: 0, '
                    r'info: "via agent : up", check duration: \d+ms\. '
                    r'2 active and 0 backup servers online\.')
    _assert_share(fe, 20, a=10, b=10)


@pytest.mark.timeout(90)
def test_maint_then_ready(proxy, start_proxy, servers, syslog):
    fe, agent = _start(proxy, start_proxy, servers, syslog, "up")
    agent.say("maint")
    syslog.wait_for(r"Server app/a is going DOWN for maintenance\. 1 active and 0 backup "
                    r"servers left\.")
    assert share_of(fe, 10, ident_of) == {"b": 10}
    agent.say("ready")
    syslog.wait_for(r"Server app/a is UP/READY \(leaving forced maintenance\)\.")
    _assert_share(fe, 20, a=10, b=10)
