"""One HTTP request/response pair as the protocol modules see it.

Protocol modules never touch BaseHTTPRequestHandler directly: they read the parsed request from an Exchange and
answer through its small set of writers (a whole body with Content-Length, or a chunked stream they frame event by
event). Keeping the raw socket behind this class means the fault helpers (faults.py) and every protocol module
share one notion of "headers sent", "stream open" and "connection dead".
"""

import gzip
import json
import socket
import time
import uuid


class Exchange:
    def __init__(self, handler, method, path, query, raw_query, body, match=None):
        self.handler = handler              # the BaseHTTPRequestHandler serving this connection
        self.server = handler.server        # carries config (fixtures dir, verbose) and shared state
        self.method = method
        self.path = path                    # without the query string
        self.query = query                  # {name: last value}
        self.raw_query = raw_query
        self.headers = handler.headers      # case-insensitive email.message.Message
        self.body = body                    # bytes, exactly as received (chunked bodies already de-chunked)
        self.match = match                  # re.Match of the route, for path parameters
        self.started = time.monotonic()
        self.headers_sent = False
        self.chunked = False                # True while a chunked stream is open
        self.dead = False                   # the socket was closed on purpose (fault) or by the peer

    # ---- request side -------------------------------------------------------------------------------------------
    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def sock(self):
        return self.handler.connection

    def elapsed_ms(self):
        return int((time.monotonic() - self.started) * 1000)

    # ---- response side ------------------------------------------------------------------------------------------
    def _send_head(self, status, headers):
        h = self.handler
        h.send_response(status)
        for name, value in headers:
            h.send_header(name, value)
        h.end_headers()                     # flushes the buffered status line + headers in one write
        self.headers_sent = True

    def send(self, status, body, content_type, headers=(), content_length=None):
        """A complete body with Content-Length (non-streamed answers and all errors)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if getattr(self.server, "gzip", False) and body and content_length is None and \
                "gzip" in (self.header("Accept-Encoding") or "").lower():
            body = gzip.compress(body)
            headers = list(headers) + [("Content-Encoding", "gzip")]
        hs = [("Content-Type", content_type),
              ("Content-Length", str(len(body) if content_length is None else content_length))]
        hs += list(headers)
        self._send_head(status, hs)
        if body and self.method != "HEAD":
            self.handler.wfile.write(body)

    def send_json(self, status, obj, headers=(), pretty=True):
        # OpenAI pretty-prints non-streamed JSON with two spaces and a final newline; raw UTF-8, not \\u escapes.
        text = json.dumps(obj, indent=2 if pretty else None, ensure_ascii=False,
                          separators=None if pretty else (",", ":"))
        self.send(status, text + ("\n" if pretty else ""), "application/json", headers)

    def start_stream(self, status, content_type, headers=()):
        """Open a streamed body. HTTP/1.1 gets chunked framing we write ourselves; an HTTP/1.0 client cannot take
        chunked encoding, so it gets a raw body ended by closing the connection."""
        hs = [("Content-Type", content_type)]
        if self.handler.request_version == "HTTP/1.0":
            hs.append(("Connection", "close"))
            self.handler.close_connection = True
            self.chunked = False
        else:
            hs.append(("Transfer-Encoding", "chunked"))
            self.chunked = True
        hs += list(headers)
        self._send_head(status, hs)

    def write(self, data):
        """One piece of a stream, sent in a single send() so framing and payload leave together."""
        if not data:
            return
        if isinstance(data, str):
            data = data.encode("utf-8")
        if self.chunked:
            data = b"%x\r\n" % len(data) + data + b"\r\n"
        self.handler.wfile.write(data)

    def raw_write(self, data):
        """Bytes straight to the socket, no chunk framing (faults that break framing on purpose)."""
        self.handler.wfile.write(data)

    def end_stream(self):
        if self.chunked:
            self.handler.wfile.write(b"0\r\n\r\n")
            self.chunked = False

    def close_after(self):
        """Ask the handler loop to drop the connection once this response is done."""
        self.handler.close_connection = True

    def set_nodelay(self):
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def new_request_id():
    return "req_" + uuid.uuid4().hex
