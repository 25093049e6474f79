"""redis-check, pgsql-check and smtpchk against real servers (issue 4):
a real redis-server, a real PostgreSQL 15 (own datadir and port) and a
Python SMTP stub. Each server is UP while the service answers, DOWN with
the protocol's status when it does not, and back UP when it returns. Run
against sluice and haproxy."""

import pytest

from checks_helpers import Postgres, Redis, SmtpStub, wait_log
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
    timeout check 1s

listen svc
    bind 127.0.0.1:$fe
    $option
    server db 127.0.0.1:$port check inter 200ms fall 2 rise 2
"""


def _start(proxy, start_proxy, syslog, option, port):
    fe = free_port()
    start_proxy(proxy, render(CFG, fe=fe, option=option, port=port, syslog=syslog.port),
                wait_ports=[fe])


@pytest.mark.timeout(90)
@pytest.mark.skipif(not Redis.available(), reason="redis-server not installed")
def test_redis_check(proxy, start_proxy, servers, syslog):
    r = servers(Redis())
    _start(proxy, start_proxy, syslog, "option redis-check", r.port)
    mark = len(syslog.snapshot())
    # Checks pass (no DOWN for a while), then redis stops: DOWN.
    import time
    time.sleep(1.0)
    assert not any("is DOWN" in m for m in syslog.snapshot()), syslog.snapshot()
    r.stop()
    wait_log(syslog, r"Server svc/db is DOWN, reason: Layer4 connection problem", mark, 10)
    r2 = Redis()
    r2.port = r.port
    servers(r2)
    wait_log(syslog, r"Server svc/db is UP, reason: Layer7 check passed", mark, 20)


@pytest.mark.timeout(90)
def test_redis_check_wrong_answer(proxy, start_proxy, servers, syslog):
    """A server that is not Redis (an SMTP stub answering "502") fails
    redis-check at layer 7: both keep waiting for "+PONG" until `timeout
    check` (L7TOUT), as haproxy does (test_checks_redis_compat.py compares
    the exact lines)."""
    s = servers(SmtpStub())
    _start(proxy, start_proxy, syslog, "option redis-check", s.port)
    reason = "timeout"
    wait_log(syslog, r"Server svc/db is DOWN, reason: Layer7 " + reason, 0, 10)


@pytest.fixture(scope="module")
def postgres():
    if not Postgres.available():
        pytest.skip("postgresql 15 not installed")
    pg = Postgres().start()
    yield pg
    pg.stop()


@pytest.mark.timeout(120)
def test_pgsql_check(proxy, start_proxy, syslog, postgres):
    _start(proxy, start_proxy, syslog, "option pgsql-check user postgres", postgres.port)
    import time
    time.sleep(1.5)
    assert not any("is DOWN" in m for m in syslog.snapshot()), syslog.snapshot()


@pytest.mark.timeout(120)
def test_pgsql_check_unknown_role_passes(proxy, start_proxy, syslog, postgres):
    """With trust authentication PostgreSQL answers AuthenticationOk before
    it looks the role up: the check passes, in both proxies."""
    _start(proxy, start_proxy, syslog, "option pgsql-check user no_such_role", postgres.port)
    import time
    time.sleep(1.5)
    assert not any("is DOWN" in m for m in syslog.snapshot()), syslog.snapshot()


@pytest.mark.timeout(90)
def test_pgsql_check_not_postgres(proxy, start_proxy, servers, syslog):
    s = servers(SmtpStub())
    _start(proxy, start_proxy, syslog, "option pgsql-check user postgres", s.port)
    wait_log(syslog, r"Server svc/db is DOWN, reason: Layer7 (invalid response|wrong status|timeout)",
             0, 10)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("option", ["option smtpchk", "option smtpchk EHLO sluice.test"])
def test_smtpchk(proxy, start_proxy, servers, syslog, option):
    good = servers(SmtpStub(220))
    _start(proxy, start_proxy, syslog, option, good.port)
    import time
    time.sleep(1.0)
    assert not any("is DOWN" in m for m in syslog.snapshot()), syslog.snapshot()
    assert good.helos, "the check never said HELO/EHLO"
    if "EHLO" in option:
        assert good.helos[0] == "EHLO sluice.test", good.helos[:3]


@pytest.mark.timeout(90)
def test_smtpchk_bad_banner(proxy, start_proxy, servers, syslog):
    bad = servers(SmtpStub(554))
    _start(proxy, start_proxy, syslog, "option smtpchk", bad.port)
    wait_log(syslog, r"Server svc/db is DOWN, reason: Layer7 wrong status, code: 554", 0, 10)
