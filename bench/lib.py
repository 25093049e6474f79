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


def start_proxy(t: Proxy, d: Path, text: str, ports: list[int], *,
                callgrind: bool = False) -> tuple[subprocess.Popen | None, str]:
    """Write t's configuration `text` into d, start t on the proxy CPU (under
    callgrind if asked) and wait until it listens on every port.
    Returns (process, "") or (process or None, why it did not start)."""
    cfg = d / ("nginx.conf" if t.kind == "nginx" else "proxy.cfg")
    cfg.write_text(text)
    t.config = text
    cmd = t.command(cfg, d)
    if callgrind:
        cmd = callgrind_cmd(cmd, d)
    logp = d / "proxy.log"
    p = spawn(cmd, cpu=PROXY_CPU, log_path=logp, cwd=d)
    timeout = 60 if callgrind else 10
    if all(wait_port(port, timeout, p) for port in ports):
        return p, ""
    extra = tail(d / "error.log") if t.kind == "nginx" else ""
    return p, f"{t.name} did not start (exit {p.poll()}): " + (tail(logp) + "\n" + extra).strip()


def select_targets(ts: list[Proxy], wanted: list[str] | None) -> list[Proxy]:
    """--targets: keep the named targets (a plain name also keeps its variants)."""
    if not wanted:
        return ts
    return [t for t in ts if t.name in wanted or t.name.split("-")[0] in wanted]


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


def _traced(pids: list[int]) -> bool:
    for pid in pids:
        for status in Path(f"/proc/{pid}/task").glob("*/status"):
            try:
                tracer = [ln for ln in status.read_text().splitlines() if ln.startswith("TracerPid")]
            except OSError:
                continue
            if tracer and tracer[0].split()[1] == "0":
                return False
    return True


def strace_attach_wait(pids: list[int], outfile: Path) -> subprocess.Popen:
    """strace_attach, returning once every thread of pids is traced (bounded)."""
    tr = strace_attach(pids, outfile)
    deadline = time.monotonic() + 10
    while not _traced(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    return tr


def count_instructions(d: Path, pid: int, warmup: Callable[[], object],
                       work: Callable[[], dict], n: int, unit: str) -> dict:
    """Instructions per unit of work of a target already running under callgrind
    (callgrind_cmd, dumps in d): warm up, zero the counters, do exactly n units,
    dump. `work` returns a dict whose "completed" should be n.
    Keys: ir_total, <unit>s, run, ir_per_<unit>, error (if any)."""
    warmup()
    time.sleep(0.5)
    if not callgrind_control("-z", pid):
        return {"error": "callgrind_control -z failed"}
    res = work()
    time.sleep(0.5)  # let the last teardown reach the target
    if not callgrind_control("-d", pid):
        return {"error": "callgrind_control -d failed", "run": res}
    total = callgrind_dump_total(d, pid)
    out = {"ir_total": total, f"{unit}s": n, "run": res,
           f"ir_per_{unit}": total / n if total else None}
    if res.get("completed") != n:
        out["error"] = f"{res.get('completed')} of {n} {unit}s completed"
    return out


def count_syscalls(pids: list[int], out_file: Path, warmup: Callable[[], object],
                   work: Callable[[], dict], n: int, unit: str) -> dict:
    """System calls per unit of work: warm up, `strace -c -f` on every thread of
    pids, exactly n units, detach. Keys: <unit>s, run, pids, total, errors,
    by_syscall, sys_per_<unit>, per_<unit> (by syscall, most frequent first)."""
    warmup()
    time.sleep(0.3)
    tr = strace_attach_wait(pids, out_file)
    res = work()
    time.sleep(0.5)
    strace_detach(tr)
    if not out_file.exists():
        return {"error": "strace wrote nothing", "run": res}
    parsed = parse_strace_c(out_file)
    out = {f"{unit}s": n, "run": res, "pids": pids, **parsed,
           f"sys_per_{unit}": parsed["total"] / n,
           f"per_{unit}": {k: v / n for k, v in sorted(parsed["by_syscall"].items(),
                                                       key=lambda kv: -kv[1])}}
    if res.get("completed") != n:
        out["error"] = f"{res.get('completed')} of {n} {unit}s completed"
    return out


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


def round_ratios(samples: list[dict], base: list[dict], value: Callable[[dict], float | None]
                 ) -> list[float]:
    """Per-round ratios value(sample) / value(base sample of the same round): drift
    between rounds cancels. Samples carry their "round"."""
    b = {x.get("round"): value(x) for x in base}
    out = []
    for x in samples:
        v, bv = value(x), b.get(x.get("round"))
        if v is not None and bv:
            out.append(v / bv)
    return out


def goal_status(ratio: float | None, op: str, bound: float, detail: str = "",
                digits: int = 2, base: str = "haproxy") -> str:
    """'met (0.42× haproxy; detail)' / 'missed (...)' / 'not measured'."""
    if ratio is None:
        return "not measured"
    ok = ratio <= bound if op == "<=" else ratio >= bound
    return (f"{'met' if ok else 'missed'} ({ratio:.{digits}f}× {base}"
            + (f"; {detail}" if detail else "") + ")")


def md_configs(configs: dict[str, str], only: Iterable[str] | None = None,
               label: str = "configuration") -> str:
    """Each target's configuration in a folded <details> block."""
    keep = set(only) if only is not None else None
    return "".join(f"<details><summary>{n} {label}</summary>\n\n```\n{cfg}```\n</details>\n\n"
                   for n, cfg in configs.items() if keep is None or n in keep)


def top_syscalls(per: dict[str, float], n: int = 6) -> str:
    """'recvfrom 4.00, epoll_wait 3.77, ...': the n most frequent of a per-unit count."""
    return ", ".join(f"{k} {v:.2f}" for k, v in list(per.items())[:n])


def counted_note(target: dict, unit: str, n: int = 6) -> str:
    """A target's top syscalls per unit, and the errors of its callgrind/strace counts."""
    top = top_syscalls(target.get("strace", {}).get(f"per_{unit}", {}), n)
    err = "; ".join(x for x in (target.get("callgrind", {}).get("error"),
                                target.get("strace", {}).get("error")) if x)
    return top + (f" — error: {err[:200]}" if err else "")


def md_skipped(skipped: dict[str, str]) -> str:
    if not skipped:
        return ""
    lines = ["### Skipped\n"]
    lines += [f"- {n}: {why.splitlines()[0][:500] if why else ''}" for n, why in skipped.items()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ HTTP clients and origin

SMALL_PATH = "/64"
SMALL_BODY = "x" * 63 + "\n"

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}
_SIZE = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def _wrk_ms(text: str) -> float | None:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def parse_wrk(out: str) -> dict:
    """req/s, bytes/s, requests, p50/p90/p99 (ms, from --latency), errors of a wrk run."""
    res: dict = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else None
    m = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB|TB)", out)
    res["bytes_per_s"] = float(m.group(1)) * _SIZE[m.group(2)] if m else None
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", out)
    res["requests"] = int(m.group(1)) if m else 0
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        res[f"p{pct}_ms"] = _wrk_ms(m.group(1)) if m else None
    m = re.search(r"^\s*Latency[ \t]+\S+[ \t]+\S+[ \t]+(\S+)", out, re.M)
    res["max_ms"] = _wrk_ms(m.group(1)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    return res


def wrk_cmd(port: int, path: str, seconds: float, conns: int, close: bool = False,
            script: Path | None = None) -> list[str]:
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--latency",
           "--timeout", "10s"]
    if close:
        cmd += ["-H", "Connection: close"]
    if script:
        cmd += ["-s", str(script)]
    return cmd + [f"http://127.0.0.1:{port}{path}"]


def wrk_result(rc: int, stdout: str, stderr: str = "") -> dict:
    res = parse_wrk(stdout)
    if rc != 0 or res["rps"] is None:
        res["error"] = f"wrk rc={rc}: {(stdout + stderr)[-300:]}"
    return res


def wrk(port: int, path: str, seconds: float, conns: int, close: bool = False,
        script: Path | None = None) -> dict:
    """One wrk run (one thread, on the client CPU); parse_wrk's figures."""
    try:
        r = run(wrk_cmd(port, path, seconds, conns, close, script), cpu=CLIENT_CPU,
                timeout=seconds + 60)
    except Exception as e:  # noqa: BLE001
        return {"error": repr(e)}
    return wrk_result(r.returncode, r.stdout, r.stderr)


def read_response(sock: socket.socket, buf: bytearray) -> bool:
    """Read one Content-Length response from sock (buf keeps leftovers); True for a 200."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buf[:end]).lower()
            m = re.search(rb"\r\ncontent-length:\s*(\d+)", head)
            need = end + 4 + (int(m.group(1)) if m else 0)
            if len(buf) >= need:
                del buf[:need]
                return head.startswith(b"http/1.1 200")
        chunk = sock.recv(65536)
        if not chunk:
            return False
        buf += chunk


def sequential(port: int, n: int, path: str = SMALL_PATH) -> dict:
    """n requests one after the other on one keep-alive connection."""
    req = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    ok = 0
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            buf = bytearray()
            for _ in range(n):
                s.sendall(req)
                if not read_response(s, buf):
                    break
                ok += 1
    except OSError as e:
        return {"completed": ok, "error": repr(e)}
    return {"completed": ok, "seconds": time.monotonic() - t0}


def nginx_origin_config(port: int, workdir: Path) -> str:
    """An origin nginx (one worker, no access log, long keep-alive) answering a
    64-byte body at SMALL_PATH and files from workdir/www."""
    body = (
        "http {\n"
        "    access_log off;\n"
        "    keepalive_requests 100000000;\n"
        "    keepalive_timeout 300s;\n"
        f"    server {{\n        listen 127.0.0.1:{port} backlog=4096;\n"
        f"        root {workdir}/www;\n"
        f"        location = {SMALL_PATH} {{ return 200 \"{SMALL_BODY[:-1]}\\n\"; }}\n"
        "    }\n"
        "}\n"
    )
    return nginx_main(body, workdir=workdir, master=True).replace(
        f"pid {workdir}/nginx.pid", f"pid {workdir}/origin.pid").replace(
        f"error_log {workdir}/error.log", f"error_log {workdir}/origin-error.log")


def start_nginx_origin(d: Path, workdir: Path) -> tuple[subprocess.Popen, int]:
    """nginx_origin_config on a fresh port, pinned to the origin CPU; raises if it
    does not start. d holds its files (www/ too); workdir is the run's scratch root."""
    www = d / "www"
    www.mkdir(parents=True, exist_ok=True)
    for x in (workdir, d, www):  # nginx's worker runs as www-data
        x.chmod(0o755)
    port = free_port()
    cfg = d / "origin.conf"
    cfg.write_text(nginx_origin_config(port, d))
    p = spawn([NGINX, "-p", str(d), "-e", str(d / "origin-error.log"), "-c", str(cfg)],
              cpu=ORIGIN_CPU, log_path=d / "origin.log")
    if not wait_port(port, 10, p):
        stop(p)
        raise RuntimeError("origin nginx did not start: " + tail(d / "origin-error.log"))
    return p, port


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
