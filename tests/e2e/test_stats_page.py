"""The stats page (`stats enable|uri|refresh|auth|realm|admin|show-legends|
scope`): rendered in headless Chromium (every backend and server shown, a
screenshot written), Basic auth enforced, `;csv`/`;json`/`;norefresh`, the
admin form (POST as haproxy's page does) putting a server in MAINT so that
traffic stops reaching it, and no form nor action without `stats admin`."""

import base64
import csv
import io
import json
import re
import subprocess

import pytest

from e2eutil import free_port, render, wait_until
from http_helpers import EchoHTTPServer, one_shot

CHROMIUM = "/usr/bin/chromium"

CONFIG = """
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend stats_admin
    bind 127.0.0.1:$p_admin
    stats enable
    stats uri /stats
    stats refresh 10s
    stats admin if { src 127.0.0.1 }
    stats show-legends
    default_backend app

frontend stats_auth
    bind 127.0.0.1:$p_auth
    stats uri /secure
    stats auth ops:s3cret
    stats realm Ops\\ Area
    default_backend app

frontend stats_ro
    bind 127.0.0.1:$p_ro
    stats enable
    stats scope app
    default_backend app

frontend stats_scoped
    bind 127.0.0.1:$p_scoped
    stats uri /s
    stats scope other
    stats admin if TRUE

frontend web
    bind 127.0.0.1:$p_web
    use_backend other if { path_beg /other }
    default_backend app

backend app
    balance roundrobin
    server s1 127.0.0.1:$e1 check inter 200ms
    server s2 127.0.0.1:$e2 check inter 200ms
    server s3 127.0.0.1:$closed check inter 200ms

backend other
    stats enable
    stats uri /other-stats
    stats admin if TRUE
    server o1 127.0.0.1:$e1
"""


@pytest.fixture
def env(sluice, start_proxy, servers):
    e1 = servers(EchoHTTPServer("s1"))
    e2 = servers(EchoHTTPServer("s2"))
    ports = dict(p_admin=free_port(), p_auth=free_port(), p_ro=free_port(), p_web=free_port(),
                 p_scoped=free_port())
    cfg = render(CONFIG, e1=e1.port, e2=e2.port, closed=free_port(), **ports)
    start_proxy(sluice, cfg, wait_ports=list(ports.values()))
    wait_until(lambda: status_of(ports["p_admin"], "/stats", "app", "s3") == "DOWN" and
               status_of(ports["p_admin"], "/stats", "app", "s1") == "UP", 15,
               what="checks settled")
    return ports


def csv_rows(port, uri, headers=None):
    status, _, body = one_shot(port, "GET", uri + ";csv", headers or {})
    assert status == 200
    text = body.decode()
    assert text.startswith("# pxname,svname,")
    return list(csv.DictReader(io.StringIO(text[2:])))


def status_of(port, uri, px, sv, headers=None):
    for r in csv_rows(port, uri, headers):
        if r["pxname"] == px and r["svname"] == sv:
            return r["status"]
    raise KeyError((px, sv))


def chromium(*args, timeout=60):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", "--no-first-run", *args],
                          capture_output=True, timeout=timeout, text=True)


def test_page_in_chromium_shows_every_backend_and_server(env, tmp_path):
    url = f"http://127.0.0.1:{env['p_admin']}/stats"
    dom = chromium("--dump-dom", url).stdout
    assert "<h1>Statistics Report" in dom
    for px in ("stats_admin", "stats_auth", "stats_ro", "web", "app", "other"):
        assert f'<h2 id="{px}">' in dom, px
    rows = dict(re.findall(r'<tr class="(\w+)" data-name="([^"]+)"', dom)[i][::-1]
                for i in range(len(re.findall(r'<tr class="(\w+)" data-name="([^"]+)"', dom))))
    assert rows["s1"] == "up" and rows["s2"] == "up" and rows["s3"] == "down"
    assert rows["o1"] == "nocheck"
    assert dom.count("<svg class=\"spark\"") >= 3  # check history of s1, s2, s3
    assert 'class="legend"' in dom and "Chk/Dwn" in dom  # show-legends
    shot = tmp_path / "stats_page.png"
    r = chromium(f"--screenshot={shot}", "--window-size=1400,1000", url)
    assert shot.exists(), r.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    print(f"\nstats page screenshot: {shot}")


def test_auth_is_enforced(env):
    p = env["p_auth"]
    status, headers, _ = one_shot(p, "GET", "/secure", {})
    assert status == 401
    assert dict(headers)["www-authenticate"] == 'Basic realm="Ops Area"'
    bad = base64.b64encode(b"ops:wrong").decode()
    assert one_shot(p, "GET", "/secure", {"Authorization": f"Basic {bad}"})[0] == 401
    assert one_shot(p, "GET", "/secure;csv", {})[0] == 401
    good = {"Authorization": "Basic " + base64.b64encode(b"ops:s3cret").decode()}
    status, headers, body = one_shot(p, "GET", "/secure", good)
    assert status == 200 and b"<h2 id=\"app\">" in body
    assert status_of(p, "/secure", "app", "s2", good) == "UP"
    # Other URIs of that frontend still reach the backend, without auth.
    status, _, body = one_shot(p, "GET", "/elsewhere", {})
    assert status == 200 and json.loads(body)["server"] in ("s1", "s2")


def test_csv_json_norefresh_and_scope(env):
    p = env["p_admin"]
    status, headers, body = one_shot(p, "GET", "/stats;json", {})
    assert status == 200
    doc = json.loads(body)
    names = {(f["field"]["name"], f["value"]["value"]) for row in doc for f in row
             if f["field"]["name"] in ("pxname", "svname")}
    assert ("svname", "s3") in names and ("pxname", "other") in names
    _, headers, _ = one_shot(p, "GET", "/stats", {})
    assert dict(headers).get("refresh") == "10"
    _, headers, body = one_shot(p, "GET", "/stats;norefresh", {})
    assert "refresh" not in dict(headers) and b"<h1>" in body
    # stats scope app: only that proxy, at the default URI.
    rows = csv_rows(env["p_ro"], "/haproxy?stats")
    assert {r["pxname"] for r in rows} == {"app"}


def served_by(port, n):
    out = []
    for i in range(n):
        status, _, body = one_shot(port, "GET", f"/t{i}", {})
        assert status == 200
        out.append(json.loads(body)["server"])
    return out


def form_backend_id(port, px):
    _, _, body = one_shot(port, "GET", "/stats", {})
    html = body.decode()
    section = html.split(f'<h2 id="{px}">', 1)[1].split("<h2", 1)[0]
    m = re.search(r'<input type="hidden" name="b" value="(#\d+)">', section)
    assert m, section[:500]
    assert '<input type="checkbox" name="s" value="s1">' in section
    return m.group(1)


def post_form(port, uri, fields):
    body = "&".join(f"{k}={v}" for k, v in fields).replace("#", "%23").encode()
    return one_shot(port, "POST", uri, {"Content-Type": "application/x-www-form-urlencoded"},
                    body)


def test_admin_form_puts_a_server_in_maint_and_traffic_stops(env):
    p, web = env["p_admin"], env["p_web"]
    assert set(served_by(web, 6)) == {"s1", "s2"}
    b = form_backend_id(p, "app")
    status, headers, _ = post_form(p, "/stats", [("s", "s1"), ("action", "maint"), ("b", b)])
    assert status == 303 and dict(headers)["location"] == "/stats;st=DONE"
    assert status_of(p, "/stats", "app", "s1") == "MAINT"
    dom = chromium("--dump-dom", f"http://127.0.0.1:{p}/stats;st=DONE").stdout
    assert 'class="maint" data-name="s1"' in dom and "Action processed successfully." in dom
    assert served_by(web, 8) == ["s2"] * 8
    status, headers, _ = post_form(p, "/stats", [("s", "s1"), ("action", "ready"), ("b", b)])
    assert status == 303 and dict(headers)["location"] == "/stats;st=DONE"
    assert status_of(p, "/stats", "app", "s1") == "UP"
    assert "s1" in served_by(web, 6)
    # Nothing selected, or a bad action.
    assert dict(post_form(p, "/stats", [("action", "maint"), ("b", b)])[1])["location"] == \
        "/stats;st=NONE"
    assert dict(post_form(p, "/stats", [("s", "s1"), ("action", "explode"), ("b", b)])[1])[
        "location"] == "/stats;st=ERRP"


def test_without_stats_admin_no_form_and_post_is_refused(env):
    p = env["p_ro"]
    _, _, body = one_shot(p, "GET", "/haproxy?stats", {})
    html = body.decode()
    assert "<form" not in html and 'type="checkbox"' not in html
    status, headers, _ = post_form(p, "/haproxy?stats", [("s", "s1"), ("action", "maint"),
                                                         ("b", "#5")])
    assert status == 303 and dict(headers)["location"] == "/haproxy?stats;st=DENY"
    assert status_of(env["p_admin"], "/stats", "app", "s1") == "UP"
    assert set(served_by(env["p_web"], 6)) == {"s1", "s2"}
    # An authenticated page without `stats admin` refuses too.
    good = {"Authorization": "Basic " + base64.b64encode(b"ops:s3cret").decode(),
            "Content-Type": "application/x-www-form-urlencoded"}
    status, headers, _ = one_shot(env["p_auth"], "POST", "/secure", good,
                                  b"s=s1&action=maint&b=%235")
    assert status == 303 and dict(headers)["location"] == "/secure;st=DENY"
    assert status_of(env["p_admin"], "/stats", "app", "s1") == "UP"


@pytest.mark.parametrize("line, message", [
    ("stats uri", "[stats uri] 'stats uri' expects a URI prefix"),
    ("stats auth nocolon", "[stats auth] 'stats auth' expects user:password"),
    ("stats admin TRUE", "[stats admin] 'stats admin' expects 'if' or 'unless'"),
    ("stats refresh soon", "[stats refresh]"),
    ("stats bogus", "[stats bogus]"),
])
def test_bad_stats_lines_are_config_errors(sluice, tmp_path, line, message):
    from e2eutil import run_cmd
    cfg = render(CONFIG, e1=1, e2=2, closed=3, p_admin=4, p_auth=5, p_ro=6, p_web=7, p_scoped=8)
    cfg = cfg.replace("    stats show-legends", "    " + line)
    path = tmp_path / "bad.cfg"
    path.write_text(cfg)
    r = run_cmd([sluice.path, "-c", "-f", str(path)])
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert re.search(r"bad\.cfg:14: " + re.escape(message), out), out


def test_thousand_servers_page_is_fast(sluice, start_proxy):
    import statistics
    import time
    port, dead = free_port(), free_port()
    lines = "\n".join(f"    server s{i} 127.0.0.1:{dead}" for i in range(1000))
    cfg = ("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
           "    timeout server 5s\n\nlisten big\n    bind 127.0.0.1:" + str(port) + "\n"
           "    stats enable\n    stats uri /st\n" + lines + "\n")
    start_proxy(sluice, cfg, wait_ports=[port])
    for uri in ("/st", "/st;csv"):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            status, _, body = one_shot(port, "GET", uri, {})
            times.append(time.perf_counter() - t)
            assert status == 200
        assert body.count(b"s999") >= 1
        med = statistics.median(times)
        print(f"\n1,000 servers {uri}: {len(body)} bytes, median {med * 1000:.1f} ms")
        assert med < 0.05, times
    # HEAD: the head alone.
    status, headers, body = one_shot(port, "HEAD", "/st", {})
    assert status == 200 and body == b"" and int(dict(headers)["content-length"]) > 100_000


def test_stats_in_a_backend_and_a_body_sent_late(env):
    import socket
    import time
    web = env["p_web"]
    status, _, body = one_shot(web, "GET", "/other-stats", {})
    assert status == 200 and b'<h2 id="other">' in body
    assert json.loads(one_shot(web, "GET", "/other/x", {})[2])["server"] == "s1"
    # The admin POST's body arrives after its head: the page waits for it.
    b = form_backend_id(env["p_admin"], "app")
    form = f"s=s2&action=drain&b={b.replace('#', '%23')}".encode()
    with socket.create_connection(("127.0.0.1", web), timeout=5) as s:
        s.sendall(b"POST /other-stats HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/x-www-form-urlencoded\r\nContent-Length: " +
                  str(len(form)).encode() + b"\r\n\r\n")
        time.sleep(0.3)
        s.sendall(form)
        answer = b""
        deadline = time.monotonic() + 5
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            answer += s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 303 ") and b"location: /other-stats;st=DONE" in answer
    assert status_of(env["p_admin"], "/stats", "app", "s2") == "DRAIN"
    assert set(served_by(web, 6)) == {"s1"}


class WebDriver:
    """Just enough W3C WebDriver over chromedriver's HTTP API (stdlib only)
    to drive headless Chromium: open a page, click, read the source."""
    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self, tmp_path):
        import http.client
        self._http = http.client
        self.port = free_port()
        self.proc = subprocess.Popen(["/usr/bin/chromedriver", f"--port={self.port}"],
                                     stdout=open(tmp_path / "chromedriver.log", "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: self._ready(), 20, what="chromedriver")
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1000"]}}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _ready(self):
        try:
            return self._call("GET", "/status")["ready"]
        except OSError:
            return False

    def _call(self, method, path, body=None):
        conn = self._http.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            doc = json.loads(r.read() or b"{}")
            assert r.status == 200, doc
            return doc["value"]
        finally:
            conn.close()

    def s(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def get(self, url):
        self.s("POST", "/url", {"url": url})

    def click(self, css):
        el = self.s("POST", "/element", {"using": "css selector", "value": css})[self.ELEMENT]
        self.s("POST", f"/element/{el}/click", {})

    def source(self):
        return self.s("GET", "/source")

    def url(self):
        return self.s("GET", "/url")

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.s("GET", "/screenshot")))

    def quit(self):
        try:
            self.s("DELETE", "")
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def test_admin_from_the_page_in_chromium(env, tmp_path):
    """A person's path: tick s1 in app's table, choose MAINT, press Apply."""
    p, web = env["p_admin"], env["p_web"]
    d = WebDriver(tmp_path)
    try:
        d.get(f"http://127.0.0.1:{p}/stats;norefresh")
        d.click('form.admin input[name="s"][value="s1"]')
        d.click('form.admin select[name="action"] option[value="maint"]')
        # app's form is the first admin form on the page (stats_* and web have none).
        d.click('form.admin input[type="submit"]')
        wait_until(lambda: d.url().endswith("/stats;st=DONE"), 10, what="redirect")
        html = d.source()
        assert "Action processed successfully." in html
        assert 'class="maint" data-name="s1"' in html
        shot = tmp_path / "stats_page_after_maint.png"
        d.screenshot(shot)
        print(f"\nstats page after the admin action: {shot}")
    finally:
        d.quit()
    assert status_of(p, "/stats", "app", "s1") == "MAINT"
    assert served_by(web, 6) == ["s2"] * 6


def test_up_no_maint_and_admin_limited_to_the_scope(env):
    p = env["p_admin"]
    up = {(r["pxname"], r["svname"]) for r in csv_rows(p, "/stats;up")}
    assert ("app", "s1") in up and ("app", "s3") not in up and ("app", "BACKEND") in up
    b = form_backend_id(p, "app")
    assert post_form(p, "/stats", [("s", "s2"), ("action", "maint"), ("b", b)])[0] == 303
    no_maint = {(r["pxname"], r["svname"]) for r in csv_rows(p, "/stats;no-maint")}
    assert ("app", "s2") not in no_maint and ("app", "s1") in no_maint
    # A page scoped to 'other' cannot act on 'app'.
    status, headers, _ = post_form(env["p_scoped"], "/s", [("s", "s1"), ("action", "maint"),
                                                           ("b", b)])
    assert status == 303 and dict(headers)["location"] == "/s;st=ERRP"
    assert status_of(p, "/stats", "app", "s1") == "UP"
