"""userlist sections, http_auth / http_auth_group and `http-request auth`,
differential against haproxy: the same configuration and requests must give
the same status, WWW-Authenticate challenge, routing by group and connection
handling. The 401 page's words are Sluice's own (as for every built-in
page), so its body and length are compared only for a custom errorfile."""

import base64
import json
import socket
import subprocess

import pytest

from e2eutil import LOOPBACK, free_port, recv_all
from http_helpers import EchoHTTPServer

# `openssl passwd -6 -salt abcdefgh secret` and `-5`: crypt(3) hashes.
SHA512 = ("$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACt"
          "Ltip/cZ/1GM/O6IND4WQhG.")
SHA256 = "$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM."

CFG = """
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

userlist L
    group admins users root
    group staff
    user root insecure-password toor
    user alice password {sha512} groups staff
    user bob password {sha256} groups staff,admins
    user eve insecure-password p:q

frontend fe
    bind {lo}:{fe}
    acl ok http_auth(L)
    acl admin http_auth_group(L) admins
    acl staff http_auth_group(L) staff
    http-request auth realm "My Realm" if {{ path_beg /realm }} !ok
    http-request auth if {{ path_beg /private }} !ok
    use_backend admin if {{ path_beg /g }} admin
    use_backend staff if {{ path_beg /g }} staff
    use_backend guarded if {{ path_beg /be }}
    use_backend custom if {{ path_beg /custom }}
    default_backend app

backend app
    server s1 {lo}:{app}

backend admin
    server s1 {lo}:{adm}

backend staff
    server s1 {lo}:{stf}

backend guarded
    http-request auth unless {{ http_auth(L) }}
    server s1 {lo}:{app}

backend custom
    errorfile 401 {errorfile}
    http-request auth realm zz
    server s1 {lo}:{app}
"""


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# (name, request path, extra header lines)
SCRIPT = [
    ("no credentials, realm", "/realm", []),
    ("no credentials, proxy name as realm", "/private", []),
    ("clear-text password", "/private", [("Authorization", basic("root", "toor"))]),
    ("sha512 crypt", "/private", [("Authorization", basic("alice", "secret"))]),
    ("sha512 crypt again (cached)", "/private", [("Authorization", basic("alice", "secret"))]),
    ("sha256 crypt", "/private", [("Authorization", basic("bob", "secret"))]),
    ("wrong password", "/private", [("Authorization", basic("alice", "Secret"))]),
    ("unknown user", "/private", [("Authorization", basic("mallory", "secret"))]),
    ("password with a colon", "/private", [("Authorization", basic("eve", "p:q"))]),
    ("scheme in lower case", "/private",
     [("Authorization", "basic " + base64.b64encode(b"root:toor").decode())]),
    ("not base64", "/private", [("Authorization", "Basic !!!!")]),
    ("bearer", "/private", [("Authorization", "Bearer abc")]),
    ("first field counts (bad first)", "/private",
     [("Authorization", basic("root", "x")), ("Authorization", basic("root", "toor"))]),
    ("first field counts (good first)", "/private",
     [("Authorization", basic("root", "toor")), ("Authorization", basic("root", "x"))]),
    ("group admins via group line", "/g", [("Authorization", basic("root", "toor"))]),
    ("group admins via user line", "/g", [("Authorization", basic("bob", "secret"))]),
    ("group staff", "/g", [("Authorization", basic("alice", "secret"))]),
    ("group, wrong password", "/g", [("Authorization", basic("alice", "nope"))]),
    ("no group", "/g", [("Authorization", basic("eve", "p:q"))]),
    ("auth in a backend", "/be", []),
    ("auth in a backend, good", "/be", [("Authorization", basic("bob", "secret"))]),
    ("errorfile 401", "/custom", []),
]


def exchange(port, raw, wait=0.3):
    """Sends raw bytes; returns (bytes received, whether the proxy closed)."""
    s = socket.create_connection((LOOPBACK, port), timeout=5)
    try:
        s.sendall(raw)
        s.settimeout(wait)
        out = b""
        closed = False
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    closed = True
                    break
                out += d
        except socket.timeout:
            pass
        return out, closed
    finally:
        s.close()


def parse(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = [tuple(x.split(": ", 1)) for x in lines[1:]]
    return lines[0], [(k.lower(), v) for k, v in fields], body


def observe(port):
    out = []
    for name, path, extra in SCRIPT:
        req = f"GET {path} HTTP/1.1\r\nHost: x\r\n"
        for k, v in extra:
            req += f"{k}: {v}\r\n"
        req += "\r\n"
        resp, closed = exchange(port, req.encode())
        status, fields, body = parse(resp)
        rec = {"request": name, "status": status, "closed": closed,
               "www-authenticate": [v for k, v in fields if k == "www-authenticate"]}
        if status.startswith("HTTP/1.1 401"):
            # Our own page has its own words: compare the fields but the length.
            rec["fields"] = [[k, v] for k, v in fields if k != "content-length"]
            if path == "/custom":
                rec["fields"] = [[k, v] for k, v in fields]
                rec["body"] = body.decode("latin-1")
        else:
            rec["server"] = json.loads(body)["server"] if body.startswith(b"{") else None
        out.append(rec)
    return out


@pytest.mark.timeout(90)
def test_auth_same_as_haproxy(sluice, haproxy, start_proxy, servers, tmp_path):
    app = servers(EchoHTTPServer("app"))
    adm = servers(EchoHTTPServer("admin"))
    stf = servers(EchoHTTPServer("staff"))
    errorfile = tmp_path / "401.http"
    errorfile.write_bytes(b"HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\n"
                          b"WWW-Authenticate: Negotiate\r\nx-custom: 1\r\n"
                          b"content-length: 6\r\n\r\ncustom")
    results = {}
    for pbin in (haproxy, sluice):
        fe = free_port()
        cfg = CFG.format(lo=LOOPBACK, fe=fe, app=app.port, adm=adm.port, stf=stf.port,
                         sha512=SHA512, sha256=SHA256, errorfile=errorfile)
        p = start_proxy(pbin, cfg, wait_ports=[fe], name=pbin.kind)
        results[pbin.kind] = observe(fe)
        p.stop()
    h, s = results["haproxy"], results["sluice"]
    by = {r["request"]: r for r in h}
    # Sanity: the oracle really authenticates and routes.
    assert by["no credentials, realm"]["www-authenticate"] == ['Basic realm="My Realm"']
    assert by["no credentials, proxy name as realm"]["www-authenticate"] == ['Basic realm="fe"']
    assert by["sha512 crypt"]["status"] == "HTTP/1.1 200 OK"
    assert by["wrong password"]["status"].startswith("HTTP/1.1 401")
    assert by["group staff"]["server"] == "staff"
    assert by["group admins via user line"]["server"] == "admin"
    assert by["auth in a backend"]["www-authenticate"] == ['Basic realm="guarded"']
    assert by["errorfile 401"]["www-authenticate"] == ['Basic realm="zz"']
    diffs = [f"{a['request']}:\n  haproxy {a}\n  sluice  {b}" for a, b in zip(h, s) if a != b]
    assert not diffs, "\n".join(diffs)


@pytest.mark.timeout(60)
def test_401_head_and_connection(sluice, haproxy, start_proxy, servers, tmp_path):
    """The 401's head field for field, then what happens to the connection:
    kept for the next request, closed for HTTP/1.0 and `Connection: close`."""
    app = servers(EchoHTTPServer("app"))
    errorfile = tmp_path / "401.http"
    errorfile.write_bytes(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n")
    got, heads = {}, {}
    for pbin in (haproxy, sluice):
        fe = free_port()
        cfg = CFG.format(lo=LOOPBACK, fe=fe, app=app.port, adm=app.port, stf=app.port,
                         sha512=SHA512, sha256=SHA256, errorfile=errorfile)
        p = start_proxy(pbin, cfg, wait_ports=[fe], name=pbin.kind)
        seen = []
        two = b"GET /realm HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n"
        resp, closed = exchange(fe, two)
        seen.append((resp.count(b"HTTP/1.1 "), b"HTTP/1.1 200" in resp, closed))
        for raw in (b"GET /realm HTTP/1.0\r\n\r\n",
                    b"GET /realm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
            resp, closed = exchange(fe, raw)
            status, fields, _ = parse(resp)
            seen.append((status, [k for k, _ in fields], closed))
        resp, _ = exchange(fe, b"GET /realm HTTP/1.1\r\nHost: x\r\n\r\n")
        heads[pbin.kind] = resp.split(b"\r\n\r\n")[0]
        got[pbin.kind] = seen
        p.stop()
    assert got["haproxy"][0] == (2, True, False), got  # the 401 keeps the connection
    assert got["sluice"] == got["haproxy"]
    assert heads["haproxy"] == (b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\n"
                                b"cache-control: no-cache\r\ncontent-type: text/html\r\n"
                                b"www-authenticate: Basic realm=\"My Realm\"")

    # The same head but for the length of our own words.
    def strip(h):
        return [x for x in h.split(b"\r\n") if not x.startswith(b"content-length")]
    assert strip(heads["sluice"]) == strip(heads["haproxy"])


@pytest.mark.timeout(30)
def test_userlist_errors_name_file_and_line(sluice, tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text(
        "userlist L\n"
        "    group G users a,ghost\n"
        "    user a insecure-password x groups G\n"
        "frontend fe\n"
        "    mode http\n"
        "    bind 127.0.0.1:0\n"
        "    acl ok http_auth(M)\n"
        "    acl g http_auth_group(L) H\n"
        "    http-request auth if !ok\n"
        "    default_backend be\n"
        "backend be\n"
        "    mode http\n"
        "    server s 127.0.0.1:1\n")
    r = subprocess.run([sluice.path, "-c", "-f", str(cfg)], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert f"{cfg}:2: [group] userlist 'L': group 'G' names unknown user 'ghost'" in out, out
    assert f"{cfg}:7: [http_auth] unknown userlist 'M' (did you mean 'L'?)" in out, out
    assert f"{cfg}:8: [http_auth_group] unknown group 'H' in userlist 'L'" in out, out
