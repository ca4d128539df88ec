// A strict RFC 8259 JSON reader over raw bytes. Foundation's JSONSerialization runs at 5–57 MB/s on
// this platform (see docs/design notes); this one works directly on the UTF-8 buffer, validates
// UTF-8, handles \u escapes with surrogate pairs, and refuses pathological nesting instead of
// overflowing the stack.

struct JSONParseError: Error, CustomStringConvertible, Sendable {
    let message: String
    let offset: Int
    var description: String { "\(message) at byte \(offset)" }
}

enum JSONReader {
    /// Deep enough for any real request or response, shallow enough that recursion cannot
    /// exhaust a thread's stack (hostile input: "[[[[..." 200,000 levels deep).
    static let maxDepth = 512

    static func parse(_ text: String) throws -> JSON {
        var copy = text
        return try copy.withUTF8 { buf in try parse(UnsafeRawBufferPointer(buf)) }
    }

    static func parse(_ bytes: [UInt8]) throws -> JSON {
        try bytes.withUnsafeBytes { buf in try parse(buf) }
    }

    static func parse(_ buf: UnsafeRawBufferPointer) throws(JSONParseError) -> JSON {
        var p = JSONScanner(buf: buf)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.pos != buf.count { throw p.fail("unexpected data after the JSON value") }
        return v
    }
}

/// The byte-level reader behind JSONReader, also used by JSONSkim to walk JSON without building it.
struct JSONScanner {
    let buf: UnsafeRawBufferPointer
    var pos = 0

    init(buf: UnsafeRawBufferPointer) { self.buf = buf }

    func fail(_ msg: String) -> JSONParseError { JSONParseError(message: msg, offset: pos) }

    @inline(__always) var atEnd: Bool { pos >= buf.count }
    @inline(__always) func peek() -> UInt8 { buf[pos] }

    /// Inlined: called around every key and value, and compact JSON (the common case) has no space.
    @inline(__always)
    mutating func skipSpace() {
        if pos < buf.count && buf[pos] > 0x20 { return }
        skipSpaceRun()
    }

    /// The loop of skipSpace, out of line: inlined at each of its call sites it made every one
    /// bigger for the uncommon case (compact JSON, every stream chunk, has no space). A run of
    /// spaces (indentation) goes 8 bytes a step, up to its first other byte. OpenAI's answer,
    /// checked by the answer skim: compact 500 → 465 ns; indented two spaces a level, as OpenAI
    /// sends it, 665 → 640 ns (a byte loop out of line: 740).
    @inline(never)
    mutating func skipSpaceRun() {
        guard let base = buf.baseAddress else { return }
        let n = buf.count
        var p = pos
        while p < n {
            let c = base.load(fromByteOffset: p, as: UInt8.self)
            if c == 0x20 && p + 8 <= n {
                let x = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p, as: UInt64.self)) ^ 0x2020_2020_2020_2020
                p += x == 0 ? 8 : x.trailingZeroBitCount >> 3  // the spaces before the first other byte
            } else if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
                p += 1
            } else {
                break
            }
        }
        pos = p
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSON {
        guard !atEnd else { throw fail("unexpected end of JSON") }
        switch peek() {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character '\(printable(peek()))'")
        }
    }

    func printable(_ c: UInt8) -> String {
        (c >= 0x20 && c < 0x7F) ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= buf.count else { throw fail("invalid literal") }
        let w = UnsafeRawBufferPointer(start: word.utf8Start, count: n)
        for i in 0..<n where buf[pos + i] != w[i] { throw fail("invalid literal") }
        pos += n
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSON {
        if depth > JSONReader.maxDepth { throw fail("JSON nested deeper than \(JSONReader.maxDepth) levels") }
        pos += 1
        var members: [(key: String, value: JSON)] = []
        members.reserveCapacity(8)  // one allocation for a typical chunk object instead of growing 1→2→4→8
        skipSpace()
        if !atEnd && peek() == UInt8(ascii: "}") { pos += 1; return .object(JSONObject(members)) }
        while true {
            skipSpace()
            guard !atEnd, peek() == UInt8(ascii: "\"") else { throw fail("expected a string key in object") }
            let key = try string()
            skipSpace()
            guard !atEnd, peek() == UInt8(ascii: ":") else { throw fail("expected ':' after object key") }
            pos += 1
            skipSpace()
            let v = try value(depth: depth)
            members.append((key, v))
            skipSpace()
            guard !atEnd else { throw fail("unexpected end of JSON in object") }
            let c = peek()
            pos += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return .object(JSONObject(members)) }
            pos -= 1
            throw fail("expected ',' or '}' in object")
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSON {
        if depth > JSONReader.maxDepth { throw fail("JSON nested deeper than \(JSONReader.maxDepth) levels") }
        pos += 1
        var items: [JSON] = []
        items.reserveCapacity(4)
        skipSpace()
        if !atEnd && peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value(depth: depth))
            skipSpace()
            guard !atEnd else { throw fail("unexpected end of JSON in array") }
            let c = peek()
            pos += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "]") { return .array(items) }
            pos -= 1
            throw fail("expected ',' or ']' in array")
        }
    }

    mutating func number() throws(JSONParseError) -> String {
        let start = pos
        try scanNumber()
        return String(decoding: UnsafeRawBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
    }

    /// Validates a number and moves past it (JSON's grammar: no leading zeros, a digit after '.'
    /// and in an exponent).
    mutating func scanNumber() throws(JSONParseError) {
        if peek() == UInt8(ascii: "-") { pos += 1 }
        guard !atEnd else { throw fail("invalid number") }
        if peek() == UInt8(ascii: "0") {
            pos += 1
        } else if isDigit(peek()) {
            while !atEnd && isDigit(peek()) { pos += 1 }
        } else {
            throw fail("invalid number")
        }
        if !atEnd && peek() == UInt8(ascii: ".") {
            pos += 1
            guard !atEnd, isDigit(peek()) else { throw fail("invalid number: digit expected after '.'") }
            while !atEnd && isDigit(peek()) { pos += 1 }
        }
        if !atEnd && (peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E")) {
            pos += 1
            if !atEnd && (peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-")) { pos += 1 }
            guard !atEnd, isDigit(peek()) else { throw fail("invalid number: digit expected in exponent") }
            while !atEnd && isDigit(peek()) { pos += 1 }
        }
    }

    @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// Reads a string starting at its opening quote. The fast path (no escapes) copies the bytes
    /// once after validating them as UTF-8.
    mutating func string() throws(JSONParseError) -> String {
        pos += 1
        let start = pos
        // Hot loop on a local pointer and index (not through self), up to the closing quote or
        // the first escape.
        if let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            var p = pos
            let end = buf.count
            while p < end {
                p = ByteScan.stringStop(base, from: p, to: end)  // plain ASCII, 8 bytes a step
                if p >= end { break }
                let c = base[p]
                if c == UInt8(ascii: "\"") {
                    pos = p
                    let raw = UnsafeRawBufferPointer(rebasing: buf[start..<p])
                    guard let s = makeString(raw) else { throw fail("invalid UTF-8 in string") }
                    pos = p + 1
                    return s
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 {
                    pos = p
                    throw fail("unescaped control character in string")
                }
                p += 1  // a non-ASCII byte: checked with the rest by makeString
            }
            pos = p
        }
        guard pos < buf.count else { throw fail("unterminated string") }
        // Slow path: there are escapes.
        var out: [UInt8] = []
        out.reserveCapacity(pos - start + 16)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[start..<pos]))
        while pos < buf.count {
            // The text up to the next quote, backslash or control byte, appended in one piece
            // (byte by byte, text after a first escape cost more than the rest of the parse).
            if let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) {
                let stop = ByteScan.escapeStop(base, from: pos, to: buf.count)
                if stop > pos {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[pos..<stop]))
                    pos = stop
                    guard pos < buf.count else { break }
                }
            }
            let c = buf[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                guard let s = out.withUnsafeBytes({ makeString($0) }) else { throw fail("invalid UTF-8 in string") }
                return s
            }
            if c < 0x20 { throw fail("unescaped control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); pos += 1; continue }
            pos += 1
            guard pos < buf.count else { throw fail("unterminated escape") }
            let e = buf[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"): appendUTF8(&out, try unicodeEscape())
            default:
                pos -= 1
                throw fail("invalid escape '\\\(printable(e))'")
            }
        }
        throw fail("unterminated string")
    }

    /// After `\u`: the escaped code point; a high surrogate must be followed by an escaped low one.
    mutating func unicodeEscape() throws(JSONParseError) -> UInt32 {
        let scalar = try hex4()
        if scalar >= 0xD800 && scalar < 0xDC00 {
            guard pos + 1 < buf.count, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u") else {
                throw fail("unpaired surrogate in \\u escape")
            }
            pos += 2
            let low = try hex4()
            guard low >= 0xDC00 && low < 0xE000 else { throw fail("invalid low surrogate in \\u escape") }
            return 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        if scalar >= 0xDC00 && scalar < 0xE000 { throw fail("unpaired surrogate in \\u escape") }
        return scalar
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= buf.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = buf[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }
}

/// A String from bytes that must be valid UTF-8 (nil when they are not). ASCII, by far the common
/// case in JSON, skips the generic validating initializer, which was a tenth of a call's cost.
@inline(__always)
func makeString(_ raw: UnsafeRawBufferPointer) -> String? {
    if isASCII(raw) { return String(decoding: raw, as: UTF8.self) }
    return String(validating: raw, as: UTF8.self)
}

/// True when no byte is at or above 0x80; 8 bytes a step (a base64 image is a megabyte of ASCII).
@inline(__always)
func isASCII(_ raw: UnsafeRawBufferPointer) -> Bool {
    guard let base = raw.baseAddress else { return true }
    let n = raw.count
    var i = ByteScan.asciiWords(base, from: 0, to: n)
    while i < n {
        if raw[i] >= 0x80 { return false }
        i += 1
    }
    return true
}

@inline(__always)
func appendUTF8(_ out: inout [UInt8], _ s: UInt32) {
    switch s {
    case 0..<0x80:
        out.append(UInt8(s))
    case 0x80..<0x800:
        out.append(UInt8(0xC0 | (s >> 6))); out.append(UInt8(0x80 | (s & 0x3F)))
    case 0x800..<0x10000:
        out.append(UInt8(0xE0 | (s >> 12))); out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (s & 0x3F)))
    default:
        out.append(UInt8(0xF0 | (s >> 18))); out.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((s >> 6) & 0x3F))); out.append(UInt8(0x80 | (s & 0x3F)))
    }
}
