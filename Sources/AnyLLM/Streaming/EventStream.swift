// The AWS event-stream binary framing (`application/vnd.amazon.eventstream`), decoded
// incrementally from whatever byte pieces the network delivers. Used by Bedrock's
// ConverseStream. Pure: it knows nothing of the events' meaning.
//
// One message:  total length u32 | headers length u32 | prelude CRC32 u32   (the 12-byte prelude)
//               headers (name length u8, name, value type u8, value)…
//               payload
//               message CRC32 u32 (of everything before it)
// All integers big-endian; CRC32 is the IEEE/zlib one. Both CRCs are checked: a corrupt frame is an
// error, never bytes handed on.

enum EventStreamHeaderValue: Equatable, Sendable {
    case bool(Bool)
    case byte(Int8)
    case short(Int16)
    case int(Int32)
    case long(Int64)
    case bytes([UInt8])
    case string(String)
    /// Milliseconds since the Unix epoch.
    case timestamp(Int64)
    case uuid([UInt8])
}

struct EventStreamMessage: Sendable {
    var headers: [(name: String, value: EventStreamHeaderValue)]
    var payload: [UInt8]

    /// A string header's value (`:event-type`, `:message-type`, ...).
    func string(_ name: String) -> String? {
        for h in headers where h.name == name { if case .string(let s) = h.value { return s } }
        return nil
    }
}

enum EventStreamError: Error, Equatable, CustomStringConvertible {
    case preludeCRC
    case messageCRC
    case badLength(Int)
    case badHeader(String)
    /// The body ended inside a message.
    case truncated(Int)

    var description: String {
        switch self {
        case .preludeCRC: return "an event-stream frame has a bad prelude CRC"
        case .messageCRC: return "an event-stream frame has a bad message CRC"
        case .badLength(let n): return "an event-stream frame declares an impossible length (\(n))"
        case .badHeader(let why): return "an event-stream frame has a malformed header (\(why))"
        case .truncated(let n): return "the event stream ended inside a frame (\(n) bytes left over)"
        }
    }
}

enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<C: Collection>(_ bytes: C, seed: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        var c = ~seed
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }
}

struct EventStreamDecoder: Sendable {
    /// AWS's limits: a message of at most 16 MiB, headers of at most 128 KiB.
    static let maxMessage = 16 << 20
    static let maxHeaders = 128 << 10
    private var buf: [UInt8] = []
    private var start = 0

    init() {}

    /// Feeds the next bytes; complete messages are appended to `messages`, in order.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, into messages: inout [EventStreamMessage]) throws(EventStreamError) {
        buf.append(contentsOf: bytes)
        while buf.count - start >= 12 {
            let total = Int(u32(start)), headersLen = Int(u32(start + 4))
            if CRC32.checksum(buf[start..<(start + 8)]) != u32(start + 8) { throw .preludeCRC }
            guard total >= 16, total <= Self.maxMessage, headersLen <= Self.maxHeaders, headersLen <= total - 16 else {
                throw .badLength(total)
            }
            guard buf.count - start >= total else { break }
            if CRC32.checksum(buf[start..<(start + total - 4)]) != u32(start + total - 4) { throw .messageCRC }
            let headers = try parseHeaders(start + 12, start + 12 + headersLen)
            messages.append(EventStreamMessage(headers: headers, payload: Array(buf[(start + 12 + headersLen)..<(start + total - 4)])))
            start += total
        }
        // Drop consumed bytes once they dominate the buffer (amortised O(1) per byte).
        if start > 0 && start * 2 >= buf.count {
            buf.removeFirst(start)
            start = 0
        }
    }

    /// The body has ended: leftover bytes mean the last frame was cut.
    func finish() throws(EventStreamError) {
        if buf.count > start { throw .truncated(buf.count - start) }
    }

    private func u32(_ i: Int) -> UInt32 {
        UInt32(buf[i]) << 24 | UInt32(buf[i + 1]) << 16 | UInt32(buf[i + 2]) << 8 | UInt32(buf[i + 3])
    }

    private func parseHeaders(_ from: Int, _ end: Int) throws(EventStreamError) -> [(name: String, value: EventStreamHeaderValue)] {
        var out: [(name: String, value: EventStreamHeaderValue)] = []
        var i = from
        func need(_ n: Int) throws(EventStreamError) { if i + n > end { throw .badHeader("runs past the header block") } }
        func int(_ n: Int) throws(EventStreamError) -> UInt64 {
            try need(n)
            var v: UInt64 = 0
            for k in 0..<n { v = v << 8 | UInt64(buf[i + k]) }
            i += n
            return v
        }
        while i < end {
            let nameLen = Int(try int(1))
            guard nameLen > 0 else { throw .badHeader("empty name") }
            try need(nameLen)
            let name = String(decoding: buf[i..<(i + nameLen)], as: UTF8.self)
            i += nameLen
            let type = try int(1)
            let value: EventStreamHeaderValue
            switch type {
            case 0: value = .bool(true)
            case 1: value = .bool(false)
            case 2: value = .byte(Int8(truncatingIfNeeded: try int(1)))
            case 3: value = .short(Int16(truncatingIfNeeded: try int(2)))
            case 4: value = .int(Int32(truncatingIfNeeded: try int(4)))
            case 5: value = .long(Int64(bitPattern: try int(8)))
            case 6, 7:
                let n = Int(try int(2))
                try need(n)
                let bytes = Array(buf[i..<(i + n)])
                i += n
                value = type == 6 ? .bytes(bytes) : .string(String(decoding: bytes, as: UTF8.self))
            case 8: value = .timestamp(Int64(bitPattern: try int(8)))
            case 9:
                try need(16)
                value = .uuid(Array(buf[i..<(i + 16)]))
                i += 16
            default: throw .badHeader("unknown value type \(type) for \(name)")
            }
            out.append((name, value))
        }
        return out
    }
}
