"""The AWS event-stream binary framing (`application/vnd.amazon.eventstream`), written by the emulator for
Bedrock's ConverseStream, plus a reader for the emulator's own tests.

Message: total length (u32) | headers length (u32) | prelude CRC32 (u32) | headers | payload | message CRC32 (u32),
big-endian, CRC32 as zlib computes it. A header is: name length (u8), name, value type (u8), value; the emulator
writes string values (type 7, u16 length) as Bedrock does, and the reader understands every type.
"""

import struct
import zlib

STRING = 7


def header(name, value):
    n, v = name.encode("utf-8"), value.encode("utf-8")
    return struct.pack(">B", len(n)) + n + struct.pack(">BH", STRING, len(v)) + v


def encode(headers, payload, corrupt=None):
    """One message. headers: [(name, string value)]; payload: bytes or str. corrupt: None, "prelude" or "message"
    (flip a bit of that CRC: a frame a client must reject)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    hs = b"".join(header(n, v) for n, v in headers)
    total = 12 + len(hs) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hs))
    prelude_crc = zlib.crc32(prelude) & 0xFFFFFFFF
    if corrupt == "prelude":
        prelude_crc ^= 1
    body = prelude + struct.pack(">I", prelude_crc) + hs + payload
    message_crc = zlib.crc32(body) & 0xFFFFFFFF
    if corrupt == "message":
        message_crc ^= 1
    return body + struct.pack(">I", message_crc)


def event(event_type, payload, corrupt=None):
    return encode([(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")],
                  payload, corrupt)


def exception(exception_type, payload):
    return encode([(":exception-type", exception_type), (":content-type", "application/json"),
                   (":message-type", "exception")], payload)


class Corrupt(Exception):
    pass


def decode(data):
    """bytes -> [(headers dict, payload bytes)]; raises Corrupt on a bad CRC or a cut frame."""
    out, i = [], 0
    while i < len(data):
        if len(data) - i < 12:
            raise Corrupt("truncated prelude")
        total, hlen, pcrc = struct.unpack_from(">III", data, i)
        if zlib.crc32(data[i:i + 8]) & 0xFFFFFFFF != pcrc:
            raise Corrupt("prelude crc")
        if len(data) - i < total:
            raise Corrupt("truncated message")
        (mcrc,) = struct.unpack_from(">I", data, i + total - 4)
        if zlib.crc32(data[i:i + total - 4]) & 0xFFFFFFFF != mcrc:
            raise Corrupt("message crc")
        headers, j, end = {}, i + 12, i + 12 + hlen
        while j < end:
            n = data[j]
            name = data[j + 1:j + 1 + n].decode()
            j += 1 + n
            t = data[j]
            j += 1
            if t in (0, 1):
                value = t == 0
            elif t in (2, 3, 4, 5, 8):
                size = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8}[t]
                value = int.from_bytes(data[j:j + size], "big", signed=True)
                j += size
            elif t in (6, 7):
                (ln,) = struct.unpack_from(">H", data, j)
                value = data[j + 2:j + 2 + ln]
                value = value.decode() if t == 7 else value
                j += 2 + ln
            elif t == 9:
                value = data[j:j + 16]
                j += 16
            else:
                raise Corrupt("header type %d" % t)
            headers[name] = value
        out.append((headers, data[end:i + total - 4]))
        i += total
    return out
