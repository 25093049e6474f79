"""Health checks and backup servers: a DOWN active server sends traffic to
the backup; when it comes back (after `rise` checks) traffic returns to it.
`option allbackups` spreads traffic over every backup."""

import time

import pytest

from e2eutil import IdentServer, free_port, ident_of, render

BACKUP = """
defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s

listen fo
    bind 127.0.0.1:$fe
    balance roundrobin
    $options
    server active 127.0.0.1:$active check inter 200ms fall 2 rise 2
    $backups
"""


def _idents(fe, n):
    return [ident_of(fe, timeout=15) for _ in range(n)]


def _wait_for_only(fe, name, timeout, settle=8):
    """Poll (bounded) until `settle` consecutive connections all reach
    `name`. Returns the number of attempts it took."""
    deadline = time.monotonic() + timeout
    attempts = 0
    streak = 0
    seen = []
    while time.monotonic() < deadline and attempts < 500:
        attempts += 1
        got = ident_of(fe, timeout=15)
        seen.append(got)
        streak = streak + 1 if got == name else 0
        if streak >= settle:
            return attempts
        time.sleep(0.05)
    raise AssertionError(f"connections did not settle on {name!r} within {timeout}s; "
                         f"last answers: {seen[-20:]}")


@pytest.mark.timeout(90)
def test_backup_takes_over_then_active_returns(proxy, start_proxy, servers):
    active_port = free_port()  # nothing listens here yet
    backup = servers(IdentServer(name="backup"))
    fe = free_port()
    cfg = render(BACKUP, fe=fe, active=active_port, options="",
                 backups=f"server bk 127.0.0.1:{backup.port} check inter 200ms fall 2 rise 2 backup")
    start_proxy(proxy, cfg, wait_ports=[fe])

    # The active server is refused by its checks: after `fall 2` it is DOWN
    # and every connection goes to the backup.
    _wait_for_only(fe, "backup", timeout=20)
    assert set(_idents(fe, 10)) == {"backup"}

    # Bring the active server up on its port: after `rise 2` checks, new
    # connections go to it and no longer to the backup.
    servers(IdentServer(port=active_port, name="active"))
    _wait_for_only(fe, "active", timeout=20)
    assert set(_idents(fe, 10)) == {"active"}


@pytest.mark.timeout(90)
def test_allbackups_uses_every_backup(proxy, start_proxy, servers):
    active_port = free_port()  # never up
    b1 = servers(IdentServer(name="bk1"))
    b2 = servers(IdentServer(name="bk2"))
    fe = free_port()
    backups = (f"server bk1 127.0.0.1:{b1.port} check inter 200ms backup\n"
               f"    server bk2 127.0.0.1:{b2.port} check inter 200ms backup")
    cfg = render(BACKUP, fe=fe, active=active_port, options="option allbackups",
                 backups=backups)
    start_proxy(proxy, cfg, wait_ports=[fe])

    # Wait until the active server is DOWN (every answer comes from a backup).
    deadline = time.monotonic() + 20
    while True:
        got = _idents(fe, 6)
        if all(g in ("bk1", "bk2") for g in got):
            break
        assert time.monotonic() < deadline, f"active server never marked DOWN: {got}"
        time.sleep(0.1)
    got = _idents(fe, 20)
    assert set(got) == {"bk1", "bk2"}, f"allbackups should use both backups: {got}"
    # roundrobin over the two backups: neither is starved.
    assert got.count("bk1") >= 5 and got.count("bk2") >= 5, got


@pytest.mark.timeout(90)
def test_without_allbackups_only_first_backup(proxy, start_proxy, servers):
    """Control for the test above (HAProxy semantics): without `option
    allbackups`, only the first backup receives traffic."""
    active_port = free_port()
    b1 = servers(IdentServer(name="bk1"))
    b2 = servers(IdentServer(name="bk2"))
    fe = free_port()
    backups = (f"server bk1 127.0.0.1:{b1.port} check inter 200ms backup\n"
               f"    server bk2 127.0.0.1:{b2.port} check inter 200ms backup")
    cfg = render(BACKUP, fe=fe, active=active_port, options="", backups=backups)
    start_proxy(proxy, cfg, wait_ports=[fe])
    _wait_for_only(fe, "bk1", timeout=20)
    got = _idents(fe, 12)
    assert set(got) == {"bk1"}, got
