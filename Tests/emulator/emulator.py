#!/usr/bin/env python3
"""The provider emulator: one local HTTP server speaking each provider's wire protocol (see README.md).

This file owns the HTTP plumbing only - socket options, request-body reading (Content-Length, chunked,
Expect: 100-continue), routing, request recording and process lifetime. What a protocol answers lives in one
module per protocol (openai_chat.py, ...), each exporting ROUTES = [(method, path regex, handler(exchange))].
"""

import argparse
import errno
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True      # every test layer runs this from the source tree: leave no __pycache__ there
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import anthropic_messages   # noqa: E402
import azure_inference      # noqa: E402
import bedrock_converse     # noqa: E402
import cohere_chat          # noqa: E402
import fixtures             # noqa: E402
import gemini               # noqa: E402
import mistral_chat         # noqa: E402
import ollama_chat          # noqa: E402
import openai_chat          # noqa: E402
from exchange import Exchange   # noqa: E402

# Mistral and Azure AI inference come before OpenAI: its generic `{prefix}/chat/completions` route matches their paths.
PROTOCOLS = [mistral_chat, azure_inference, openai_chat, anthropic_messages, gemini, ollama_chat, cohere_chat,
             bedrock_converse]
REDACTED_HEADERS = {"authorization", "api-key", "x-api-key", "x-goog-api-key", "proxy-authorization",
                    "x-amz-security-token"}
REDACTED_QUERY = {"key", "access_token"}        # Gemini's ?key=, Google's ?access_token=
_SECRET_IN_QUERY = re.compile(r"([?&](?:key|access_token)=)[^&\s]*")
MAX_BODY = 64 * 1024 * 1024


def redacted(value):
    return "<redacted:%d chars>" % len(value)


def _json_error(message):
    # Unknown URL / method errors use OpenAI's shape, the most common one among the emulated providers.
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}


# ---- internal endpoints --------------------------------------------------------------------------------------------
def health(ex):
    ex.send_json(200, {"status": "ok"}, pretty=False)


def last_request(ex):
    with ex.server.lock:
        rec = ex.server.last_request
    ex.send_json(200, rec if rec is not None else {}, pretty=False)


INTERNAL_ROUTES = [("GET", r"^/health$", health), ("GET", r"^/_emulator/last_request$", last_request)]


def _compile_routes():
    table = []
    for method, pattern, fn in INTERNAL_ROUTES + [r for m in PROTOCOLS for r in m.ROUTES]:
        table.append((method, re.compile(pattern), fn))
    return table


# ---- HTTP ---------------------------------------------------------------------------------------------------------
class BadRequestBody(Exception):
    status = 400


class BodyTooLarge(BadRequestBody):
    status = 413        # what the providers' front ends answer to a body over their limit

    def __init__(self, message, unread=0):
        super().__init__(message)
        self.unread = unread    # declared body bytes not read: drained after the answer (_linger)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"       # keep-alive; BaseHTTPRequestHandler then also answers Expect: 100-continue
    server_version = "anyllm-emulator"
    sys_version = ""

    def setup(self):
        super().setup()
        try:    # small writes (headers, then SSE events) must not wait for Nagle + delayed ACK
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.server.verbose:     # the request line may carry ?key=...: never log its value
            super().log_message(fmt, *[_SECRET_IN_QUERY.sub(r"\1<redacted>", a) if isinstance(a, str) else a
                                       for a in args])

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, socket.timeout, ssl.SSLError):
            # The client went away, or (TLS) refused our certificate during the handshake: nothing to answer.
            self.close_connection = True

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            parts, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionResetError("eof in chunked body")
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BadRequestBody("bad chunk size line")
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass                    # skip trailers
                    return b"".join(parts)
                total += size
                if total > MAX_BODY:
                    raise BodyTooLarge("the body is larger than %d MiB" % (MAX_BODY >> 20))
                data = self.rfile.read(size)
                if len(data) < size:
                    raise ConnectionResetError("eof in chunk")
                parts.append(data)
                self.rfile.readline(3)          # the CRLF after each chunk
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise BadRequestBody("bad Content-Length")
        if n > MAX_BODY:
            raise BodyTooLarge("the body is larger than %d MiB" % (MAX_BODY >> 20), unread=n)
        if n < 0:
            raise BadRequestBody("bad Content-Length")
        data = self.rfile.read(n)               # BufferedReader.read(n) loops until n bytes or EOF
        if len(data) < n:
            raise ConnectionResetError("eof in body")
        return data

    def _linger(self, n):
        """After an early answer (413 before the body was read), reads and drops up to `n` more bytes
        for at most 10 s before the connection closes, as nginx's lingering_close does: closing with
        unread data makes the kernel reset the connection, and a client still sending then loses the
        answer to a broken pipe, depending on timing."""
        deadline = time.monotonic() + 10
        try:
            while n > 0 and time.monotonic() < deadline:
                data = self.rfile.read1(min(n, 1 << 20))
                if not data:
                    break
                n -= len(data)
        except OSError:
            pass

    def _record(self, path, query, body):
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            if name in REDACTED_HEADERS:
                value = redacted(value)
            headers[name] = headers[name] + ", " + value if name in headers else value
        try:
            parsed = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            parsed = body.decode("utf-8", "replace")
        query = {k: (redacted(v) if k in REDACTED_QUERY else v) for k, v in query.items()}
        with self.server.lock:
            self.server.last_request = {"method": self.command, "path": path, "query": query,
                                        "headers": headers, "body": parsed}

    def _dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path or "/"
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        ex = None
        try:
            try:
                body = self._read_body()
            except BadRequestBody as e:
                self.close_connection = True    # framing is unknown now, so the connection cannot be reused
                ex = Exchange(self, self.command, path, query, url.query, b"")
                ex.send_json(e.status, _json_error("Could not read the request body: %s." % e))
                self._linger(getattr(e, "unread", 0))
                return
            if not (path.startswith("/_emulator/") or path == "/health"):
                self._record(path, query, body)
            ex = Exchange(self, self.command, path, query, url.query, body)
            allowed = []
            for method, pattern, fn in self.server.routes:
                m = pattern.match(path)
                if not m:
                    continue
                if method != self.command:
                    allowed.append(method)
                    continue
                ex.match = m
                return fn(ex)
            if allowed:
                return ex.send_json(405, _json_error("Invalid method for URL (%s %s)" % (self.command, path)),
                                    [("Allow", ", ".join(sorted(set(allowed))))])
            return ex.send_json(404, _json_error("Invalid URL (%s %s)" % (self.command, path)))
        except (ConnectionError, TimeoutError, socket.timeout):
            self.close_connection = True
        except Exception:
            # A bug in a protocol module: answer 500 if we still can, and keep serving other connections.
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if ex is not None and not ex.headers_sent and not ex.dead:
                try:
                    ex.send_json(500, {"error": {"message": "emulator internal error", "type": "server_error",
                                                 "param": None, "code": None}})
                except OSError:
                    pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True                  # a stalled stream must never keep the process alive
    allow_reuse_address = True
    request_queue_size = 1024              # C tests open many connections at once

    def __init__(self, address, fixtures_dir, verbose=False):
        self.fixtures_dir = fixtures_dir
        self.verbose = verbose
        self.gzip = False
        self.lock = threading.Lock()
        self.last_request = None
        self.routes = _compile_routes()
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind calls getfqdn(), a reverse-DNS lookup that can take seconds on some hosts.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError)) or (
                isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.ECONNRESET, errno.EBADF, errno.ENOTCONN)):
            return                         # clients hanging up mid-answer are routine in fault tests
        super().handle_error(request, client_address)


def _watch_stdin():
    """Exit when stdin reaches EOF: the parent (a test runner) closed it or died."""
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    sys.stdout.flush()
    os._exit(0)


def main(argv=None):
    ap = argparse.ArgumentParser(description="anyllm provider emulator")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    ap.add_argument("--fixtures", default=fixtures.default_dir(), help="recorded fixtures folder for replay:NAME")
    ap.add_argument("--no-stdin-watch", action="store_true", help="keep running when stdin reaches EOF")
    ap.add_argument("--verbose", action="store_true", help="log each request to stderr")
    ap.add_argument("--gzip", action="store_true",
                    help="gzip non-streamed bodies when the request's Accept-Encoding allows it (as OpenAI's edge does)")
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="the certificate's PEM private key (default: in --tls-cert)")
    args = ap.parse_args(argv)
    if args.tls_key and not args.tls_cert:
        ap.error("--tls-key needs --tls-cert")

    server = EmulatorServer(("127.0.0.1", args.port), os.path.abspath(args.fixtures), args.verbose)
    server.gzip = args.gzip
    scheme = "http"
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # The handshake runs on the connection's own thread (at its first read), not in accept(): a client
        # that stalls or refuses the certificate must not hold up the other connections.
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"
    # The handler goes in before the announcement: a parent may send SIGTERM as soon as it reads it.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print("ANYLLM_EMULATOR %s://127.0.0.1:%d" % (scheme, server.server_address[1]), flush=True)
    if not args.no_stdin_watch:
        threading.Thread(target=_watch_stdin, name="stdin-watch", daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
