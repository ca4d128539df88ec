"""Scripted transport faults shared by every protocol module.

Each helper works on an Exchange and knows nothing about any wire protocol: the protocol module decides *what*
bytes an answer has; these decide *how badly* they are delivered (cut off, delayed, dribbled out byte by byte).
"""

import email.utils
import socket
import struct
import time

# A body that is not JSON at all (what a misbehaving proxy or a captive portal might send with a JSON type).
GARBAGE = b"<<<this is not json>>>"

# Pause between single-byte writes: long enough for each byte to leave in its own TCP segment (TCP_NODELAY),
# short enough that a ~2 KB body still arrives in about a second.
BYTEWISE_PAUSE_S = 0.0004


def stall(ms):
    if ms > 0:
        time.sleep(ms / 1000.0)


def abrupt_close(ex):
    """Close the connection mid-body: no chunked terminator, no remaining Content-Length bytes.

    shutdown() sends the FIN at once (close() alone would wait for the handler's file objects to let go of the
    socket). We deliberately do not send an RST (SO_LINGER 0): a reset can make the peer's kernel throw away
    bytes it already received, and the client must see exactly the bytes we wrote before the cut.
    """
    ex.dead = True
    ex.chunked = False
    ex.close_after()
    try:
        ex.handler.wfile.flush()
    except OSError:
        pass
    try:
        ex.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        ex.sock.close()
    except OSError:
        pass


def reset(ex, linger_s=0.0):
    """Reset the connection (RST, not FIN): SO_LINGER with a zero timeout makes close() abort it. linger_s first
    waits, so that bytes already written reach the client's application before the reset can discard them."""
    ex.dead = True
    ex.chunked = False
    ex.close_after()
    try:
        ex.handler.wfile.flush()
    except OSError:
        pass
    if linger_s:
        time.sleep(linger_s)
    try:
        ex.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        ex.sock.close()
    except OSError:
        pass


# Bytes that are not UTF-8 (a lone continuation byte, an overlong "/", a truncated 3-byte sequence, 0xff), written
# in place of INVALID_UTF8_MARK wherever the answer text carries it.
INVALID_UTF8 = b"\x80\xc0\xaf\xe2\x82\xff"
INVALID_UTF8_MARK = b"BAD_UTF8_HERE"


def retry_after_header(failure):
    """("Retry-After", value) of a rate-limit failure: its seconds when scripted (retry-after-N), else an HTTP
    date 3 s ahead (retry-after-date)."""
    if getattr(failure, "retry_after_secs", None) is not None:
        return ("Retry-After", str(failure.retry_after_secs))
    return ("Retry-After", email.utils.formatdate(time.time() + 3, usegmt=True))


def transport_fault(ex, plan):
    """Faults that do not depend on the wire protocol at all, answered before the protocol renders anything:
    reset before headers, an error status whose body is not JSON (text or empty), and a 401 that echoes the
    credential it received. Every protocol module calls this first; True when it answered."""
    if plan.reset_before_headers:
        reset(ex)
        return True
    if plan.raw_status is not None:
        status, kind = plan.raw_status
        if kind == "text":
            ex.send(status, "upstream error %d: the service is unavailable\n" % status, "text/plain; charset=utf-8")
        else:
            ex.send(status, b"", "text/plain")
        return True
    if plan.echo_key:
        got = [ex.header(h) for h in ("Authorization", "api-key", "x-api-key", "x-goog-api-key",
                                      "x-amz-security-token")]
        got += [ex.query.get(q) for q in ("key", "access_token")]
        got = [g for g in got if g]
        body = {"error": {"message": "Incorrect API key provided: %s." % " / ".join(got) if got else "No key provided.",
                          "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
        ex.send_json(401, body)
        return True
    return False


def _bytes_faults(plan, data):
    """Byte-level edits of an answer: invalid UTF-8 in place of its marker."""
    if plan.bad_utf8:
        data = data.replace(INVALID_UTF8_MARK, INVALID_UTF8)
    return data


def truncate_payload(data):
    """An event or body cut inside its JSON, its trailing framing (blank line, newline) kept, so the transport
    and framing stay intact and only the JSON is incomplete."""
    body = data.rstrip(b"\r\n")
    tail = data[len(body):]
    start = body.find(b"{")
    cut = max(start + 2, len(body) - max(3, (len(body) - start) // 3))
    return body[:cut] + tail


def trickle(ex, data, ms, count):
    """The first `count` bytes one per write, `ms` apart (inside the current framing), then the rest at once: bytes
    keep flowing for count x ms while no silence lasts longer than ms."""
    ex.set_nodelay()
    head, rest = data[:count], data[count:]
    for i in range(len(head)):
        ex.write(head[i:i + 1])
        time.sleep(ms / 1000.0)
    ex.write(rest)


def write_bytewise(ex, data, pause_s=BYTEWISE_PAUSE_S):
    """Send data one byte per write (inside the current framing), so every multi-byte UTF-8 character and every
    line ending gets split across reads on the client side."""
    ex.set_nodelay()
    for i in range(len(data)):
        ex.write(data[i:i + 1])
        if pause_s:
            time.sleep(pause_s)


def send_truncated(ex, status, body, content_type, headers=()):
    """Non-streamed drop: announce the full Content-Length, send only the first half, then cut."""
    ex.send(status, body[: len(body) // 2], content_type, headers, content_length=len(body))
    abrupt_close(ex)


def write_events(ex, events, *, piece_delay_ms=0, stall_ms=0, drop_after=None, interrupt_after=None,
                 interrupt=b"", reset_after=None, truncate_after=None, cut_mid_event=False):
    """Write a list of (bytes, tag) stream events with the plan's faults applied.

    tag is "head" (role/start events), "body" (content, reasoning, tool-call fragments: the pieces the faults
    count) or "tail" (finish, usage, terminator). The caller has already started the stream.
      stall_ms        silence after the first event
      piece_delay_ms  pause between body events
      drop_after      after this many body events, close abruptly (no further event, no chunked terminator)
      interrupt_after after this many body events, write `interrupt` instead of the rest and end the stream
      reset_after     after this many body events, reset the connection (RST)
      truncate_after  after this many body events, write the next event with its JSON cut short, then end the
                      stream properly
      cut_mid_event   a drop or reset first writes the first half of the next event (binary framings: the cut
                      lands inside a frame, not between two)
    Returns False when the connection was cut on purpose.
    """
    seen = 0
    for i, (data, tag) in enumerate(events):
        if tag != "head":
            if reset_after is not None and (seen >= reset_after or tag == "tail"):
                if cut_mid_event:
                    ex.write(data[:len(data) // 2])
                reset(ex, linger_s=0.2)
                return False
            if truncate_after is not None and seen >= truncate_after:
                ex.write(truncate_payload(data))
                ex.end_stream()
                ex.close_after()
                return True
            # Reaching the tail also triggers the fault, so a short answer still never ends properly.
            if drop_after is not None and (seen >= drop_after or tag == "tail"):
                if cut_mid_event:
                    ex.write(data[:len(data) // 2])
                abrupt_close(ex)
                return False
            if interrupt_after is not None and (seen >= interrupt_after or tag == "tail"):
                ex.write(interrupt)
                ex.end_stream()
                ex.close_after()
                return True
        if tag == "body":
            if seen and piece_delay_ms:
                time.sleep(piece_delay_ms / 1000.0)
            seen += 1
        ex.write(data)
        if i == 0 and stall_ms:
            stall(stall_ms)
    if drop_after is not None:              # a stream without tail events: still never end it properly
        abrupt_close(ex)
        return False
    if reset_after is not None:
        reset(ex, linger_s=0.2)
        return False
    ex.end_stream()
    return True


def send_body(ex, status, body, content_type, headers, plan):
    """A complete (non-streamed) answer with the plan's delivery faults: drop-after cuts the body in half,
    split-utf8 writes it one byte per write. delay_before_ms is the caller's business (it waits before checks)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    body = _bytes_faults(plan, body)
    if plan.drop_after is not None:
        return send_truncated(ex, status, body, content_type, headers)
    if plan.reset_after is not None:
        ex.send(status, body[: len(body) // 2], content_type, headers, content_length=len(body))
        return reset(ex, linger_s=0.2)
    if plan.truncate_json:
        return ex.send(status, truncate_payload(body), content_type, headers)
    if plan.trickle is not None:
        ex.send(status, b"", content_type, headers, content_length=len(body))
        return trickle(ex, body, *plan.trickle)
    if plan.bytewise:
        ex.send(status, b"", content_type, headers, content_length=len(body))
        return write_bytewise(ex, body)
    return ex.send(status, body, content_type, headers)


def stream_with_faults(ex, events, plan, interrupt=b"", cut_mid_event=False):
    """Write an already-started stream of (bytes, tag) events with every delivery fault of the plan applied:
    split-utf8 (one byte per write), slow, stall, drop-after, reset-after, trickle, truncated-json, bad-utf8 and
    error-event (`interrupt` after two pieces)."""
    events = [(_bytes_faults(plan, data), tag) for data, tag in events]
    if plan.trickle is not None:
        trickle(ex, b"".join(data for data, _ in events), *plan.trickle)
        ex.end_stream()
        return True
    if plan.bytewise:
        write_bytewise(ex, b"".join(data for data, _ in events))
        ex.end_stream()
        return True
    return write_events(ex, events, piece_delay_ms=plan.piece_delay_ms, stall_ms=plan.stall_ms,
                        drop_after=plan.drop_after, interrupt_after=plan.error_event_after, interrupt=interrupt,
                        reset_after=plan.reset_after, truncate_after=2 if plan.truncate_json else None,
                        cut_mid_event=cut_mid_event)
