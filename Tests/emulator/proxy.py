#!/usr/bin/env python3
"""A small forward proxy for the tests (Python standard library only): HTTP CONNECT tunnels (what a client
uses for https:// URLs) and plain-HTTP forwarding of absolute-form requests (http:// URLs), recording every
request that reached it, so a test can assert that a call went through the proxy - or bypassed it.

    python3 proxy.py [--port 0] [--auth USER:PASSWORD] [--no-stdin-watch]

Prints one line once it listens: `ANYLLM_PROXY http://127.0.0.1:PORT`. Exits on SIGTERM or when stdin reaches
EOF (like the emulator). `GET /_proxy/log` (origin-form, sent to the proxy itself) answers the JSON list of
records `{"method", "target", "user", "authorized", "bytes_up"}`, oldest first. `bytes_up` counts what the client
sent through a CONNECT tunnel so far: a client reuses an open tunnel for its next request to the same server, so
that request shows as growth of `bytes_up` rather than as a new record. With `--auth`, a request without the right
`Proxy-Authorization: Basic` gets 407 with `Proxy-Authenticate` and a text body that repeats the credentials it
refused - the way a careless proxy's error page might - so tests can check the client redacts them.
See README.md ("The test proxy").
"""

import argparse
import base64
import json
import os
import select
import signal
import socket
import socketserver
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Hop-by-hop headers a proxy must not forward (RFC 9110 7.6.1), plus the credentials meant for the proxy.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te",
              "trailer", "transfer-encoding", "upgrade"}


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "anyllm-test-proxy"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    # ---- bookkeeping -------------------------------------------------------------------------------------------
    def _credentials(self):
        """(user, password) from Proxy-Authorization: Basic, or (None, None)."""
        value = self.headers.get("Proxy-Authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            user, _, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None
        return user, password

    def _admit(self, target):
        """Records the request; answers 407 and returns False when --auth is set and not satisfied."""
        user, password = self._credentials()
        want = self.server.auth
        ok = want is None or (user, password) == want
        self.record = {"method": self.command, "target": target, "user": user, "authorized": ok, "bytes_up": 0}
        with self.server.lock:
            self.server.log.append(self.record)
        if not ok:
            body = ("407 Proxy Authentication Required: credentials %s:%s were refused\n" % (user, password)).encode()
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="anyllm-test-proxy"')
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        return ok

    def _plain(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if text.startswith("[") else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # ---- CONNECT: a byte tunnel --------------------------------------------------------------------------------
    def do_CONNECT(self):
        if not self._admit(self.path):
            return
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except (OSError, ValueError):
            self._plain(502, "cannot connect to %s\n" % self.path)
            self.close_connection = True
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        _relay(self.connection, upstream, self.record, self.server.lock)

    # ---- absolute-form requests: forwarded over a new connection -----------------------------------------------
    def _forward(self):
        if self.path.startswith("/"):
            if self.command == "GET" and self.path == "/_proxy/log":
                with self.server.lock:
                    return self._plain(200, json.dumps(self.server.log))
            return self._plain(400, "a proxy needs an absolute URL or CONNECT\n")
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            return self._plain(400, "only http:// URLs are forwarded (https goes through CONNECT)\n")
        if not self._admit(self.path):
            return
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._plain(411, "this proxy forwards Content-Length bodies only\n")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            upstream = socket.create_connection((url.hostname, url.port or 80), timeout=60)
        except OSError:
            self.close_connection = True
            return self._plain(502, "cannot connect to %s\n" % url.netloc)
        path = (url.path or "/") + ("?" + url.query if url.query else "")
        head = ["%s %s HTTP/1.1" % (self.command, path)]
        head += ["%s: %s" % (k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        head.append("Connection: close")       # the upstream's close ends the relayed answer
        upstream.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        # Relay the answer with its own framing, only swapping the connection header: we close after it.
        reader = upstream.makefile("rb")
        status = reader.readline(65537)
        out = [status]
        while True:
            line = reader.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            if line.split(b":", 1)[0].strip().lower() not in (b"connection", b"keep-alive"):
                out.append(line)
        out.append(b"Connection: close\r\n\r\n")
        self.wfile.write(b"".join(out))
        self.wfile.flush()
        while True:
            data = reader.read1(65536)
            if not data:
                break
            self.wfile.write(data)
            self.wfile.flush()
        reader.close()
        upstream.close()
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward


def _relay(a, b, record, lock):
    """Copies bytes both ways until either side closes, counting a's bytes in record["bytes_up"]."""
    a.settimeout(None)
    b.settimeout(None)
    try:
        while True:
            readable, _, _ = select.select([a, b], [], [], 120)
            if not readable:
                return
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                if s is a:
                    with lock:      # counted before forwarding: the answer cannot come back before the count
                        record["bytes_up"] += len(data)
                (b if s is a else a).sendall(data)
    except OSError:
        pass
    finally:
        b.close()


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, auth):
        self.auth = auth
        self.lock = threading.Lock()
        self.log = []
        super().__init__(address, ProxyHandler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)     # no reverse-DNS lookup (see emulator.py)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):
            return                                   # peers hanging up are routine
        super().handle_error(request, client_address)


def main(argv=None):
    ap = argparse.ArgumentParser(description="forward proxy for the anyllm tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--auth", help="USER:PASSWORD required in Proxy-Authorization (Basic)")
    ap.add_argument("--no-stdin-watch", action="store_true")
    args = ap.parse_args(argv)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    server = ProxyServer(("127.0.0.1", args.port), auth)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print("ANYLLM_PROXY http://127.0.0.1:%d" % server.server_address[1], flush=True)
    if not args.no_stdin_watch:
        def watch():
            try:
                while os.read(0, 65536):
                    pass
            except OSError:
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever(poll_interval=0.25)


if __name__ == "__main__":
    main()
