"""Scripted transport faults shared by every protocol module.

Each helper works on an Exchange and knows nothing about any wire protocol: the protocol module decides *what*
bytes an answer has; these decide *how badly* they are delivered (cut off, delayed, dribbled out byte by byte).
"""

import socket
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
                 interrupt=b""):
    """Write a list of (bytes, tag) stream events with the plan's faults applied.

    tag is "head" (role/start events), "body" (content, reasoning, tool-call fragments: the pieces the faults
    count) or "tail" (finish, usage, terminator). The caller has already started the stream.
      stall_ms        silence after the first event
      piece_delay_ms  pause between body events
      drop_after      after this many body events, close abruptly (no further event, no chunked terminator)
      interrupt_after after this many body events, write `interrupt` instead of the rest and end the stream
    Returns False when the connection was cut on purpose.
    """
    seen = 0
    for i, (data, tag) in enumerate(events):
        if tag != "head":
            # Reaching the tail also triggers the fault, so a short answer still never ends properly.
            if drop_after is not None and (seen >= drop_after or tag == "tail"):
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
    ex.end_stream()
    return True


def send_body(ex, status, body, content_type, headers, plan):
    """A complete (non-streamed) answer with the plan's delivery faults: drop-after cuts the body in half,
    split-utf8 writes it one byte per write. delay_before_ms is the caller's business (it waits before checks)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if plan.drop_after is not None:
        return send_truncated(ex, status, body, content_type, headers)
    if plan.bytewise:
        ex.send(status, b"", content_type, headers, content_length=len(body))
        return write_bytewise(ex, body)
    return ex.send(status, body, content_type, headers)


def stream_with_faults(ex, events, plan, interrupt=b""):
    """Write an already-started stream of (bytes, tag) events with every delivery fault of the plan applied:
    split-utf8 (one byte per write), slow, stall, drop-after and error-event (`interrupt` after two pieces)."""
    if plan.bytewise:
        write_bytewise(ex, b"".join(data for data, _ in events))
        ex.end_stream()
        return True
    return write_events(ex, events, piece_delay_ms=plan.piece_delay_ms, stall_ms=plan.stall_ms,
                        drop_after=plan.drop_after, interrupt_after=plan.error_event_after, interrupt=interrupt)
