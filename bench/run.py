#!/usr/bin/python3
"""`make bench`: Sluice against haproxy, nginx and the direct path.

    /usr/bin/python3 bench/run.py --sluice build/sluice --out bench/RESULTS.md
    /usr/bin/python3 bench/run.py --quick                # one short round, a smoke test
    /usr/bin/python3 bench/run.py --targets direct haproxy --rounds 3

Each scenario lives in bench/scenarios/<name>.py (see tcp.py for the
interface); shared plumbing is bench/lib.py. Raw samples go to bench/out/
(git-ignored) as JSON; the Markdown summary to --out.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lib  # noqa: E402

# Registered scenarios, in run order: bench/scenarios/<name>.py.
SCENARIOS = ["tcp", "http", "checks", "stats"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", help="path of the sluice binary (skipped if missing or not working)")
    ap.add_argument("--tools", help="directory of the bench tools (default: <sluice dir>/bench)")
    ap.add_argument("--out", default=str(lib.BENCH_DIR / "RESULTS.md"), help="Markdown report")
    ap.add_argument("--json-dir", default=str(lib.BENCH_DIR / "out"), help="raw samples (JSON)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of the throughput tests (default 5)")
    ap.add_argument("--quick", action="store_true", help="one short round: a smoke test")
    ap.add_argument("--scenario", action="append", choices=SCENARIOS,
                    help="run only this scenario (repeatable; default: all)")
    ap.add_argument("--targets", nargs="+", metavar="NAME",
                    help="only these targets: direct sluice haproxy nginx (and *-splice)")
    ap.add_argument("--from-json", metavar="FILE",
                    help="do not measure: render --out again from a raw JSON of an earlier run")
    ap.add_argument("--keep-workdir", action="store_true", help="keep configs, logs and dumps")
    mods = {name: importlib.import_module(f"scenarios.{name}") for name in SCENARIOS}
    for m in mods.values():
        m.add_args(ap)
    args = ap.parse_args()
    if args.quick:
        args.rounds = 1
        for k in ("bulk_seconds", "connrate_seconds", "http_seconds"):
            if hasattr(args, k):
                setattr(args, k, min(getattr(args, k), 2.0))
        if hasattr(args, "idle_conns"):
            args.idle_conns = min(args.idle_conns, 500)
        if hasattr(args, "checks_seconds"):
            args.checks_warmup, args.checks_seconds, args.checks_runs = 3.0, 5.0, 1
        if hasattr(args, "idle_budget"):
            args.idle_budget = min(args.idle_budget, 30.0)
        if hasattr(args, "stats_rounds"):
            args.stats_rounds, args.stats_scrapes = 1, min(args.stats_scrapes, 5)
            args.stats_seconds = min(args.stats_seconds, 3.0)

    if args.from_json:
        raw = json.loads(Path(args.from_json).read_text())
        ctx = lib.Context(args=args, tools=Path("."), workdir=Path("."), sluice=None,
                          notes=raw.get("notes", []))
        write_report(args, ctx, mods, raw["machine"], raw["scenarios"], raw["elapsed_s"],
                     Path(args.from_json), raw.get("command", ""))
        return 0

    for tool in ("taskset", "valgrind", "callgrind_control", "strace"):
        if not shutil.which(tool):
            lib.log(f"warning: {tool} not found; related measurements will fail")
    sluice = args.sluice
    notes = []
    if sluice and not os.access(sluice, os.X_OK):
        notes.append(f"Sluice binary {sluice} not found or not executable: not measured.")
        lib.log(notes[-1])
        sluice = None
    tools = lib.find_tools(args.tools, args.sluice, ["tcpbench", "checkfarm", "checkfloor"])
    lib.log(f"tools: {tools}")

    workdir = Path(tempfile.mkdtemp(prefix="sluice-bench-"))
    if sluice:
        # Others may rebuild the binary mid-run: measure one fixed copy throughout.
        snap = workdir / "sluice"
        shutil.copy2(sluice, snap)
        lib.log(f"sluice: {sluice} (copied to {snap}, mtime "
                f"{time.strftime('%H:%M:%S', time.localtime(os.stat(sluice).st_mtime))})")
        sluice = str(snap)
    ctx = lib.Context(args=args, tools=tools, workdir=workdir, sluice=sluice, notes=notes)
    machine = lib.machine_info(sluice)
    if args.sluice and sluice:
        machine["sluice_binary"] = {"path": args.sluice,
                                    "mtime": time.strftime("%Y-%m-%d %H:%M:%S",
                                                           time.localtime(os.stat(sluice).st_mtime))}
    started = time.monotonic()
    results = {}
    try:
        for name in args.scenario or SCENARIOS:
            lib.log(f"scenario {name}")
            results[name] = mods[name].run(ctx)
    finally:
        lib.stop_all()
        if args.keep_workdir:
            lib.log(f"workdir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started

    json_dir = Path(args.json_dir)
    json_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    command = " ".join(sys.argv[1:])
    raw = {"machine": machine, "args": vars(args), "command": command, "elapsed_s": elapsed,
           "notes": ctx.notes, "scenarios": results}
    json_path = json_dir / f"bench-{stamp}.json"
    json_path.write_text(json.dumps(raw, indent=1, default=str))
    write_report(args, ctx, mods, machine, results, elapsed, json_path, command)
    return 0


def write_report(args, ctx, mods, machine, results, elapsed, json_path, command) -> None:
    """Write --out: the header and one section per scenario run. Sections of
    scenarios not run this time (and sections written by other tools, such as
    bench/reload.py's) are kept; the header is rewritten only by a run of every
    scenario."""
    v = machine["versions"]
    md = [
        "# Sluice benchmarks\n",
        "Generated by `bench/run.py` (`make bench`), command: `/usr/bin/python3 bench/run.py "
        + command + "`; sections carry their own run line; do not edit by hand.\n",
        f"- Date: {machine['date']}; run took {elapsed / 60:.1f} min; commit {machine['commit']}",
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory']}, "
        f"Linux {machine['kernel']}; "
        + ", ".join(f"{k}={val}" for k, val in machine["sysctl"].items()),
        f"- Versions: {v['haproxy']}; {v['nginx']}; sluice: {v['sluice']}; {v['valgrind']}; "
        f"{v['strace']}; tools built with {v['compiler']}",
        (f"- Sluice binary: {machine['sluice_binary']['path']} built {machine['sluice_binary']['mtime']}\n"
         if machine.get("sluice_binary") else "")
        + f"- Raw samples: `{os.path.relpath(Path(json_path).resolve(), lib.REPO_DIR)}` (git-ignored)",
        "- Throughput figures drift 10–50 % between rounds on these virtual machines: read the "
        "ratios and the per-connection counts, which are reproducible.",
    ]
    for n in ctx.notes:
        md.append(f"- Note: {n}")
    md.append("")
    header = "\n".join(md) + "\n"
    run_line = (f"Run {machine['date']}, commit {machine['commit']}, `bench/run.py {command}`"
                + "".join(f"; note: {n}" for n in ctx.notes) + ".\n")
    sections = {}
    for name, data in results.items():
        text = mods[name].render(ctx, data).rstrip("\n") + "\n"
        head, _, body = text.partition("\n")
        sections[head] = head + "\n\n" + run_line + body
    out = Path(args.out)
    old = out.read_text() if out.exists() else ""
    full = set(results) == set(SCENARIOS)
    out.write_text(splice_sections(old, header, sections, replace_header=full))
    lib.log(f"wrote {args.out} (raw samples: {json_path}); the run took {elapsed / 60:.1f} min")


def splice_sections(old: str, header: str, sections: dict[str, str], replace_header: bool) -> str:
    """old with each of `sections` ({"## Title": text}) in place of the section of
    the same heading (up to the next "## " line), or appended; the header (what
    comes before the first section) becomes `header` if replace_header or old
    has none."""
    parts = re.split(r"(?m)^(?=## )", old)
    old_header = parts[0] if parts and not parts[0].startswith("## ") else ""
    body = [x for x in parts if x.startswith("## ")]
    keyed = [(x.partition("\n")[0].rstrip(), x) for x in body]
    done = set()
    out = []
    for key, text in keyed:
        if key in sections:
            out.append(sections[key])
            done.add(key)
        else:
            out.append(text)
    out += [text for key, text in sections.items() if key not in done]
    top = header if replace_header or not old_header.strip() else old_header
    return top.rstrip("\n") + "\n\n" + "\n".join(x.rstrip("\n") + "\n" for x in out)


if __name__ == "__main__":
    sys.exit(main())
