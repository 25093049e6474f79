"""HTTP mode (issue #3): keep-alive small responses, a new connection per
request, 1 MiB responses, RSS per idle keep-alive client connection,
instructions and syscalls per request — direct / sluice / haproxy / nginx.

Same layout as DESIGN.md "Where the time goes": proxy and origin (nginx)
pinned to one core, wrk on the other; haproxy with `http-reuse always`,
nginx with upstream keepalive, Sluice with the haproxy configuration.
"""

from __future__ import annotations

import resource
import socket
import time
from pathlib import Path

import lib
from lib import Proxy

NAME = "http"
TITLE = "HTTP mode (issue #3)"

# Issue #3 targets, as ratios to haproxy in the same run.
GOALS = [
    ("instructions per request", "ir_per_req", "<=", 0.5),
    ("syscalls per request", "sys_per_req", "<=", 0.6),
    ("CPU µs per request (keep-alive)", "cpu_us_per_req", "<=", 0.6),
    ("keep-alive requests/s", "ka_rps", ">=", 1.3),
    ("new-connection requests/s", "nc_rps", ">=", 1.0),
    ("1 MiB responses MB/s", "mb_per_s", ">=", 1.0),
    ("bytes per idle client connection", "idle_bytes", "<=", 0.5),
]

DESIGN_FIGURES = {
    "direct": {"ka_rps": 115000, "cpu_us_per_req": 8, "ir_per_req": 9700, "sys_per_req": 3,
               "idle_bytes": 524, "mb_per_s": 1950, "nc_rps": 18900},
    "haproxy": {"ka_rps": 35000, "cpu_us_per_req": 17.6, "ir_per_req": 31155, "sys_per_req": 10,
                "idle_bytes": 1138, "mb_per_s": 1050, "nc_rps": 14900},
    "nginx": {"ka_rps": 35300, "cpu_us_per_req": 18.4, "ir_per_req": 21627, "sys_per_req": 7,
              "idle_bytes": 950, "mb_per_s": 663, "nc_rps": 15200},
}

SMALL = lib.SMALL_PATH
BIG = "/1m"


def add_args(p) -> None:
    g = p.add_argument_group("http scenario")
    g.add_argument("--http-seconds", type=float, default=5.0,
                   help="duration of one wrk run (default 5)")
    g.add_argument("--http-conns", type=int, default=50,
                   help="wrk connections for the small-response runs (default 50)")
    g.add_argument("--http-big-conns", type=int, default=4,
                   help="wrk connections for the 1 MiB runs (default 4)")
    g.add_argument("--idle-conns", type=int, default=5000,
                   help="idle keep-alive client connections for the RSS figure (default 5000)")
    g.add_argument("--exact-reqs", type=int, default=2000,
                   help="requests counted under callgrind and strace (default 2000)")
    g.add_argument("--warmup-reqs", type=int, default=200,
                   help="requests before counting starts (default 200)")


# ------------------------------------------------------------------ configurations

def haproxy_config(fe: int, origin: int) -> str:
    return (
        lib.haproxy_global(1)
        + "    maxconn 9000\n"
        "\ndefaults\n"
        "    mode http\n"
        "    timeout connect 5s\n"
        "    timeout client 60s\n"
        "    timeout server 60s\n"
        "    timeout http-keep-alive 60s\n"
        "    http-reuse always\n"
        f"\nfrontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n"
        f"\nbackend be\n    server o1 127.0.0.1:{origin}\n"
    )


def nginx_config(fe: int, origin: int, workdir: Path, master: bool) -> str:
    body = (
        "http {\n"
        "    access_log off;\n"
        "    keepalive_requests 100000000;\n"
        "    keepalive_timeout 60s;\n"
        f"    upstream o {{ server 127.0.0.1:{origin}; keepalive 128; }}\n"
        f"    server {{\n        listen 127.0.0.1:{fe} backlog=4096;\n"
        "        location / {\n"
        "            proxy_pass http://o;\n"
        "            proxy_http_version 1.1;\n"
        "            proxy_set_header Connection \"\";\n"
        "            proxy_max_temp_file_size 0;\n"
        "        }\n"
        "    }\n"
        "}\n"
    )
    return lib.nginx_main(body, workdir=workdir, master=master)


def all_targets(ctx) -> list[Proxy]:
    ts = [Proxy("direct", "direct", note="nginx origin, no proxy")]
    if ctx.sluice:
        ts.append(Proxy("sluice", "sluice", ctx.sluice))
    ts.append(Proxy("haproxy", "haproxy", lib.HAPROXY, note="http-reuse always"))
    ts.append(Proxy("nginx", "nginx", lib.NGINX, note="upstream keepalive"))
    return lib.select_targets(ts, ctx.args.targets)


class Setup:
    """The origin nginx and the target in front of it, on fresh ports."""

    def __init__(self, ctx, target: Proxy, label: str, callgrind: bool = False):
        self.ctx, self.t, self.callgrind = ctx, target, callgrind
        self.dir = ctx.workdir / ("http-" + label)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.origin = self.proxy = None
        self.port = 0
        self.error = ""

    def start(self) -> bool:
        try:
            self.origin, oport = lib.start_nginx_origin(self.dir, self.ctx.workdir)
        except RuntimeError as e:
            self.error = str(e)
            return False
        big = self.dir / "www" / BIG.lstrip("/")
        if not big.exists():
            big.write_bytes(bytes(range(256)) * 4096)
        if self.t.kind == "direct":
            self.port = oport
            return True
        self.port = lib.free_port()
        while self.port == oport:
            self.port = lib.free_port()
        if self.t.kind == "nginx":
            text = nginx_config(self.port, oport, self.dir, master=not self.callgrind)
        else:
            text = haproxy_config(self.port, oport)
        self.proxy, self.error = lib.start_proxy(self.t, self.dir, text, [self.port],
                                                 callgrind=self.callgrind)
        return not self.error

    def measured_pid(self) -> int:
        return (self.origin if self.t.kind == "direct" else self.proxy).pid

    def own_pids(self) -> list[int]:
        return [p.pid for p in (self.proxy, self.origin) if p is not None]

    def stop(self) -> None:
        lib.stop(self.proxy)
        lib.stop(self.origin)


# ------------------------------------------------------------------ clients

def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
                if ln.startswith("VmRSS:"):
                    total += int(ln.split()[1]) * 1024
        except OSError:
            pass
    return total


def measure_idle(ctx, s: Setup, batch: int = 50) -> dict:
    """RSS growth of the target per idle keep-alive client connection.

    Connections are opened in batches of `batch`: each sends one request,
    reads the answer and stays open. Batches keep the peak of in-flight
    requests small, so the figure is the steady cost of an idle connection,
    not the allocator's memory of a burst."""
    n = ctx.args.idle_conns
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1000), hard))
    pids = lib.descendants(s.measured_pid())
    # A few requests first so that lazily built state (pools, first buffers) is in the base.
    lib.sequential(s.port, 10)
    time.sleep(0.3)
    before = rss_bytes(pids)
    req = f"GET {SMALL} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    socks: list[socket.socket] = []
    answered = 0
    try:
        while len(socks) < n:
            group = []
            for _ in range(min(batch, n - len(socks))):
                c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
                c.sendall(req)
                group.append(c)
            for c in group:
                if lib.read_response(c, bytearray()):
                    answered += 1
            socks.extend(group)
        time.sleep(1.0)
        after = rss_bytes(pids)
        alive = 0
        for c in socks:  # still open (not closed by the target)?
            c.setblocking(False)
            try:
                alive += 1 if c.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b"" else 0
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        out = {"conns": n, "answered": answered, "alive": alive, "rss_before": before,
               "rss_after": after, "idle_bytes": (after - before) / n}
        if alive < n or answered < n:
            out["error"] = f"{answered} of {n} answered, {alive} stayed open"
        return out
    except OSError as e:
        return {"error": f"after {len(socks)} connections: {e!r}"}
    finally:
        for c in socks:
            c.close()


def measure_callgrind(ctx, t: Proxy) -> dict:
    s = Setup(ctx, t, f"{t.name}-callgrind", callgrind=True)
    try:
        if not s.start():
            return {"error": s.error}
        n = ctx.args.exact_reqs
        return lib.count_instructions(s.dir, s.measured_pid(),
                                      lambda: lib.sequential(s.port, ctx.args.warmup_reqs),
                                      lambda: lib.sequential(s.port, n), n, "req")
    finally:
        s.stop()


def measure_strace(ctx, t: Proxy) -> dict:
    s = Setup(ctx, t, f"{t.name}-strace")
    try:
        if not s.start():
            return {"error": s.error}
        n = ctx.args.exact_reqs
        return lib.count_syscalls(lib.descendants(s.measured_pid()), s.dir / "strace.txt",
                                  lambda: lib.sequential(s.port, ctx.args.warmup_reqs),
                                  lambda: lib.sequential(s.port, n), n, "req")
    finally:
        s.stop()


# ------------------------------------------------------------------ the scenario

def run(ctx) -> dict:
    a = ctx.args
    targets = all_targets(ctx)
    data = {"targets": {}, "skipped": {}, "configs": {}, "params": {
        "rounds": a.rounds, "seconds": a.http_seconds, "conns": a.http_conns,
        "big_conns": a.http_big_conns, "idle_conns": a.idle_conns, "exact_reqs": a.exact_reqs,
        "warmup_reqs": a.warmup_reqs,
        "cpus": {"proxy": lib.PROXY_CPU, "origin": lib.ORIGIN_CPU, "client": lib.CLIENT_CPU}}}
    if not hasattr(ctx, "idle"):
        ctx.idle = lib.IdleWaiter(getattr(a, "idle_threshold", 15.0), getattr(a, "idle_wait", 15.0),
                                  getattr(a, "idle_budget", 180.0))
    live = []
    for t in targets:
        s = Setup(ctx, t, f"{t.name}-probe")
        try:
            why = s.error if not s.start() else ""
            if not why:
                r = lib.sequential(s.port, 20)
                big = lib.sequential(s.port, 2, BIG)
                if r.get("completed") != 20 or big.get("completed") != 2:
                    why = f"requests through {t.name} failed: {r} {big}"
        finally:
            s.stop()
        if why:
            lib.log(f"skipping {t.name}: {why}")
            data["skipped"][t.name] = why
            continue
        live.append(t)
        data["targets"][t.name] = {"kind": t.kind, "note": t.note, "rounds": []}

    secs = a.http_seconds
    for r in range(a.rounds):
        for t in live:
            lib.log(f"http round {r + 1}/{a.rounds}: {t.name}")
            s = Setup(ctx, t, f"{t.name}-r{r + 1}")
            sample: dict = {"round": r + 1}
            try:
                if not s.start():
                    sample["error"] = s.error
                    continue
                if t.config and t.name not in data["configs"]:
                    data["configs"][t.name] = t.config
                ctx.idle.wait()
                load = lib.LoadMeter(s.own_pids())
                meter = lib.CpuMeter(s.measured_pid())
                load.start()
                meter.start()
                ka = lib.wrk(s.port, SMALL, secs, a.http_conns)
                cpu = meter.stop()
                ka.update(load.stop())
                if ka.get("requests"):
                    ka["cpu_us_per_req"] = cpu * 1e6 / ka["requests"]
                sample["ka"] = ka
                ctx.idle.wait()
                sample["nc"] = lib.wrk(s.port, SMALL, secs, a.http_conns, close=True)
                ctx.idle.wait()
                sample["big"] = lib.wrk(s.port, BIG, secs, a.http_big_conns)
                if r == 0:
                    sample["idle"] = measure_idle(ctx, s)
                lib.log(f"  keep-alive {lib.fmt(ka.get('rps'))} req/s "
                        f"(p99 {lib.fmt(ka.get('p99_ms'), 2)} ms, "
                        f"{lib.fmt(ka.get('cpu_us_per_req'), 1)} µs/req), new-conn "
                        f"{lib.fmt(sample['nc'].get('rps'))} req/s, 1 MiB "
                        f"{lib.fmt((sample['big'].get('bytes_per_s') or 0) / 1e6)} MB/s"
                        + (f", idle {lib.fmt(sample['idle'].get('idle_bytes'))} B/conn"
                           if "idle" in sample else ""))
            except Exception as e:  # noqa: BLE001 - recorded in the results
                sample["error"] = repr(e)
                lib.log(f"  {t.name}: {e!r}")
            finally:
                s.stop()
                data["targets"][t.name]["rounds"].append(sample)

    for t in live:
        if not a.no_callgrind and t.kind != "direct":
            lib.log(f"http callgrind: {t.name}")
            try:
                data["targets"][t.name]["callgrind"] = measure_callgrind(ctx, t)
            except Exception as e:  # noqa: BLE001
                data["targets"][t.name]["callgrind"] = {"error": repr(e)}
            lib.log(f"  {lib.fmt(data['targets'][t.name]['callgrind'].get('ir_per_req'))} "
                    "instructions/request")
        if not a.no_strace:
            lib.log(f"http strace: {t.name}")
            try:
                data["targets"][t.name]["strace"] = measure_strace(ctx, t)
            except Exception as e:  # noqa: BLE001
                data["targets"][t.name]["strace"] = {"error": repr(e)}
            lib.log(f"  {lib.fmt(data['targets'][t.name]['strace'].get('sys_per_req'), 2)} "
                    "syscalls/request")
    return data


# ------------------------------------------------------------------ rendering

def _metric(sample: dict, key: str):
    if key == "ka_rps":
        return sample.get("ka", {}).get("rps")
    if key == "cpu_us_per_req":
        return sample.get("ka", {}).get("cpu_us_per_req")
    if key == "ka_p50":
        return sample.get("ka", {}).get("p50_ms")
    if key == "ka_p99":
        return sample.get("ka", {}).get("p99_ms")
    if key == "nc_rps":
        return sample.get("nc", {}).get("rps")
    if key == "mb_per_s":
        b = sample.get("big", {}).get("bytes_per_s")
        return b / 1e6 if b else None
    if key == "idle_bytes":
        return sample.get("idle", {}).get("idle_bytes")
    if key == "errors":
        return sum((sample.get(k, {}).get("socket_errors") or 0)
                   + (sample.get(k, {}).get("non2xx") or 0) for k in ("ka", "nc", "big"))
    if key == "other_pct":
        return sample.get("ka", {}).get("other_pct")
    return None


def _vals(d, name, key):
    return [_metric(x, key) for x in d["targets"].get(name, {}).get("rounds", [])]


def _ratios(d, name, key, base="haproxy"):
    return lib.round_ratios(d["targets"].get(name, {}).get("rounds", []),
                            d["targets"].get(base, {}).get("rounds", []),
                            lambda x: _metric(x, key))


def _exact(d, name, test, key):
    return d["targets"].get(name, {}).get(test, {}).get(key)


def _figure(d, name, key):
    if key == "ir_per_req":
        return _exact(d, name, "callgrind", key)
    if key == "sys_per_req":
        return _exact(d, name, "strace", key)
    return lib.median([v for v in _vals(d, name, key) if v is not None])


# How the CPU and keep-alive targets are reached, and what bounds the
# new-connection figure (perf and context-switch counts, 2026-11-24, same machine).
PROFILE_NOTE = """### Where the figures come from

- **CPU per request and keep-alive requests/s.** The proxy and the origin share one
  core. Each `send()` of a request to the origin woke it, and on the way back to user
  space the origin preempted the proxy (0.39 involuntary context switches per request;
  haproxy 0.53), then answered that one request. Since 2026-11-24 the request heads of
  one loop turn go to the kernel together, in one `io_uring_enter` (core/send_batch.h;
  MSG_DONTWAIT sends that complete inside the call, so nothing is in flight while the
  loop sleeps): the origin is woken once per batch and answers the batch in one turn of
  its own loop. Same binary, same session, batching off with `SLUICE_IO_URING=0`:
  93,000–95,000 req/s and 7.2 µs/req; on: 106,000–108,000 req/s and 5.4 µs/req
  (haproxy 75,000–77,000, 9.6–9.7). At concurrency 1 the system calls per request stay
  6 (the enter replaces the send).
- **New-connection requests/s.** wrk (one thread, Connection: close) is the limit at
  about 45,000 req/s for every proxy: the origin alone is slower (its answers come
  faster, so wrk handles fewer events per wake-up). A new connection costs Sluice 8
  system calls per request (haproxy 15); the rest is the kernel's connection set-up and
  tear-down on both sides of loopback.
"""


def render(ctx, d: dict) -> str:
    p = d["params"]
    names = list(d["targets"])
    L = [f"## {TITLE}\n", "### Issue #3 targets (Sluice vs haproxy 2.6, same run)\n"]
    for label, key, op, bound in GOALS:
        if key in ("ir_per_req", "sys_per_req", "idle_bytes"):
            s, h = _figure(d, "sluice", key), _figure(d, "haproxy", key)
            ratio = s / h if s is not None and h else None
            detail = f"{lib.fmt(s, 1)} vs {lib.fmt(h, 1)}"
        else:
            rr = _ratios(d, "sluice", key)
            ratio = lib.median(rr)
            detail = (f"medians {lib.fmt(_figure(d, 'sluice', key), 1)} vs "
                      f"{lib.fmt(_figure(d, 'haproxy', key), 1)}"
                      + (f"; per-round ratios {min(rr):.2f}–{max(rr):.2f}" if len(rr) > 1 else ""))
        sym = "≤" if op == "<=" else "≥"
        L.append(f"- {label} {sym} {bound}× haproxy: **{lib.goal_status(ratio, op, bound, detail)}**")
    L.append("")
    L.append(PROFILE_NOTE)
    L.append(f"### Throughput and latency (median of {p['rounds']} round(s), (min–max))\n")
    rows = []
    for n in names:
        def rng(key, digits=0):
            return lib.fmt_range([v for v in _vals(d, n, key) if v is not None], digits)

        def rat(key):
            rr = _ratios(d, n, key)
            return f"{lib.median(rr):.2f}×" if rr and n != "haproxy" else ("1.00×" if n == "haproxy" else "—")
        rows.append([n + (f" ({d['targets'][n]['note']})" if d['targets'][n]['note'] else ""),
                     rng("ka_rps"), rat("ka_rps"), rng("ka_p50", 2), rng("ka_p99", 2),
                     rng("cpu_us_per_req", 1), rng("nc_rps"), rat("nc_rps"),
                     rng("mb_per_s"), rat("mb_per_s"), lib.fmt(_figure(d, n, "idle_bytes")),
                     str(sum(v or 0 for v in _vals(d, n, "errors"))),
                     rng("other_pct")])
    L.append(lib.md_table(["target", "keep-alive req/s", "× haproxy", "p50 ms", "p99 ms",
                           "CPU µs/req", "new-conn req/s", "× haproxy", "1 MiB MB/s",
                           "× haproxy", "bytes per idle conn", "errors + non-2xx",
                           "other load %"], rows))
    L.append("### Per request, counted exactly\n")
    rows = []
    for n in names:
        ir, sy = _exact(d, n, "callgrind", "ir_per_req"), _exact(d, n, "strace", "sys_per_req")
        rows.append([n, lib.fmt(ir), lib.fmt(sy, 2), lib.counted_note(d["targets"][n], "req")])
    L.append(lib.md_table(["target", "instructions/request (callgrind)",
                           "syscalls/request (strace -c -f)", "top syscalls per request"], rows))
    rows = []
    for n, fig in DESIGN_FIGURES.items():
        if n in d["targets"]:
            rows.append([n] + [f"{lib.fmt(_figure(d, n, k), 1)} / {lib.fmt(fig[k], 1)}"
                               for k in ("ka_rps", "cpu_us_per_req", "ir_per_req", "sys_per_req",
                                         "idle_bytes", "mb_per_s", "nc_rps")])
    L.append("Against DESIGN.md's figures (now / DESIGN):\n")
    L.append(lib.md_table(["target", "keep-alive req/s", "CPU µs/req", "instructions/req",
                           "syscalls/req", "bytes/idle conn", "1 MiB MB/s", "new-conn req/s"], rows))
    L.append(f"""### Method

- Origin: nginx (one worker) serving a 64-byte body at `{SMALL}` and a 1 MiB file at `{BIG}`;
  origin and proxy pinned to CPU {p['cpus']['proxy']}, wrk (`-t1`) on CPU {p['cpus']['client']}.
  One thread / worker per proxy; targets alternate within each round, each started afresh.
- keep-alive: `wrk -c{p['conns']}` for {p['seconds']} s on `{SMALL}`; CPU µs/req = proxy
  utime+stime (process tree) / requests. new-conn: the same with `Connection: close`.
  1 MiB: `wrk -c{p['big_conns']}` on `{BIG}`, Transfer/sec in 10^6 bytes.
- bytes per idle connection: {p['idle_conns']} client connections each send one request,
  read the answer and stay open; (VmRSS after − before) / connections, first round only.
- instructions/request: the target under callgrind, {p['warmup_reqs']} warm-up requests,
  counters zeroed, exactly {p['exact_reqs']} sequential keep-alive requests, dump.
  syscalls/request: `strace -c -f` attached to the target over the same request pattern.
- haproxy `http-reuse always`, nginx upstream `keepalive 128` + `proxy_http_version 1.1`;
  Sluice runs the haproxy configuration unchanged.
""")
    L.append(lib.md_configs(d["configs"]))
    L.append(lib.md_skipped(d["skipped"]))
    return "\n".join(L)
