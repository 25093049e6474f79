"""Health checks (issue 4): 2,000 servers checked every second, plain TCP
`check` and `option httpchk`. Sluice and haproxy run at the same time, each
against its own 2,000 loopback listeners of one `checkfarm` process (epoll,
one process, 4,000 ports). Measured over a fixed window after a warm-up:
the CPU each proxy used (/proc/PID/stat utime+stime) and, at the listeners,
how late each check came (time between two checks of a server minus
`inter`; p50 and p99). Both proxies run one thread, pinned to the same CPU;
the farm runs on the other. A third group of listeners is checked at the same
rate by `checkfloor` (same CPU as the proxies): only the system calls of a
check, so its CPU is the floor under any checker using the socket API."""

from __future__ import annotations

import time
from pathlib import Path

import lib

NAME = "checks"
TITLE = "Health checks: 2,000 servers at inter 1s (issue 4)"

# Issue 4 targets: Sluice's CPU <= 0.5x haproxy's, lateness no worse.
CPU_GOAL = 0.5
# DESIGN.md's figures for haproxy on this kind of machine.
DESIGN_HAPROXY = {"tcp": {"cpu_pct": 8.2}, "httpchk": {"cpu_pct": 14.2, "p99_ms": 4.4}}


def add_args(p) -> None:
    g = p.add_argument_group("checks scenario")
    g.add_argument("--checks-servers", type=int, default=2000, help="servers per proxy (2000)")
    g.add_argument("--checks-warmup", type=float, default=10.0,
                   help="seconds before the window: every server checked a few times (10)")
    g.add_argument("--checks-seconds", type=float, default=20.0,
                   help="measurement window in seconds (20)")
    g.add_argument("--checks-runs", type=int, default=2,
                   help="runs of each kind, to show the noise (2)")


def _config(kind: str, mode: str, ports: list[int], fe: int) -> str:
    lines = [lib.haproxy_global(1).rstrip(), "    maxconn 4000", "",
             "defaults", "    mode tcp", "    timeout connect 1s", "    timeout client 10s",
             "    timeout server 10s", "", "listen farm", f"    bind 127.0.0.1:{fe}"]
    if mode == "httpchk":
        lines.append("    option httpchk GET /check HTTP/1.0")
    for i, port in enumerate(ports):
        lines.append(f"    server s{i} 127.0.0.1:{port} check inter 1s")
    return "\n".join(lines) + "\n"


def _user_sys(pid: int) -> tuple[float, float]:
    """utime and stime of a process (all its threads), in seconds."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(f[11]) / lib.CLK_TCK, int(f[12]) / lib.CLK_TCK


def _one_run(ctx, mode: str, n: int, warmup: float, seconds: float) -> dict:
    wd = ctx.workdir / f"checks-{mode}-{time.monotonic_ns()}"
    wd.mkdir(parents=True)
    targets = [("sluice", ctx.sluice), ("haproxy", lib.HAPROXY)]
    targets = [(k, b) for k, b in targets if b]
    ports_file = wd / "ports"
    # The proxies need a moment to start: the farm's clock starts now, so its
    # warm-up covers start-up as well.
    startup = 3.0
    floor = ctx.tool("checkfloor")
    groups = len(targets) + 1
    farm_cmd = [str(ctx.tool("checkfarm")), "--groups", str(groups), "--per-group", str(n),
                "--ports-file", str(ports_file), "--inter-ms", "1000",
                "--warmup", str(warmup + startup), "--seconds", str(seconds)]
    if mode == "httpchk":
        farm_cmd.append("--http")
    out_path = wd / "farm.out"
    farm = lib.spawn(farm_cmd, cpu=lib.CLIENT_CPU, log_path=out_path)
    deadline = time.monotonic() + 20
    while not ports_file.exists():
        if time.monotonic() > deadline or farm.poll() is not None:
            raise RuntimeError("checkfarm did not start: " + out_path.read_text())
        time.sleep(0.05)
    ports = [int(x) for x in ports_file.read_text().split()]
    procs = {}
    for g, (kind, binary) in enumerate(targets):
        cfg = wd / f"{kind}.cfg"
        cfg.write_text(_config(kind, mode, ports[g * n:(g + 1) * n], lib.free_port()))
        p = lib.Proxy(name=kind, kind=kind, binary=binary)
        procs[kind] = lib.spawn(p.command(cfg, wd), cpu=lib.PROXY_CPU, log_path=wd / f"{kind}.log")
    cmd = [floor, "--ports-file", str(ports_file), "--skip", str(len(targets) * n),
           "--count", str(n), "--inter-ms", "1000", "--seconds", str(warmup + seconds + 30)]
    if mode == "httpchk":
        cmd.append("--http")
    procs["floor"] = lib.spawn(cmd, cpu=lib.PROXY_CPU, log_path=wd / "floor.log")
    targets.append(("floor", floor))
    time.sleep(startup + warmup)
    meters = {k: lib.CpuMeter(p.pid) for k, p in procs.items()}
    load = lib.LoadMeter([farm.pid] + [p.pid for p in procs.values()])
    for m in meters.values():
        m.start()
    us0 = {k: _user_sys(p.pid) for k, p in procs.items()}
    load.start()
    t0 = time.monotonic()
    time.sleep(seconds)
    cpu = {k: m.stop() for k, m in meters.items()}
    us1 = {k: _user_sys(p.pid) for k, p in procs.items()}
    elapsed = time.monotonic() - t0
    other = load.stop()
    try:
        farm.wait(timeout=seconds + 30)
    except Exception:  # noqa: BLE001 - reported as missing figures
        pass
    for p in procs.values():
        lib.stop(p)
    lib.stop(farm)
    res = {"mode": mode, "servers": n, "window_s": elapsed, "load": other}
    lines = [ln for ln in out_path.read_text().splitlines() if ln.startswith("{")]
    import json
    groups = json.loads(lines[-1])["groups"] if lines else []
    for g, (kind, _) in enumerate(targets):
        r = {"cpu_pct": 100.0 * cpu[kind] / elapsed,
             "user_pct": 100.0 * (us1[kind][0] - us0[kind][0]) / elapsed,
             "sys_pct": 100.0 * (us1[kind][1] - us0[kind][1]) / elapsed}
        if g < len(groups):
            r.update(groups[g])
        res[kind] = r
    return res


def run(ctx) -> dict:
    a = ctx.args
    runs = []
    for i in range(a.checks_runs):
        for mode in ("tcp", "httpchk"):
            lib.log(f"checks: {mode}, run {i + 1}/{a.checks_runs}, {a.checks_servers} servers "
                    f"per proxy, {a.checks_warmup:.0f}s warm-up + {a.checks_seconds:.0f}s window")
            runs.append(_one_run(ctx, mode, a.checks_servers, a.checks_warmup, a.checks_seconds))
    return {"runs": runs}


def _ms(us) -> str:
    return "—" if us is None else f"{us / 1000:+.1f}"


def render(ctx, data) -> str:
    md = [f"## {TITLE}\n",
          "Sluice and haproxy (one thread each, same CPU) check 2,000 loopback listeners each, "
          "at the same time; `checkfarm` (other CPU) times the checks. CPU: share of one core "
          "over the window. Lateness: interval between two checks of one server minus 1 s "
          "(includes the check's own duration), over every interval in the window. Floor: "
          "`checkfloor` (bench/tools/checkfloor.cpp), on the proxies' CPU, checks a third group "
          "of 2,000 listeners at the same rate with nothing but a check's system calls (the same "
          "calls as Sluice's, 8 ms timer slots like Sluice's): the least CPU a checker built on "
          "the socket API can use here.\n"]
    rows = []
    for r in data["runs"]:
        s, h, f = r.get("sluice", {}), r.get("haproxy", {}), r.get("floor", {})
        hcpu = h.get("cpu_pct")

        def cpu(x: dict) -> str:
            return (f"{x['cpu_pct']:.2f} % ({x.get('user_pct', 0):.2f} + {x.get('sys_pct', 0):.2f})"
                    if x.get("cpu_pct") is not None else "—")

        def ratio(x: dict) -> str:
            return f"{x['cpu_pct'] / hcpu:.2f}x" if hcpu and x.get("cpu_pct") is not None else "—"
        rows.append([r["mode"], cpu(s), cpu(h), ratio(s), cpu(f), ratio(f),
                     f"{_ms(s.get('p50_us'))} / {_ms(s.get('p99_us'))}",
                     f"{_ms(h.get('p50_us'))} / {_ms(h.get('p99_us'))}",
                     f"{s.get('ports_checked', 0)} / {h.get('ports_checked', 0)} / "
                     f"{f.get('ports_checked', 0)}",
                     f"{r['load'].get('other_pct', 0):.0f} %"])
    md.append(lib.md_table(["check", "Sluice CPU (user + sys)", "haproxy CPU (user + sys)",
                            "Sluice/haproxy", "floor CPU (user + sys)", "floor/haproxy",
                            "Sluice lateness p50 / p99 (ms)", "haproxy lateness p50 / p99 (ms)",
                            "servers checked in window (S / H / floor)", "other load"], rows))
    md.append(f"\nTarget: Sluice CPU <= {CPU_GOAL}x haproxy's, lateness no worse. DESIGN.md's "
              "haproxy figures on this kind of machine: 8.2 % (TCP) and 14.2 % (httpchk) of a "
              "core, p99 +4.4 ms.\n")
    md.append(PROFILE_NOTE)
    return "\n".join(md)


# Why the CPU target is missed (perf and strace on this machine, 2026-11-23/24).
PROFILE_NOTE = """### Where the check CPU goes

Both proxies spend most of their check CPU in the kernel doing the same loopback TCP work
per check: on loopback the listener's SYN and RST processing runs in the checker's
context and is charged to it. Sluice's own (user) CPU is at most haproxy's. A plain TCP
check is already the cheapest probe the socket API allows: socket, `TCP_QUICKACK` off (so
the handshake's last ACK is never sent and the listener never creates a child socket),
connect, a second connect to learn the result, `SO_LINGER` 0 and close (an RST): 6 system
calls and no epoll registration (haproxy 8–9); checks due within the same 8 ms share one
wake-up of the loop. A perf cpu-clock profile of Sluice's TCP checks is all kernel:
interrupt-enable points and context switches on top, then `__inet_hash_connect`,
`__tcp_transmit_skb`, `tcp_conn_request`, route lookup. Halving the total would need a
cheaper probe than a TCP handshake (raw-socket SYN probes: CAP_NET_RAW, and a raw socket
sees every TCP packet of the host), not a leaner user space.

The floor column shows it in the same run: `checkfloor`, which does nothing but a check's
system calls at the same rate, uses 0.66–0.75× haproxy's CPU (2026-11-24: TCP 0.72x and
0.75x, httpchk 0.66x and 0.70x), so no checker built on TCP sockets reaches 0.5× here; Sluice
is 5–12 % above the floor for TCP checks and 20–25 % for httpchk (its parsing, matching,
logging and state). An HTTP check is 10 system calls (socket, `TCP_QUICKACK` off, connect
twice, epoll_ctl, send, epoll_wait, recv twice to the end, close): it reads only after a
read edge and its socket waits for reads only, unless a send stalls (it was 13: two reads
that said EAGAIN and a wake-up by a write edge). Tried and left out: reusing one socket for
the next check (`connect(AF_UNSPEC)` resets it; the quick-ACK setting and the pending
error must then be set and cleared again, so 5 calls instead of 6): 10 % less CPU in a
bare loop, within the noise of this benchmark.
"""
