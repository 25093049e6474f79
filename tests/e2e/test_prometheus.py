"""`http-request use-service prometheus-exporter`: the page is valid text
exposition format (checked by a strict parser written here), its metric
names and types are a subset of haproxy 2.6's for the same configuration,
the metrics the issue names are there, values move with traffic, a DOWN
server shows it, and 1,000 servers are scraped well under 50 ms."""

import re
import statistics
import time

import pytest

from e2eutil import free_port, render, run_cmd, wait_until
from http_helpers import EchoHTTPServer, one_shot

CONFIG = """
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    bind 127.0.0.1:$port
    http-request use-service prometheus-exporter if { path /metrics }
    default_backend app

backend app
    balance roundrobin
    server s1 127.0.0.1:$up check inter 200ms
    server s2 127.0.0.1:$closed check inter 200ms
"""

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
VALUE = re.compile(r"^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$")


def parse_exposition(text: str, counter_suffix: bool = True):
    """Strict text-format parser: returns {name: {"type", "help", "samples":
    {labels-tuple: float}}}; raises AssertionError on any violation.
    `counter_suffix` (Sluice's page): counters end in _total and are never
    NaN (haproxy's own page has haproxy_process_failed_resolutions, and NaN
    counters for servers in maintenance)."""
    if text == "":
        return {}  # nothing selected (scope=)
    assert text.endswith("\n"), "page must end with a newline"
    families: dict = {}
    seen_series = set()
    current = None  # family whose samples may follow
    for n, line in enumerate(text.split("\n")[:-1], 1):
        assert line == line.strip() and line, f"line {n}: blank or padded line {line!r}"
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (\S+) (.*)$", line)
            assert m, f"line {n}: bad comment {line!r}"
            kind, name, rest = m.groups()
            assert NAME.fullmatch(name), f"line {n}: bad metric name {name!r}"
            fam = families.setdefault(name, {"type": None, "help": None, "samples": {}})
            assert not fam["samples"], f"line {n}: {kind} for {name} after its samples"
            if kind == "TYPE":
                assert fam["type"] is None, f"line {n}: second TYPE for {name}"
                assert rest in ("counter", "gauge"), f"line {n}: type {rest!r}"
                fam["type"] = rest
            else:
                assert fam["help"] is None, f"line {n}: second HELP for {name}"
                fam["help"] = rest
            if current is not None and current != name:
                families[current]["closed"] = True
            current = name
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        assert m, f"line {n}: bad sample {line!r}"
        name, labels, value = m.groups()
        assert name == current, f"line {n}: sample of {name} outside its family ({current})"
        fam = families[name]
        assert fam["type"] and fam["help"] is not None, f"line {n}: {name} without HELP/TYPE"
        assert not fam.get("closed"), f"line {n}: {name} family split"
        pairs = ()
        if labels:
            inner = labels[1:-1]
            pos, items = 0, []
            while pos < len(inner):
                lm = LABEL.match(inner, pos)
                assert lm, f"line {n}: bad labels {labels!r}"
                items.append((lm.group(1), lm.group(2)))
                pos = lm.end()
                if pos < len(inner):
                    assert inner[pos] == ",", f"line {n}: bad labels {labels!r}"
                    pos += 1
            keys = [k for k, _ in items]
            assert len(set(keys)) == len(keys), f"line {n}: duplicate label"
            pairs = tuple(sorted(items))
        assert VALUE.match(value), f"line {n}: bad value {value!r}"
        v = float(value)
        if fam["type"] == "counter":
            assert name.endswith("_total") or not counter_suffix, \
                f"line {n}: counter {name} without _total"
            # haproxy writes NaN for some counters of a server in maintenance.
            assert v >= 0 or (not counter_suffix and v != v), f"line {n}: negative counter"
        assert (name, pairs) not in seen_series, f"line {n}: duplicate series {name}{labels}"
        seen_series.add((name, pairs))
        fam["samples"][pairs] = v
    return families


def scrape(port: int, path: str = "/metrics", strict: bool = True):
    status, headers, body = one_shot(port, "GET", path, {})
    assert status == 200
    ctype = dict(headers)["content-type"]
    assert ctype.startswith("text/plain"), ctype
    return parse_exposition(body.decode(), counter_suffix=strict)


def sample(fams, name, **labels):
    want = tuple(sorted(labels.items()))
    return fams[name]["samples"][want]


def start(pbin, start_proxy, servers, strict=True):
    echo = servers(EchoHTTPServer("s1"))
    port = free_port()
    cfg = render(CONFIG, port=port, up=echo.port, closed=free_port())
    start_proxy(pbin, cfg, wait_ports=[port], name=pbin.kind)

    def settled():
        f = scrape(port, strict=strict)
        return (sample(f, "haproxy_server_status", proxy="app", server="s1", state="UP") == 1 and
                sample(f, "haproxy_server_status", proxy="app", server="s2", state="DOWN") == 1)
    wait_until(settled, 15, what="checks settled")
    return port


REQUIRED = [
    "haproxy_process_start_time_seconds", "haproxy_process_uptime_seconds",
    "haproxy_frontend_http_requests_total", "haproxy_frontend_current_sessions",
    "haproxy_frontend_sessions_total", "haproxy_frontend_bytes_in_total",
    "haproxy_frontend_http_responses_total", "haproxy_backend_active_servers",
    "haproxy_backend_backup_servers", "haproxy_backend_status",
    "haproxy_backend_http_requests_total", "haproxy_backend_agg_server_status",
    "haproxy_server_status", "haproxy_server_check_duration_seconds",
    "haproxy_server_check_status", "haproxy_server_check_failures_total",
    "haproxy_server_sessions_total", "haproxy_server_weight",
]


def test_page_is_valid_and_has_the_named_metrics(sluice, start_proxy, servers):
    port = start(sluice, start_proxy, servers)
    fams = scrape(port)
    for name in REQUIRED:
        assert name in fams and fams[name]["samples"], name
    assert fams["haproxy_frontend_http_requests_total"]["type"] == "counter"
    assert fams["haproxy_server_status"]["type"] == "gauge"
    # The DOWN server: status UP is 0, DOWN is 1; its check failed at layer 4.
    assert sample(fams, "haproxy_server_status", proxy="app", server="s2", state="UP") == 0
    assert sample(fams, "haproxy_server_check_status", proxy="app", server="s2",
                  state="L4CON") == 1
    assert sample(fams, "haproxy_backend_active_servers", proxy="app") == 1
    assert sample(fams, "haproxy_server_check_duration_seconds", proxy="app", server="s1") >= 0
    states = {dict(k)["state"] for k in fams["haproxy_server_status"]["samples"]}
    assert states == {"UP", "DOWN", "MAINT", "DRAIN", "NOLB"}


def test_names_are_a_subset_of_haproxys(sluice, haproxy, start_proxy, servers):
    ours = scrape(start(sluice, start_proxy, servers))
    theirs = scrape(start(haproxy, start_proxy, servers, strict=False), strict=False)
    extra = set(ours) - set(theirs)
    assert not extra, f"names haproxy does not have: {sorted(extra)}"
    for name, fam in ours.items():
        assert fam["type"] == theirs[name]["type"], name
        # Same label names on every series.
        our_keys = {tuple(k for k, _ in s) for s in fam["samples"]}
        their_keys = {tuple(k for k, _ in s) for s in theirs[name]["samples"]}
        assert our_keys <= their_keys, (name, our_keys, their_keys)
    for name in REQUIRED:
        assert name in theirs, name


def test_values_move_after_traffic(sluice, start_proxy, servers):
    port = start(sluice, start_proxy, servers)
    before = scrape(port)
    for i in range(7):
        status, _, _ = one_shot(port, "GET", f"/x{i}", {})
        assert status == 200
    after = scrape(port)
    # Scrapes count as frontend requests too (they are answered by the service).
    d = lambda name, **l: sample(after, name, **l) - sample(before, name, **l)
    assert d("haproxy_frontend_http_requests_total", proxy="web") >= 7
    assert d("haproxy_backend_http_requests_total", proxy="app") == 7
    assert d("haproxy_server_sessions_total", proxy="app", server="s1") == 7
    assert d("haproxy_server_http_responses_total", proxy="app", server="s1", code="2xx") == 7
    assert d("haproxy_backend_bytes_out_total", proxy="app") > 0
    assert sample(after, "haproxy_process_uptime_seconds") >= 0


def test_thousand_servers_scrape_fast(sluice, start_proxy, tmp_path):
    port = free_port()
    dead = free_port()
    lines = "\n".join(f"    server s{i} 127.0.0.1:{dead}" for i in range(1000))
    cfg = render(CONFIG, port=port, up=dead, closed=dead).split("\nbackend app")[0]
    cfg += "\nbackend app\n" + lines + "\n"
    start_proxy(sluice, cfg, wait_ports=[port])
    fams = scrape(port)
    assert len(fams["haproxy_server_status"]["samples"]) == 5000
    times = []
    for _ in range(7):
        t = time.perf_counter()
        status, _, body = one_shot(port, "GET", "/metrics", {})
        times.append(time.perf_counter() - t)
        assert status == 200 and len(body) > 1_000_000
    med = statistics.median(times)
    print(f"1,000 servers: {len(body)} bytes, median scrape {med * 1000:.1f} ms")
    assert med < 0.05, times


@pytest.mark.parametrize("line, message", [
    ("http-request use-service prometheus", "unknown service 'prometheus'"),
    ("http-request use-service", "expects a service name"),
    ("http-request use-service expvar extra", "unexpected argument 'extra'"),
])
def test_bad_service_is_a_config_error(sluice, tmp_path, line, message):
    cfg = render(CONFIG, port=free_port(), up=free_port(), closed=free_port())
    cfg = cfg.replace("    http-request use-service prometheus-exporter if { path /metrics }",
                      "    " + line)
    path = tmp_path / "bad.cfg"
    path.write_text(cfg)
    r = run_cmd([sluice.path, "-c", "-f", str(path)])
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert re.search(r"\.cfg:10: \[http-request\] .*" + re.escape(message), out), out


QUERY_CONFIG = CONFIG.replace("check inter 200ms\n    server s2", "check inter 200ms\n    server s3 127.0.0.1:$closed disabled\n    server s2")


@pytest.mark.parametrize("query", ["scope=frontend", "scope=backend&scope=server", "scope=",
                                   "scope=global", "scope=*", "no-maint", "scope=bogus"])
def test_scope_and_no_maint_as_haproxy(sluice, haproxy, start_proxy, servers, query):
    echo = servers(EchoHTTPServer("s1"))
    closed = free_port()
    answers = {}
    for pbin in (sluice, haproxy):
        port = free_port()
        cfg = render(QUERY_CONFIG, port=port, up=echo.port, closed=closed)
        start_proxy(pbin, cfg, wait_ports=[port], name=pbin.kind)
        status, _, body = one_shot(port, "GET", "/metrics?" + query, {})
        fams = parse_exposition(body.decode(), counter_suffix=False) if status == 200 else {}
        kinds = {name.split("_")[1] for name in fams}
        maint = [k for k in fams.get("haproxy_server_status", {"samples": {}})["samples"]
                 if ("server", "s3") in k]
        answers[pbin.kind] = (status, kinds, bool(maint))
    assert answers["sluice"] == answers["haproxy"]
