"""Passive health (issue 4): `observe layer7` + `error-limit` + `on-error
mark-down`. A server whose health check stays OK but which starts answering
500 to real traffic is marked DOWN by what the traffic shows ("Health
analyze"), then comes back through its (still passing) checks. Sluice and
haproxy run side by side on the same servers and must log the same
transitions, word for word. `observe layer4` counts failed connects of real
sessions the same way."""

import re
import socket
import time

import pytest

from checks_helpers import HttpBackend
from e2eutil import UdpSyslog, free_port, render

CFG = """
global
    log 127.0.0.1:$syslog local0 info

defaults
    mode http
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 500ms

backend app
    balance roundrobin
    option httpchk GET /check.txt HTTP/1.0
    default-server check inter 300ms fall 2 rise 2 $observe
    server s1 127.0.0.1:$s1
    server s2 127.0.0.1:$s2

frontend fe
    bind 127.0.0.1:$fe
    default_backend app
"""

STATE = re.compile(r"(?:Backup )?Server \S+ is (?:UP|DOWN)\b.*")


def _lines(log: UdpSyslog) -> list[str]:
    out = []
    for m in log.snapshot():
        r = STATE.search(m)
        if r:
            # Timing-dependent in both: the check's duration, and whether the
            # session that saw the last error still counted as active.
            line = re.sub(r"check duration: \d+ms", "check duration: Nms", r.group(0))
            out.append(re.sub(r"\d+ sessions active", "N sessions active", line))
    return out


def _get(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while not data.endswith(b"\n") or b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        return int(data.split(b" ", 2)[1])


def _start_both(sluice, haproxy, start_proxy, cfg_values):
    logs, fes = {}, {}
    for pbin in (sluice, haproxy):
        log = UdpSyslog().start()
        logs[pbin.kind] = log
        fes[pbin.kind] = fe = free_port()
        start_proxy(pbin, render(CFG, fe=fe, syslog=log.port, **cfg_values), wait_ports=[fe])
    return logs, fes


@pytest.mark.timeout(90)
def test_layer7_errors_mark_down_like_haproxy(sluice, haproxy, start_proxy, servers):
    s1 = servers(HttpBackend("s1"))
    s2 = servers(HttpBackend("s2"))
    logs, fes = _start_both(sluice, haproxy, start_proxy, dict(
        s1=s1.port, s2=s2.port, observe="observe layer7 error-limit 3 on-error mark-down"))
    try:
        time.sleep(1.0)
        for log in logs.values():
            assert _lines(log) == []
        s1.traffic = "500"
        for kind, fe in fes.items():
            # Each 500 from s1 counts; the third in a row marks it down.
            codes = []
            while len(_lines(logs[kind])) < 1:
                assert len(codes) < 40, (kind, codes)
                codes.append(_get(fe))
                if codes.count(500) >= 3:
                    time.sleep(0.05)
            assert codes.count(500) == 3, (kind, codes)
        # DOWN at once, while its checks pass: only s2 serves now.
        for kind, fe in fes.items():
            assert [_get(fe) for _ in range(4)] == [200] * 4, kind
        s1.traffic = "ok"
        # The checks (still passing) bring it back after rise checks.
        deadline = time.monotonic() + 8
        while any(len(_lines(log)) < 2 for log in logs.values()):
            assert time.monotonic() < deadline, {k: _lines(v) for k, v in logs.items()}
            time.sleep(0.05)
        time.sleep(0.6)
        got = {k: _lines(v) for k, v in logs.items()}
        assert got["sluice"] == got["haproxy"], "\n".join(f"{k}: {x}" for k, v in got.items()
                                                         for x in v)
        down, up = got["sluice"]
        assert down.startswith('Server app/s1 is DOWN, reason: Health analyze, info: "Detected 3 '
                               'consecutive errors, last one was: Wrong http response"'), down
        assert up.startswith("Server app/s1 is UP, reason: Layer7 check passed"), up
    finally:
        for log in logs.values():
            log.stop()


@pytest.mark.timeout(90)
def test_without_observe_500s_do_not_mark_down(sluice, start_proxy, servers, syslog):
    s1 = servers(HttpBackend("s1"))
    s2 = servers(HttpBackend("s2"))
    fe = free_port()
    start_proxy(sluice, render(CFG, fe=fe, syslog=syslog.port, s1=s1.port, s2=s2.port,
                               observe=""), wait_ports=[fe])
    s1.traffic = "500"
    codes = [_get(fe) for _ in range(12)]
    assert codes.count(500) >= 4, codes
    time.sleep(0.8)
    assert not any(STATE.search(m) for m in syslog.snapshot()), syslog.snapshot()


@pytest.mark.timeout(90)
def test_layer4_connect_errors_fail_checks_like_haproxy(sluice, haproxy, start_proxy, servers):
    # s1's checks go to a port that answers, its traffic to one that refuses:
    # three failed connects are one failed check (fail-check); fall 2 needs
    # two such rounds. `retries 0` keeps one connect per request.
    s2 = servers(HttpBackend("s2"))
    chk = servers(HttpBackend("chk"))
    dead = free_port()
    logs, fes = {}, {}
    cfg = CFG.replace("    server s1 127.0.0.1:$s1\n",
                      "    retries 0\n    server s1 127.0.0.1:$s1 port $chk\n")
    for pbin in (sluice, haproxy):
        log = UdpSyslog().start()
        logs[pbin.kind] = log
        fes[pbin.kind] = fe = free_port()
        start_proxy(pbin, render(cfg, fe=fe, syslog=log.port, s1=dead, chk=chk.port, s2=s2.port,
                                 observe="observe layer4 error-limit 3 on-error fail-check "
                                         "inter 5s"), wait_ports=[fe])
    try:
        time.sleep(0.5)
        for kind, fe in fes.items():
            codes = []
            while len(_lines(logs[kind])) < 1:
                assert len(codes) < 40, (kind, codes)
                codes.append(_get(fe))
                if codes.count(503) >= 6:
                    time.sleep(0.05)
            assert codes.count(503) == 6, (kind, codes)
        deadline = time.monotonic() + 5
        while any(len(_lines(log)) < 1 for log in logs.values()):
            assert time.monotonic() < deadline, {k: _lines(v) for k, v in logs.items()}
            time.sleep(0.05)
        got = {k: _lines(v)[:1] for k, v in logs.items()}
        assert got["sluice"] == got["haproxy"], got
        assert "L4 unsuccessful connection" in got["sluice"][0], got
    finally:
        for log in logs.values():
            log.stop()
