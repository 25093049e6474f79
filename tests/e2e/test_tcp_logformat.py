"""`log-format` for `mode tcp` sessions (and in `defaults`, against
`option tcplog`): the same config and the same sessions give the same log
line in Sluice and in haproxy 2.6, byte for byte once the client port is
masked. Timers are left out of the compared format (they are ours), and
checked apart for their shape.

haproxy 2.6 in TCP mode prints %ST as 0, %rt as 0, %tsc as the two
termination characters and "--", and refuses %r, %HM.., %TR, %Tq, %Tr,
%Ta, %Ti, %tr.., %CC, %CS ("reserved for HTTP mode").
"""

import re
import socket
import time

import pytest

from e2eutil import EchoServer, connect, free_port, recv_all, render, run_cmd

FMT = ("%ci:%cp %ft %b/%s si=%si:%sp fi=%fi:%fp B=%B U=%U ts=%ts tsc=%tsc "
       "%ac/%fc/%bc/%sc/%rc %sq/%bq ST=%ST rt=%rt ID=%ID hr=%hr Th=%Th {%{+Q}b} "
       "%[src] %[dst_port] %[fe_id] %[be_id] x%{+X}fp")

CFG = """
global
    log 127.0.0.1:$logport local0

defaults
    mode tcp
    log global
    log-format "D %ci:%cp %b/%s %B %ts"
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen lf
    bind 127.0.0.1:$fe
    log-format "L $fmt"
    server s1 127.0.0.1:$be

listen dd
    bind 127.0.0.1:$fe_dead
    retries 1
    log-format "L $fmt"
    server dead 127.0.0.1:$dead

listen inherit
    bind 127.0.0.1:$fe_inh
    server s1 127.0.0.1:$be

listen builtin
    bind 127.0.0.1:$fe_tcplog
    option tcplog
    server s1 127.0.0.1:$be

listen timers
    bind 127.0.0.1:$fe_timers
    log-format "T %Tw/%Tc/%Tt/%Td %t %Ts.%ms %H %pid"
    server s1 127.0.0.1:$be
"""


def _session(port, size, timeout=10):
    with connect(port, timeout=timeout) as s:
        cport = s.getsockname()[1]
        s.sendall(b"x" * size)
        s.shutdown(socket.SHUT_WR)
        got = recv_all(s, timeout=timeout)
    return cport, got


def _line_for(syslog, cport, timeout=10.0):
    m = syslog.wait_for(r"\]: .*:%d\b" % cport, timeout=timeout)
    return m.string.split("]: ", 1)[1].rstrip("\n")


def _run(pbin, start_proxy, ports, syslog, echo_port):
    cfg = render(CFG, logport=syslog.port, fmt=FMT, be=echo_port, **ports)
    proc = start_proxy(pbin, cfg, wait_ports=[ports["fe"], ports["fe_dead"], ports["fe_inh"],
                                              ports["fe_tcplog"], ports["fe_timers"]])
    out = {}
    for name, port, size in (("lf-1", "fe", 1), ("lf-70000", "fe", 70000),
                             ("dead", "fe_dead", 5), ("inherit", "fe_inh", 10)):
        cport, got = _session(ports[port], size)
        if name != "dead":
            assert got == b"x" * size
        out[name] = _line_for(syslog, cport).replace(":%d " % cport, ":CP ")
        time.sleep(0.1)
    cport, _ = _session(ports["fe_tcplog"], 3)
    out["builtin"] = _line_for(syslog, cport)
    cport, _ = _session(ports["fe_timers"], 3)
    time.sleep(0.3)
    out["timers"] = [x for x in syslog.snapshot() if "]: T " in x][-1]
    proc.stop()
    return out, proc.pid


@pytest.mark.timeout(90)
def test_tcp_log_format_lines_match_oracle(sluice, haproxy, start_proxy, servers, syslog):
    echo = servers(EchoServer(name="echo"))
    ports = dict(fe=free_port(), fe_dead=free_port(), dead=free_port(), fe_inh=free_port(),
                 fe_tcplog=free_port(), fe_timers=free_port())
    got = {}
    for pbin in (haproxy, sluice):
        syslog.clear()
        got[pbin.kind] = _run(pbin, start_proxy, ports, syslog, echo.port)
    (hap, hpid), (slu, spid) = got["haproxy"], got["sluice"]
    for key in ("lf-1", "lf-70000", "dead", "inherit"):
        assert slu[key] == hap[key], key
    assert slu["lf-1"].startswith("L 127.0.0.1:CP lf lf/s1 si=127.0.0.1:%d " % echo.port)
    assert " ST=0 rt=0 ID=- hr= Th=0 " in slu["lf-1"], slu["lf-1"]
    assert slu["inherit"] == "D 127.0.0.1:CP inherit/s1 10 --"
    # `option tcplog` after the defaults' log-format: the built-in line.
    assert re.match(r"127\.0\.0\.1:\d+ \[\S+\] builtin builtin/s1 \d+/\d+/\d+ 3 -- ",
                    slu["builtin"]), slu["builtin"]
    assert re.match(r"127\.0\.0\.1:\d+ \[\S+\] builtin builtin/s1 \d+/\d+/\d+ 3 -- ",
                    hap["builtin"]), hap["builtin"]
    # Timers and dates: the same shape, our own values.
    shape = r"T (\d+)/(\d+)/(\d+)/(\d+) \d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3} \d+\.\d{3} (\S+) (\d+)$"
    ms, mh = re.search(shape, slu["timers"]), re.search(shape, hap["timers"])
    assert ms and mh, (slu["timers"], hap["timers"])
    assert ms.group(5) == mh.group(5) == socket.gethostname()
    assert int(ms.group(6)) == spid


@pytest.mark.timeout(30)
def test_tcp_log_format_refuses_http_variables(sluice, tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text("defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n"
                   "  timeout connect 1s\n"
                   "listen t\n  bind 127.0.0.1:%d\n  log-format \"%%ci %%r\"\n"
                   "  server s 127.0.0.1:%d\n" % (free_port(), free_port()))
    r = run_cmd([sluice.path, "-c", "-f", str(cfg)])
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "t.cfg:8: [log-format] log-format variable '%r' needs 'mode http'" in out, out
