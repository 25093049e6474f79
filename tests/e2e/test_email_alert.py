"""`mailers` + `email-alert` as in HAProxy: server state changes are mailed
over SMTP (checked with a small SMTP sink written here)."""

import socket
import threading
import time

from e2eutil import free_port, render, wait_until
from http_helpers import EchoHTTPServer

CONFIG = """
mailers alerters
    mailer smtp1 127.0.0.1:$smtp
    timeout mail 5s

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    email-alert mailers alerters
    email-alert from lb@example.com
    email-alert to ops@example.com
    email-alert myhostname lb1

frontend web
    bind 127.0.0.1:$port
    default_backend app

backend app
    email-alert level notice
    server s1 127.0.0.1:$up check inter 200ms fall 2 rise 2
"""


class SmtpSink:
    """Accepts SMTP sessions; records (ehlo, mail from, rcpt to, data)."""

    def __init__(self):
        self.mails = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(c,), daemon=True).start()

    def session(self, c):
        c.settimeout(10)
        f = c.makefile("rb")
        c.sendall(b"220 sink ESMTP\r\n")
        mail = {}
        try:
            while True:
                line = f.readline().decode()
                if not line:
                    return
                cmd = line.strip()
                if cmd.startswith("EHLO"):
                    mail["ehlo"] = cmd[5:]
                    c.sendall(b"250-sink\r\n250 OK\r\n")
                elif cmd.startswith("MAIL FROM:"):
                    mail["from"] = cmd[10:]
                    c.sendall(b"250 OK\r\n")
                elif cmd.startswith("RCPT TO:"):
                    mail["to"] = cmd[8:]
                    c.sendall(b"250 OK\r\n")
                elif cmd == "DATA":
                    c.sendall(b"354 go ahead\r\n")
                    data = b""
                    while not data.endswith(b"\r\n.\r\n"):
                        b = f.readline()
                        if not b:
                            return
                        data += b
                    mail["data"] = data.decode()
                    self.mails.append(dict(mail))
                    c.sendall(b"250 queued\r\n")
                elif cmd == "QUIT":
                    c.sendall(b"221 bye\r\n")
                    return
                else:
                    c.sendall(b"500 what\r\n")
        finally:
            c.close()

    def stop(self):
        self.stopping = True
        self.sock.close()


def test_email_alert_on_state_changes(sluice, start_proxy, tmp_path):
    sink = SmtpSink()
    echo = EchoHTTPServer("s1")
    echo.start()
    try:
        port = free_port()
        cfg = render(CONFIG, port=port, up=echo.port, smtp=sink.port)
        start_proxy(sluice, cfg, wait_ports=[port])
        time.sleep(1)
        assert sink.mails == []  # nothing changed yet
        echo.stop()
        wait_until(lambda: len(sink.mails) >= 1, 10, what="DOWN mail")
        m = sink.mails[0]
        assert m["ehlo"] == "lb1"
        assert m["from"] == "<lb@example.com>" and m["to"] == "<ops@example.com>"
        head, _, body = m["data"].partition("\r\n\r\n")
        headers = dict(h.split(": ", 1) for h in head.split("\r\n"))
        assert headers["From"] == "lb@example.com" and headers["To"] == "ops@example.com"
        assert headers["Subject"].startswith("[HAproxy Alert] Server app/s1 is DOWN")
        assert "Date" in headers
        assert body.startswith("Server app/s1 is DOWN, reason: Layer4 connection problem")
        assert body.endswith("\r\n.\r\n")
        time.sleep(1)
        assert len(sink.mails) == 1  # one mail per change
        # Back up: `email-alert level notice` mails the UP change too.
        echo = EchoHTTPServer("s1", port=echo.port)
        echo.start()
        wait_until(lambda: len(sink.mails) >= 2, 10, what="UP mail")
        assert "Subject: [HAproxy Alert] Server app/s1 is UP" in sink.mails[1]["data"]
        echo.stop()
    finally:
        sink.stop()
