"""`option mysql-check` against a real MariaDB (issue 4).

The MariaDB runs with max_connect_errors=10 and name resolution on, and
every check comes from 127.0.0.2 (`source`): MariaDB never counts errors
from 127.0.0.1, so that is the only setup where blocking can happen at all.
The first test shows that it does happen there."""

import time

import pytest

from checks_helpers import (CHECK_SOURCE, MariaDB, greeting_from, host_blocked, mysql_login)
from e2eutil import free_port, render

pytestmark = pytest.mark.skipif(not MariaDB.available(), reason="mariadb-server not installed")

CFG = """
global
    log stdout format raw local0 info

defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 30s
    timeout server 30s

listen mysql
    bind 127.0.0.1:$fe
    $option
    server db 127.0.0.1:$db check inter 50ms source $source
"""

CHECKS = 600


@pytest.fixture(scope="module")
def mariadb():
    db = MariaDB(max_connect_errors=10).start()
    yield db
    db.stop()


@pytest.fixture
def db(mariadb):
    assert mariadb.query("FLUSH HOSTS") is not None
    return mariadb


@pytest.mark.timeout(120)
def test_greeting_then_hang_up_blocks_the_host(db):
    """The setup can block: 10 handshakes abandoned after the greeting (what
    haproxy's user-less mysql-check does) and the host is refused."""
    assert not host_blocked(db.port)
    for _ in range(12):
        greeting_from(db.port)
        time.sleep(0.02)
    body = greeting_from(db.port)
    assert body[:1] == b"\xff" and b"is blocked because of many connection errors" in body, body
    assert db.query("FLUSH HOSTS") is not None
    assert not host_blocked(db.port)


def _run_checks(db, start_proxy, sluice, option, reach_server=True):
    fe = free_port()
    conns0 = db.status("Connections")
    aborted0 = db.status("Aborted_connects")
    cfg = render(CFG, fe=fe, db=db.port, option=option, source=CHECK_SOURCE)
    p = start_proxy(sluice, cfg, wait_ports=[fe])
    if reach_server:
        deadline = time.monotonic() + 90
        while db.status("Connections") - conns0 < CHECKS and time.monotonic() < deadline:
            time.sleep(0.5)
        done = db.status("Connections") - conns0
        assert done >= CHECKS, f"only {done} checks reached MariaDB"
    else:
        # A bare connect check never reaches MariaDB's accept(): let 600
        # intervals of 50 ms pass.
        time.sleep(CHECKS * 0.05 + 1)
        done = CHECKS
    aborted = db.status("Aborted_connects") - aborted0
    # A client still logs in through Sluice (whose traffic also comes from
    # 127.0.0.2): the host is not blocked.
    assert mysql_login(fe, "app", "apppw") == "app@%"
    assert not host_blocked(db.port)
    return p, done, aborted


@pytest.mark.timeout(150)
def test_mysql_check_with_user_is_a_clean_client(db, start_proxy, sluice):
    p, done, aborted = _run_checks(db, start_proxy, sluice, "option mysql-check user sluice_check")
    # Greeting, login, OK, QUIT: not one aborted connection.
    assert aborted == 0, f"{aborted} aborted connects over {done} checks"
    assert "is DOWN" not in p.stdout()


@pytest.mark.timeout(150)
def test_mysql_check_without_user_never_blocks(db, start_proxy, sluice):
    p, done, aborted = _run_checks(db, start_proxy, sluice, "option mysql-check")
    # A refused anonymous login is an aborted connect for MariaDB (one per
    # check), but not a handshake error: the host is never blocked (checked
    # in _run_checks). Only a check user avoids Aborted_connects entirely.
    assert "is DOWN" not in p.stdout()
    assert aborted >= done // 2


@pytest.mark.timeout(150)
def test_plain_tcp_check_never_blocks(db, start_proxy, sluice):
    p, done, aborted = _run_checks(db, start_proxy, sluice, "", reach_server=False)
    assert "is DOWN" not in p.stdout()
    # Like haproxy's: TCP_QUICKACK off and a reset as soon as connect()
    # completes, so the server's handshake never completes and MariaDB
    # never sees the connection. Only the probe in _run_checks counts.
    assert aborted <= 1, f"{aborted} aborted connects"


@pytest.mark.timeout(60)
def test_check_reports_mysql_errors(db, start_proxy, sluice):
    """A user that does not exist: L7STS with MariaDB's error number 1045."""
    fe = free_port()
    cfg = render(CFG, fe=fe, db=db.port, option="option mysql-check user nobody_here",
                 source=CHECK_SOURCE)
    p = start_proxy(sluice, cfg, wait_ports=[fe])
    deadline = time.monotonic() + 20
    while "is DOWN" not in p.stdout() and time.monotonic() < deadline:
        time.sleep(0.2)
    out = p.stdout()
    assert "Server mysql/db is DOWN, reason: Layer7 wrong status, code: 1045, info: \"Access denied" in out, out
