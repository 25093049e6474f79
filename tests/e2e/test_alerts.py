"""`alert` rules (Sluice): a backend whose server starts answering 500s
fires the alert once (a command writes a file, a JSON POST reaches a sink),
and clears once when the 500s stop; no repeats in between."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from e2eutil import free_port, render, wait_until
from http_helpers import one_shot

CONFIG = """
global
    log stdout format raw local0 info

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    bind 127.0.0.1:$port
    default_backend app

backend app
    server s1 127.0.0.1:$up
    alert errors if rate(hrsp_5xx) > 2 over 3s exec 'echo "$$SLUICE_ALERT $$SLUICE_ALERT_STATE $$SLUICE_ALERT_BACKEND $$SLUICE_ALERT_METRIC" >> $out'
    alert errors_hook if rate(hrsp_5xx) > 2 over 3s post http://127.0.0.1:$hook/hook
"""


class Sink:
    """An origin whose status can be switched, and a hook that records POSTs."""

    def __init__(self):
        self.status = 200
        self.posts = []
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                body = b"x"
                self.send_response(outer.status)
                self.send_header("Content-Length", "1")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                outer.posts.append((self.path, self.headers.get("Content-Type"),
                                    json.loads(self.rfile.read(n))))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_alert_fires_once_and_clears_once(sluice, start_proxy, tmp_path):
    origin, hook = Sink(), Sink()
    try:
        port = free_port()
        out = tmp_path / "alerts.txt"
        cfg = render(CONFIG, port=port, up=origin.port, hook=hook.port, out=str(out))
        p = start_proxy(sluice, cfg, wait_ports=[port])

        def traffic(seconds, want):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                assert one_shot(port, "GET", "/", {})[0] == want
                time.sleep(0.05)

        traffic(2, 200)
        assert not out.exists() and hook.posts == []
        origin.status = 500
        traffic(4, 500)  # ~20 5xx a second, well over 2
        wait_until(lambda: out.exists() and out.read_text().strip(), 5, what="alert command ran")
        wait_until(lambda: len(hook.posts) == 1, 5, what="alert POST")
        traffic(2, 500)  # still failing: no repeat
        assert out.read_text().splitlines() == ["errors firing app rate(hrsp_5xx)"]
        assert len(hook.posts) == 1
        path, ctype, doc = hook.posts[0]
        assert path == "/hook" and ctype == "application/json"
        assert doc["alert"] == "errors_hook" and doc["state"] == "firing"
        assert doc["backend"] == "app" and doc["metric"] == "rate(hrsp_5xx)"
        assert doc["value"] > 2 and doc["threshold"] == 2

        origin.status = 200
        traffic(5, 200)  # the 3 s window empties of 5xx
        wait_until(lambda: len(out.read_text().splitlines()) == 2, 5, what="alert cleared")
        wait_until(lambda: len(hook.posts) == 2, 5, what="clear POST")
        traffic(2, 200)
        assert out.read_text().splitlines() == ["errors firing app rate(hrsp_5xx)",
                                                "errors cleared app rate(hrsp_5xx)"]
        assert [d["state"] for _, _, d in hook.posts] == ["firing", "cleared"]
        assert "alert errors firing on backend app" in p.stdout()
    finally:
        origin.stop()
        hook.stop()
