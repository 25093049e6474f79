#!/usr/bin/env python3
"""A tiny HTTP server for `make run`: answers every GET with its own name."""
import http.server
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "sluice-demo/1"

    def do_GET(self):
        body = f"Hello from {self.server.name} (port {self.server.server_port})\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Health checks connect and reset without a request: not an error.
        pass


def main():
    name, port = sys.argv[1], int(sys.argv[2])
    srv = Server(("127.0.0.1", port), Handler)
    srv.name = name
    srv.serve_forever()


if __name__ == "__main__":
    main()
