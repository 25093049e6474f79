"""http-request / http-response rules and custom logs, differential against
Debian's haproxy: one configuration with a representative set of rules runs
under both, in front of an echo backend that returns the request it saw.
For each scripted request both must give the same status, Location,
Set-Cookie, Cache-Control, X-* response headers and local-reply bodies, and
the backend must see the same method, path and headers (names compare
case-insensitively: haproxy lowercases them; order and values exactly).
A second test compares a log-format line and httplog capture blocks."""

import difflib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from e2eutil import LOOPBACK, free_port
from http_helpers import header_values, one_shot

# Response headers the echo backend adds when the path contains the key.
RESPONSE_EXTRAS = {
    "resp-deny": [("X-Deny-Me", "1")],
    "resp-headers": [("X-Remove", "gone soon"), ("X-Multi", "a"), ("X-Multi", "b, c"),
                     ("Set-Cookie", "sid=42; path=/")],
}


class RuleEcho:
    """Keep-alive HTTP/1.1 server answering every method with JSON
    {"method", "path", "headers": [[name, value]...], "body"}."""

    def __init__(self, name):
        outer = self
        self.name = name

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("latin-1") if n else ""
                doc = {"server": outer.name, "method": self.command, "path": self.path,
                       "headers": [[k, v] for k, v in self.headers.items()], "body": body}
                data = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Server", outer.name)
                for key, extra in RESPONSE_EXTRAS.items():
                    if key in self.path:
                        for h, v in extra:
                            self.send_header(h, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join(timeout=5)


CFG = r"""
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout tarpit 200ms

frontend fe
    bind 127.0.0.1:{fe}
    acl is_admin path_beg /admin
    acl internal req.hdr(X-Internal) -m str yes
    http-request deny if is_admin !internal
    http-request deny deny_status 429 if {{ path /slow }}
    http-request tarpit deny_status 503 if {{ path /trap }}
    http-request redirect location /new-home code 301 if {{ path /old-home }}
    http-request redirect prefix /v2 if {{ path_beg /v1/ }}
    http-request redirect scheme https code 308 drop-query append-slash if {{ path_beg /secure }}
    http-request redirect location /login set-cookie SEEN=1 if {{ path /needs-login }}
    http-request redirect location /bye code 303 clear-cookie SESSION if {{ path /logout }}
    http-request return status 200 content-type text/plain string pong hdr X-Pong yes if {{ path /ping }}
    http-request return status 403 content-type text/plain lf-string "denied %[src]" if {{ path /lf }}
    http-request return status 204 if {{ method DELETE }}
    http-request return status 200 content-type text/html file {page} if {{ path /page }}
    http-request return errorfile {errorfile} if {{ path /errorfile }}
    http-request allow if {{ path /allowed }}
    http-request deny if {{ path /allowed }}
    http-request set-header X-Client-IP %[src]
    http-request add-header X-Added one
    http-request add-header X-Added two
    http-request set-header X-Host-Lower %[req.hdr(host),lower]
    http-request set-header X-Via-Fmt "%[method] on %[path]"
    http-request del-header X-Secret
    http-request del-header X-Drop- -m beg
    http-request replace-header User-Agent ^(\w+)/(.*)$ \2-\1
    http-request replace-value X-List ^a$ A
    http-request set-path /rewritten%[path] if {{ path_beg /rw/ }}
    http-request set-query x=1 if {{ path_beg /q }}
    http-request set-uri /uri-set if {{ path /set-uri }}
    http-request set-method PUT if {{ path /as-put }}
    http-request set-header X-Seen-Added %[req.hdr_cnt(X-Added)]
    http-response set-header X-Order fe
    http-response add-header X-Trail fe
    http-response del-header X-Remove
    http-response replace-header X-Server ^(.*)$ srv-\1
    http-response deny if {{ res.hdr(X-Deny-Me) -m found }}
    http-response set-header X-Multi-Count %[res.hdr_cnt(X-Multi)]
    http-response set-header X-Status %[status] if {{ status 200 }}
    http-response set-header X-Sid %[res.cook(sid)]
    use_backend app2 if {{ path_beg /b2 }}
    default_backend app

backend app
    http-request set-header X-Backend app
    http-request deny if {{ path /backend-deny }}
    http-response set-header X-Order be
    http-response add-header X-Trail be
    server s1 127.0.0.1:{srv}

backend app2
    http-request set-header X-Backend app2
    http-response set-header X-Order be2
    http-response allow if {{ res.hdr(X-Server) app2 }}
    server s1 127.0.0.1:{srv2}
"""

BASE = {"Host": "Example.COM", "User-Agent": "curl/8.0", "X-Secret": "s3cret",
        "X-Drop-Me": "1", "X-Drop-Too": "2", "X-Keep": "k", "X-List": "a, b ,a,c"}

# (name, method, path, extra headers, body)
SCRIPT = [
    ("edits on a plain GET", "GET", "/", {}, None),
    ("admin denied", "GET", "/admin/x", {}, None),
    ("admin from inside", "GET", "/admin/x", {"X-Internal": "yes"}, None),
    ("deny_status 429", "GET", "/slow", {}, None),
    ("redirect location 301", "GET", "/old-home", {}, None),
    ("redirect prefix keeps query", "GET", "/v1/x?y=2", {}, None),
    ("redirect scheme, drop-query, append-slash", "GET", "/secure/page?x=1", {}, None),
    ("redirect set-cookie", "GET", "/needs-login", {}, None),
    ("redirect clear-cookie 303", "GET", "/logout", {}, None),
    ("return string + hdr", "GET", "/ping", {}, None),
    ("return lf-string", "GET", "/lf", {}, None),
    ("return without body", "DELETE", "/thing", {}, None),
    ("return file", "GET", "/page", {}, None),
    ("return errorfile", "GET", "/errorfile", {}, None),
    ("allow stops the frontend rules", "GET", "/allowed", {}, None),
    ("set-path", "GET", "/rw/a?k=v", {}, None),
    ("set-query replaces", "GET", "/q?old=1", {}, None),
    ("set-query adds", "GET", "/qq", {}, None),
    ("set-uri", "GET", "/set-uri?z=9", {}, None),
    ("set-method", "GET", "/as-put", {}, None),
    ("use_backend + backend rules, response allow", "GET", "/b2/x", {}, None),
    ("tarpit", "GET", "/trap", {}, None),
    ("backend deny", "GET", "/backend-deny", {}, None),
    ("response deny", "GET", "/resp-deny", {}, None),
    ("response header edits", "GET", "/resp-headers", {}, None),
    ("POST body passes", "POST", "/form", {"Content-Type": "text/plain"}, b"a=1&b=2"),
]

LOCAL_BODY = {"/ping", "/lf", "/page", "/errorfile"}  # local replies whose bodies both must match


def _observe(port):
    seen = []
    for name, method, path, extra, body in SCRIPT:
        headers = dict(BASE)
        headers.update(extra)
        status, hdrs, data = one_shot(port, method, path, headers, body)
        rec = {"request": name, "status": status}
        for h in ("location", "set-cookie", "cache-control", "connection"):
            rec[h] = header_values(hdrs, h)
        rec["x-headers"] = [[k, v] for k, v in hdrs if k.startswith("x-")]
        if path in LOCAL_BODY:
            rec["body"] = data.decode("latin-1")
            rec["content-type"] = header_values(hdrs, "content-type")
        if data and data.startswith(b"{"):
            doc = json.loads(data)
            rec["backend"] = doc["server"]
            rec["backend-method"] = doc["method"]
            rec["backend-path"] = doc["path"]
            rec["backend-saw"] = [[k.lower(), v] for k, v in doc["headers"]]
            rec["backend-body"] = doc["body"]
        seen.append(rec)
    return seen


def _diff(a, b):
    ja = json.dumps(a, indent=1, sort_keys=True).splitlines()
    jb = json.dumps(b, indent=1, sort_keys=True).splitlines()
    return "\n".join(difflib.unified_diff(ja, jb, "haproxy", "sluice", lineterm=""))


@pytest.mark.timeout(120)
def test_rules_same_as_haproxy(sluice, haproxy, start_proxy, servers, tmp_path):
    app = servers(RuleEcho("app"))
    app2 = servers(RuleEcho("app2"))
    page = tmp_path / "page.html"
    page.write_text("<p>static page</p>\n")
    errorfile = tmp_path / "maint.http"
    errorfile.write_bytes(b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
                          b"content-length: 12\r\nx-maint: yes\r\n\r\nback soon.\r\n")
    results = {}
    for pbin in (haproxy, sluice):
        fe = free_port()
        start_proxy(pbin, CFG.format(fe=fe, srv=app.port, srv2=app2.port, page=page,
                                     errorfile=errorfile), wait_ports=[fe])
        results[pbin.kind] = _observe(fe)
    h, s = results["haproxy"], results["sluice"]
    # Sanity: the oracle applied the rules (so equality means something).
    by_name = {r["request"]: r for r in h}
    assert by_name["admin denied"]["status"] == 403
    assert by_name["redirect prefix keeps query"]["location"] == ["/v2/v1/x?y=2"]
    assert by_name["set-method"]["backend-method"] == "PUT"
    assert ["x-client-ip", "127.0.0.1"] in by_name["edits on a plain GET"]["backend-saw"]
    assert h == s, "sluice differs from haproxy:\n" + _diff(h, s)
    # The tarpit holds the request for `timeout tarpit` before answering.
    assert by_name["tarpit"]["status"] == 503
    for pbin in (haproxy, sluice):
        fe = free_port()
        start_proxy(pbin, CFG.format(fe=fe, srv=app.port, srv2=app2.port, page=page,
                                     errorfile=errorfile), wait_ports=[fe])
        t0 = time.monotonic()
        status, _, _ = one_shot(fe, "GET", "/trap", dict(BASE))
        held = time.monotonic() - t0
        assert status == 503, pbin.kind
        assert 0.15 <= held < 3.0, (pbin.kind, held)


LOG_CFG = r"""
global
    log 127.0.0.1:{logport} local0

defaults
    mode http
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend custom
    bind 127.0.0.1:{fe1}
    capture request header Host len 8
    capture request header User-Agent len 5
    capture response header Content-Type len 10
    log-format "CUSTOM rt=%rt %HM %HU %HP %HQ %HV %ST %b/%s %hr %hs %{{+Q}}r src=%[src] ids=%[fe_id]/%[be_id] m=%[method] st=%[status] fi=%fi si=%si:%sp host=%H %ts %tsc %rc %sq/%bq %{{+Q}}b %%"
    http-request deny if {{ path /no }}
    default_backend app

frontend classic
    bind 127.0.0.1:{fe2}
    option httplog
    option log-separate-errors
    capture request header Host len 8
    capture request header User-Agent len 5
    capture response header Content-Type len 10
    capture response header X-Nope len 4
    http-request deny if {{ path /no }}
    default_backend app

backend app
    server s1 127.0.0.1:{srv}
"""

TIMERS = re.compile(r" -?\d+/-?\d+/-?\d+/-?\d+/-?\d+ ")


def _payload(msg):
    # "<134>Nov 23 12:00:00 haproxy[123]: text" -> "text"
    return msg.split(": ", 1)[1].rstrip("\n") if ": " in msg else msg


def _mask(line):
    line = re.sub(r"> 127\.0\.0\.1:\d+ \[[^]]+\]", "> 127.0.0.1:PORT [DATE]", line)
    return TIMERS.sub(" T/T/T/T/T ", line)


@pytest.mark.timeout(120)
def test_log_format_and_captures_same_as_haproxy(sluice, haproxy, start_proxy, servers, syslog):
    app = servers(RuleEcho("app"))
    headers = {"Host": "WWW.Example.COM", "User-Agent": "curl|x{y}"}
    lines = {}
    for pbin in (haproxy, sluice):
        syslog.clear()
        fe1, fe2 = free_port(), free_port()
        start_proxy(pbin, LOG_CFG.format(logport=syslog.port, fe1=fe1, fe2=fe2, srv=app.port),
                    wait_ports=[fe1, fe2])
        got = []
        for fe, path in ((fe1, "/a/b?c=d"), (fe1, "/no"), (fe2, "/x?y"), (fe2, "/no")):
            status, _, _ = one_shot(fe, "GET", path, dict(headers))
            assert status in (200, 403)
            m = syslog.wait_for(re.escape(path.split("?")[0]) + r"[ ?]", timeout=10)
            got.append(m.string[:m.string.index(">") + 1] + " " + _payload(m.string))
            syslog.clear()
        lines[pbin.kind] = got
    h = [_mask(x) for x in lines["haproxy"]]
    s = [_mask(x) for x in lines["sluice"]]
    # option log-separate-errors: the denied request of `classic` at err.
    assert [x.split(" ", 1)[0] for x in h] == ["<134>", "<134>", "<134>", "<131>"], h
    assert h[0].startswith("<134> CUSTOM rt=0 GET /a/b?c=d /a/b ?c=d HTTP/1.1 200 app/s1"), h
    # %rt numbers requests process-wide (each request here is a new connection).
    assert h[1].startswith("<134> CUSTOM rt=1 GET /no"), h
    assert "{WWW.Exam|curl#7C} {applicatio}" in h[0], h
    # %B: the local deny page differs in its text, and the proxied response
    # in its Connection header (a difference of the HTTP path, not of logs).
    h[2:] = [re.sub(r" (200|403) \d+ ", r" \1 B ", x) for x in h[2:]]
    s[2:] = [re.sub(r" (200|403) \d+ ", r" \1 B ", x) for x in s[2:]]
    assert h == s, "\n".join(difflib.unified_diff(h, s, "haproxy", "sluice", lineterm=""))
