"""Logging to syslog over UDP: `option tcplog` lines (RFC 3164 header) and
server state changes, in HAProxy's formats.

Observed with haproxy 2.6 (the oracle), one datagram per line, each ending
with "\\n":
  <134>Nov 23 08:44:21 haproxy[8891]: 127.0.0.1:57008 [23/Nov/2026:08:44:21.396] lg lg/s1 1/0/0 1000 -- 1/1/0/0/0 0/0
  <134>... 127.0.0.1:50590 [...] dd dd/dead 1/-1/1001 0 SC 1/1/0/0/1 0/0
  <134>... 127.0.0.1:36990 [...] lq lq/<NOSRV> 503/-1/502 0 sQ 2/2/1/0/0 0/1
  <129>... Server chk/d1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.
  <128>... proxy chk has no server available!
"""

import re
import socket
import time

import pytest

from e2eutil import EchoServer, HoldServer, connect, free_port, recv_all, render

# RFC 3164: <PRI>Mmm dd hh:mm:ss TAG[PID]: MSG   (day is space-padded)
RFC3164 = r"<(?P<pri>\d{1,3})>(?P<stamp>[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d) (?P<tag>[\w.-]+)\[(?P<pid>\d+)\]: "

# %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
TCPLOG = (RFC3164 +
          r"(?P<ci>\d+\.\d+\.\d+\.\d+):(?P<cp>\d+) "
          r"\[(?P<date>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3})\] "
          r"(?P<ft>\S+) (?P<b>[^\s/]+)/(?P<s>\S+) "
          r"(?P<Tw>-1|\d+)/(?P<Tc>-1|\d+)/(?P<Tt>\+?\d+) "
          r"(?P<B>\+?\d+) (?P<ts>[-A-Za-z]{2}) "
          r"(?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\+?\d+) "
          r"(?P<sq>\d+)/(?P<bq>\d+)\n?$")

CFG = """
global
    log 127.0.0.1:$logport local0

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s

listen lg
    bind 127.0.0.1:$fe
    server s1 127.0.0.1:$be

listen dd
    bind 127.0.0.1:$fe_dead
    retries 1
    timeout connect 1s
    server dead 127.0.0.1:$dead

listen lq
    bind 127.0.0.1:$fe_q
    timeout queue 500ms
    server busy 127.0.0.1:$be_busy maxconn 1

listen chk
    bind 127.0.0.1:$fe_chk
    server up 127.0.0.1:$be check inter 300ms
    server d1 127.0.0.1:$dead check inter 200ms fall 2 rise 2
"""


class Env:
    pass


def _start(pbin, start_proxy, servers, syslog):
    e = Env()
    e.echo = servers(EchoServer(name="echo"))
    e.busy = servers(HoldServer(hold=6.0, name="busy"))
    e.fe, e.fe_dead, e.fe_q, e.fe_chk, e.dead = (free_port() for _ in range(5))
    cfg = render(CFG, logport=syslog.port, fe=e.fe, be=e.echo.port, fe_dead=e.fe_dead,
                 dead=e.dead, fe_q=e.fe_q, be_busy=e.busy.port, fe_chk=e.fe_chk)
    e.proc = start_proxy(pbin, cfg, wait_ports=[e.fe, e.fe_dead, e.fe_q, e.fe_chk])
    return e


def _one_session(fe, size=1000):
    """Client sends `size` bytes, SHUT_WR, echo server answers and closes.
    Returns the client's source port."""
    with connect(fe) as s:
        cport = s.getsockname()[1]
        s.sendall(b"L" * size)
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b"L" * size
    return cport


def _tcplog_for(syslog, cport, timeout=10.0):
    m = syslog.wait_for(r":%d \[" % cport, timeout=timeout)
    line = m.string
    full = re.match(TCPLOG, line)
    assert full, f"not an RFC 3164 tcplog line: {line!r}"
    return full


@pytest.mark.timeout(60)
def test_tcplog_line_format(proxy, start_proxy, servers, syslog):
    e = _start(proxy, start_proxy, servers, syslog)
    cport = _one_session(e.fe, 1000)
    m = _tcplog_for(syslog, cport)
    assert m["pri"] == "134", "local0.info is <134>"
    assert int(m["pid"]) == e.proc.pid
    assert m["ci"] == "127.0.0.1" and int(m["cp"]) == cport
    assert (m["ft"], m["b"], m["s"]) == ("lg", "lg", "s1")
    assert m["Tc"] != "-1" and int(m["Tw"]) >= 0
    assert int(m["Tt"]) >= int(m["Tc"])
    assert m["B"] == "1000", "bytes sent to the client"
    assert m["ts"] == "--", "normal termination"
    assert (m["sc"], m["rc"], m["sq"], m["bq"]) == ("0", "0", "0", "0")
    assert int(m["ac"]) >= 1 and int(m["fc"]) >= 1


@pytest.mark.timeout(60)
def test_tcplog_termination_states(proxy, start_proxy, servers, syslog):
    e = _start(proxy, start_proxy, servers, syslog)

    # Server refuses (nothing listens), retries 1: "SC", no connect time, 1 retry.
    with connect(e.fe_dead, timeout=20) as s:
        cport = s.getsockname()[1]
        s.sendall(b"hello")
        assert recv_all(s, timeout=20) == b""
    m = _tcplog_for(syslog, cport)
    assert (m["ft"], m["b"], m["s"]) == ("dd", "dd", "dead")
    assert (m["Tc"], m["B"], m["ts"], m["rc"]) == ("-1", "0", "SC", "1"), m.string

    # Queue timeout while the only slot is busy: "sQ", no server.
    busy = connect(e.fe_q, timeout=20)
    try:
        busy.sendall(b"busy")
        e.busy.wait_accepted(1)
        with connect(e.fe_q, timeout=20) as s:
            cport = s.getsockname()[1]
            s.sendall(b"queued")
            assert recv_all(s, timeout=10) == b""
        m = _tcplog_for(syslog, cport)
        assert (m["ft"], m["b"], m["s"]) == ("lq", "lq", "<NOSRV>")
        assert (m["Tc"], m["B"], m["ts"]) == ("-1", "0", "sQ"), m.string
        assert m["bq"] == "1" or m["sq"] == "1", f"the session was queued: {m.string!r}"
    finally:
        busy.close()


@pytest.mark.timeout(60)
def test_server_down_state_change_is_logged(proxy, start_proxy, servers, syslog):
    e = _start(proxy, start_proxy, servers, syslog)
    m = syslog.wait_for(r"^<(\d+)>.*Server chk/d1 is DOWN", timeout=20)
    assert m.group(1) == "129", f"server DOWN is local0.alert: {m.string!r}"
    assert re.match(RFC3164, m.string), m.string
    assert "Connection refused" in m.string
    assert re.search(r"\d+ active and \d+ backup servers left", m.string), m.string
    # The live server in the same backend is not reported DOWN.
    time.sleep(1.0)
    assert not any("chk/up is DOWN" in x for x in syslog.snapshot())


FIELDS_COMPARED = ("pri", "ci", "ft", "b", "s", "B", "ts", "ac", "fc", "bc", "sc", "rc", "sq", "bq")


@pytest.mark.timeout(90)
def test_tcplog_fields_match_oracle(sluice, haproxy, start_proxy, servers, syslog):
    """Sluice's tcplog line for a given session is haproxy's, field for field
    (except times, pid, ports and the tag)."""
    lines = {}
    for pbin in (haproxy, sluice):
        syslog.clear()
        e = _start(pbin, start_proxy, servers, syslog)
        got = []
        for size in (1, 1000, 70000):
            cport = _one_session(e.fe, size)
            m = _tcplog_for(syslog, cport)
            got.append({k: m[k] for k in FIELDS_COMPARED})
            time.sleep(0.2)
        lines[pbin.kind] = got
        e.proc.stop()
    assert lines["sluice"] == lines["haproxy"]
