"""Shared plumbing for bench/run.py scenarios (stdlib only).

Processes, ports, CPU accounting, callgrind and strace helpers, the proxies'
command lines and configuration skeletons, statistics and Markdown tables.
A scenario module (bench/scenarios/*.py) builds on these; see
bench/scenarios/tcp.py for the pattern an HTTP scenario should follow.
"""

from __future__ import annotations

import atexit
import glob
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent

HAPROXY = "/usr/sbin/haproxy"
NGINX = "/usr/sbin/nginx"
NGINX_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"

# CPU layout (DESIGN.md "Where the time goes"): the proxy and the origin
# server share one pinned core, the load generator runs on the other.
PROXY_CPU = 0
ORIGIN_CPU = 0
CLIENT_CPU = 1

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ processes

_live: list[subprocess.Popen] = []


def spawn(cmd: list[str], *, cpu: int | None = None, log_path: Path | None = None,
          cwd: Path | None = None) -> subprocess.Popen:
    """Start cmd (pinned to cpu), in its own session so we can stop it by id."""
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                         cwd=cwd, start_new_session=True)
    if log_path:
        out.close()
    _live.append(p)
    return p


def stop(p: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Stop a process we started (and its process group, which we created)."""
    if p is None:
        return
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(5)
    else:
        # The leader is gone; children (e.g. an nginx worker) may remain in its group.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if p in _live:
        _live.remove(p)


def stop_all() -> None:
    for p in list(_live):
        stop(p, timeout=5)


atexit.register(stop_all)


def _on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)


def run(cmd: list[str], *, cpu: int | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def run_json(cmd: list[str], *, cpu: int | None = None, timeout: float = 120) -> dict:
    """Run a tool that prints one JSON line; returns it (with 'rc' and 'stderr')."""
    try:
        r = run(cmd, cpu=cpu, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"rc": -1, "stderr": "timeout", "error": "timeout"}
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    res = json.loads(lines[-1]) if lines else {"error": "no output"}
    res["rc"] = r.returncode
    if r.stderr.strip():
        res["stderr"] = r.stderr.strip()[-500:]
    return res


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    """True once 127.0.0.1:port accepts a connection (bounded by timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with socket.socket() as s:
            s.settimeout(0.5)
            try:
                s.connect(("127.0.0.1", port))
                return True
            except OSError:
                pass
        time.sleep(0.05)
    return False


def wait_ready_line(path: Path, timeout: float, proc: subprocess.Popen) -> int | None:
    """tcpbench servers print 'ready PORT' once listening."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for ln in path.read_text(errors="replace").splitlines():
                if ln.startswith("ready "):
                    return int(ln.split()[1])
        if proc.poll() is not None:
            return None
        time.sleep(0.02)
    return None


def tail(path: Path, n: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# ------------------------------------------------------------------ CPU time

def descendants(pid: int) -> list[int]:
    """pid and every descendant (via /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo and len(out) < 1000:
        p = todo.pop()
        out.append(p)
        for ch in glob.glob(f"/proc/{p}/task/*/children"):
            try:
                todo.extend(int(x) for x in Path(ch).read_text().split())
            except OSError:
                pass
    return out


def cpu_seconds(pids: Iterable[int]) -> float:
    """utime+stime of these processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLK_TCK


def _proc_stat_cpu() -> list[int]:
    # cpu  user nice system idle iowait irq softirq steal guest guest_nice
    return [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]


class LoadMeter:
    """How busy the machine was with other work during a sample.

    other_pct: user+nice+system CPU of the whole machine minus that of our own
    processes (the target, the origins, the client, in % of one core); steal_pct:
    time the hypervisor gave to someone else. Either one high means the sample
    was taken on a shared or noisy machine.
    """

    def __init__(self, own_pids: Iterable[int]):
        self.own = [p for pid in own_pids for p in descendants(pid)]

    def start(self) -> None:
        import resource
        self.t0 = time.monotonic()
        self.s0 = _proc_stat_cpu()
        self.o0 = cpu_seconds(self.own)
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.c0 = ru.ru_utime + ru.ru_stime

    def stop(self) -> dict:
        import resource
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        client = ru.ru_utime + ru.ru_stime - self.c0
        own = cpu_seconds(self.own) - self.o0 + client
        s1 = _proc_stat_cpu()
        d = [b - a for a, b in zip(self.s0, s1)]
        wall = time.monotonic() - self.t0
        busy = (d[0] + d[1] + d[2]) / CLK_TCK
        steal = (d[7] if len(d) > 7 else 0) / CLK_TCK
        return {"other_pct": max(0.0, busy - own) / wall * 100 if wall > 0 else None,
                "steal_pct": steal / wall * 100 if wall > 0 else None}


def machine_busy_pct(window: float = 0.5) -> float:
    """CPU use of the whole machine over a short window, in % of one core."""
    a = _proc_stat_cpu()
    time.sleep(window)
    b = _proc_stat_cpu()
    d = [y - x for x, y in zip(a, b)]
    return (d[0] + d[1] + d[2] + (d[5] + d[6] if len(d) > 6 else 0)) / CLK_TCK / window * 100


class IdleWaiter:
    """Before a sample, wait (bounded) until nothing else keeps the machine busy.

    Other sessions may run builds or test suites on the same machine; a sample
    taken meanwhile is worth little. Waits at most per_sample seconds each time
    and budget seconds over the whole run, then goes ahead (the sample's
    other_pct tells it was disturbed).
    """

    def __init__(self, threshold_pct: float, per_sample: float, budget: float):
        self.threshold, self.per_sample, self.budget = threshold_pct, per_sample, budget
        self.waited = 0.0

    def wait(self) -> float:
        """Returns the last busy reading (% of one core)."""
        t0 = time.monotonic()
        busy = machine_busy_pct(0.3)
        while (busy > self.threshold and time.monotonic() - t0 < self.per_sample
               and self.waited + (time.monotonic() - t0) < self.budget):
            busy = machine_busy_pct(0.5)
        self.waited += time.monotonic() - t0
        return busy


class CpuMeter:
    """CPU time a process tree spends between start() and stop()."""

    def __init__(self, pid: int):
        self.pids = descendants(pid)
        self.t0 = 0.0

    def start(self) -> None:
        self.t0 = cpu_seconds(self.pids)

    def stop(self) -> float:
        return cpu_seconds(self.pids) - self.t0


# ------------------------------------------------------------------ proxies

@dataclass
class Proxy:
    """One process under test: how to start it (normally or under callgrind)."""
    name: str                      # e.g. "haproxy", "haproxy-splice"
    kind: str                      # direct | sluice | haproxy | nginx
    binary: str | None = None
    config: str = ""               # text of the config file
    config_cg: str = ""            # variant for callgrind (nginx: master_process off)
    note: str = ""
    measure: tuple[str, ...] = ()  # which measurements this target takes part in

    def command(self, cfg: Path, workdir: Path) -> list[str]:
        if self.kind in ("haproxy", "sluice"):
            return [self.binary, "-db", "-f", str(cfg)]
        if self.kind == "nginx":
            return [self.binary, "-p", str(workdir), "-e", str(workdir / "error.log"),
                    "-c", str(cfg)]
        raise ValueError(self.kind)


def haproxy_global(nbthread: int = 1) -> str:
    return f"global\n    nbthread {nbthread}\n"


def nginx_main(body: str, *, workdir: Path, master: bool = True) -> str:
    """Main context for nginx: one worker, foreground, logs/pid in workdir."""
    return (
        f"load_module {NGINX_STREAM_MODULE};\n"
        "daemon off;\n"
        f"master_process {'on' if master else 'off'};\n"
        "worker_processes 1;\n"
        "worker_rlimit_nofile 20000;\n"
        f"pid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/error.log warn;\n"
        "events { worker_connections 10000; }\n"
        + body
    )


# ------------------------------------------------------------------ callgrind / strace

def callgrind_cmd(cmd: list[str], outdir: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={outdir}/cg.out.%p"] + cmd


def callgrind_control(flag: str, pid: int) -> bool:
    try:
        r = run(["callgrind_control", flag, str(pid)], timeout=60)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0 and "OK" in r.stdout


def callgrind_dump_total(outdir: Path, pid: int) -> int | None:
    """Ir total of the newest dump (cg.out.PID.N) written by callgrind_control -d."""
    dumps = sorted(glob.glob(f"{outdir}/cg.out.{pid}.*"),
                   key=lambda p: int(p.rsplit(".", 1)[1]))
    if not dumps:
        return None
    text = Path(dumps[-1]).read_text(errors="replace")
    m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
    return int(m.group(1)) if m else None


def strace_attach(pids: list[int], outfile: Path) -> subprocess.Popen:
    cmd = ["strace", "-c", "-f", "-o", str(outfile)]
    for p in pids:
        cmd += ["-p", str(p)]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    _live.append(p)
    return p


def strace_detach(p: subprocess.Popen) -> None:
    """SIGINT makes strace detach and write its -c summary."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)
    if p in _live:
        _live.remove(p)


def parse_strace_c(path: Path) -> dict:
    """{'total': calls, 'errors': n, 'by_syscall': {name: calls}} from strace -c output."""
    by, total, errors = {}, None, 0
    for ln in path.read_text(errors="replace").splitlines():
        parts = ln.split()
        if not parts or parts[0].startswith(("%", "-")):
            continue
        # % time, seconds, usecs/call, calls, [errors], syscall|total
        name = parts[-1]
        nums = parts[:-1]
        try:
            calls = int(nums[3])
            errs = int(nums[4]) if len(nums) > 4 else 0
        except (IndexError, ValueError):
            continue
        if name == "total":
            total, errors = calls, errs
        else:
            by[name] = calls
    if total is None:
        total = sum(by.values())
    return {"total": total, "errors": errors, "by_syscall": by}


# ------------------------------------------------------------------ statistics / output

def median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "—"
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def fmt_range(xs: list[float], digits: int = 0) -> str:
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    if len(xs) == 1:
        return fmt(xs[0], digits)
    return f"{fmt(median(xs), digits)} ({fmt(min(xs), digits)}–{fmt(max(xs), digits)})"


def md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ machine / tools

def first_line(cmd: list[str]) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (r.stdout or r.stderr).strip()
    return text.splitlines()[0] if text else "?"


def machine_info(sluice: str | None) -> dict:
    cpu = "?"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    commit = first_line(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"])
    sysctl = {}
    for k in ("net/ipv4/tcp_tw_reuse", "net/ipv4/ip_local_port_range", "net/core/somaxconn"):
        try:
            sysctl[k.replace("/", ".")] = " ".join(Path(f"/proc/sys/{k}").read_text().split())
        except OSError:
            pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "cpu": cpu,
        "memory": mem,
        "commit": commit,
        "sysctl": sysctl,
        "versions": {
            "haproxy": first_line([HAPROXY, "-v"]),
            "nginx": first_line([NGINX, "-v"]),
            "sluice": first_line([sluice, "-v"]) if sluice and os.access(sluice, os.X_OK) else "not built",
            "valgrind": first_line(["valgrind", "--version"]),
            "strace": first_line(["strace", "-V"]),
            "compiler": first_line(["g++", "--version"]),
        },
    }


def find_tools(tools_dir: str | None, sluice: str | None, names: list[str]) -> Path:
    """Directory holding the bench tools; builds them (bench/ standalone) if missing."""
    candidates = []
    if tools_dir:
        candidates.append(Path(tools_dir))
    else:
        if sluice:
            candidates.append(Path(sluice).resolve().parent / "bench")
        candidates.append(REPO_DIR / "build" / "bench")
        candidates.append(REPO_DIR / "build-bench" / "bench")
    for d in candidates:
        if all(os.access(d / n, os.X_OK) for n in names):
            return d
    if tools_dir:
        raise SystemExit(f"bench tools {names} not found in {tools_dir}")
    # Fallback: configure bench/ on its own (it does not need src/ to compile).
    build = REPO_DIR / "build-bench"
    log(f"bench tools not found; building them in {build}")
    r1 = run(["cmake", "-S", str(BENCH_DIR), "-B", str(build), "-G", "Ninja"], timeout=300)
    r2 = run(["cmake", "--build", str(build), "--target"] + names, timeout=600)
    if r1.returncode or r2.returncode:
        raise SystemExit("could not build bench tools:\n" + r1.stdout + r1.stderr + r2.stdout + r2.stderr)
    return build / "bench"


@dataclass
class Context:
    """What every scenario gets from run.py."""
    args: object
    tools: Path
    workdir: Path          # scratch directory for configs, logs, dumps
    sluice: str | None
    notes: list[str] = field(default_factory=list)

    def tool(self, name: str) -> str:
        return str(self.tools / name)


Scenario = Callable[[Context], dict]
