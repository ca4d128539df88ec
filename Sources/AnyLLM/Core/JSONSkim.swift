import Glibc

// Walking JSON without building it: validation as strict as JSONReader's, no allocation except
// for the strings asked for. Stream decoders use it for the chunks that need no change, so that
// the common chunk costs a scan instead of a tree of values built, read once and freed.

extension JSONScanner {
    /// Validates one value and moves past it.
    mutating func skipValue(depth: Int) throws(JSONParseError) {
        guard !atEnd else { throw fail("unexpected end of JSON") }
        switch peek() {
        case UInt8(ascii: "{"):
            if depth + 1 > JSONReader.maxDepth { throw fail("JSON nested deeper than \(JSONReader.maxDepth) levels") }
            try skipObject(depth: depth + 1)
        case UInt8(ascii: "["):
            if depth + 1 > JSONReader.maxDepth { throw fail("JSON nested deeper than \(JSONReader.maxDepth) levels") }
            pos += 1
            skipSpace()
            if !atEnd && peek() == UInt8(ascii: "]") { pos += 1; return }
            while true {
                skipSpace()
                try skipValue(depth: depth + 1)
                skipSpace()
                guard !atEnd else { throw fail("unexpected end of JSON in array") }
                let c = peek()
                pos += 1
                if c == UInt8(ascii: ",") { continue }
                if c == UInt8(ascii: "]") { return }
                pos -= 1
                throw fail("expected ',' or ']' in array")
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw fail("unexpected character '\(printable(peek()))'")
        }
    }

    private mutating func skipObject(depth: Int) throws(JSONParseError) {
        try forEachMember { (s: inout JSONScanner, _: UnsafeRawBufferPointer) throws(JSONParseError) in
            try s.skipValue(depth: depth)
        }
    }

    /// Walks an object (at its `{`), calling `body` with each key's raw bytes (escapes not
    /// decoded: the keys we look for have none) while positioned at its value, which `body` must
    /// consume.
    mutating func forEachMember(_ body: (inout JSONScanner, UnsafeRawBufferPointer) throws(JSONParseError) -> Void)
        throws(JSONParseError) {
        guard !atEnd, peek() == UInt8(ascii: "{") else { throw fail("expected an object") }
        pos += 1
        skipSpace()
        if !atEnd && peek() == UInt8(ascii: "}") { pos += 1; return }
        while true {
            skipSpace()
            guard !atEnd, peek() == UInt8(ascii: "\"") else { throw fail("expected a string key in object") }
            let keyStart = pos + 1
            try skipString()
            let key = UnsafeRawBufferPointer(rebasing: buf[keyStart..<(pos - 1)])
            skipSpace()
            guard !atEnd, peek() == UInt8(ascii: ":") else { throw fail("expected ':' after object key") }
            pos += 1
            skipSpace()
            try body(&self, key)
            skipSpace()
            guard !atEnd else { throw fail("unexpected end of JSON in object") }
            let c = peek()
            pos += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return }
            pos -= 1
            throw fail("expected ',' or '}' in object")
        }
    }

    /// Validates a string (at its quote) without building it. Returns true when it holds an escape
    /// (its bytes between the quotes are then not its text).
    @discardableResult
    mutating func skipString() throws(JSONParseError) -> Bool {
        let start = pos + 1
        var p = start
        var ascii = true
        if let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            let end = buf.count
            while p < end {
                p = ByteScan.stringStop(base, from: p, to: end)  // plain ASCII, 8 bytes a step
                if p >= end { break }
                let c = base[p]
                if c == UInt8(ascii: "\"") {
                    if !ascii && !isValidUTF8(UnsafeRawBufferPointer(rebasing: buf[start..<p])) {
                        pos = start
                        throw fail("invalid UTF-8 in string")
                    }
                    pos = p + 1
                    return false
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 {
                    pos = p
                    throw fail("unescaped control character in string")
                }
                if c >= 0x80 { ascii = false }
                p += 1
            }
        }
        // Escapes (rare outside content): the full reader checks them.
        _ = try string()
        return true
    }

    /// A string value (at its quote), or nil when the value is `null`; anything else fails.
    mutating func stringOrNull() throws(JSONParseError) -> String?? {
        guard !atEnd else { throw fail("unexpected end of JSON") }
        if peek() == UInt8(ascii: "\"") { return .some(try string()) }
        if peek() == UInt8(ascii: "n") { try literal("null"); return .some(nil) }
        return nil
    }

    /// True when the value here is `null` (consumed); otherwise nothing is consumed.
    mutating func skipNull() throws(JSONParseError) -> Bool {
        guard !atEnd, peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// A small non-negative integer value, or nil (nothing consumed) when the value is not one.
    mutating func smallInt() -> Int? {
        var p = pos, v = 0
        while p < buf.count, buf[p] >= 0x30, buf[p] <= 0x39, p - pos < 9 { v = v * 10 + Int(buf[p] - 0x30); p += 1 }
        if p == pos || (buf[pos] == 0x30 && p - pos > 1) { return nil }
        if p < buf.count, buf[p] == UInt8(ascii: ".") || buf[p] == UInt8(ascii: "e") || buf[p] == UInt8(ascii: "E")
            || (buf[p] >= 0x30 && buf[p] <= 0x39) { return nil }
        pos = p
        return v
    }

    /// Without making the String `number()` returns (five numbers in a usual answer).
    private mutating func skipNumber() throws(JSONParseError) { try scanNumber() }
}

/// Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF), as Swift's
/// validating String initializer does, without building a String.
func isValidUTF8(_ b: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    let n = b.count
    while i < n {
        let c = b[i]
        if c < 0x80 { i += 1; continue }
        func cont(_ k: Int) -> Bool { i + k < n && b[i + k] & 0xC0 == 0x80 }
        switch c {
        case 0xC2...0xDF:
            guard cont(1) else { return false }
            i += 2
        case 0xE0...0xEF:
            guard cont(1), cont(2) else { return false }
            let c1 = b[i + 1]
            if c == 0xE0 && c1 < 0xA0 { return false }  // overlong
            if c == 0xED && c1 > 0x9F { return false }  // surrogate
            i += 3
        case 0xF0...0xF4:
            guard cont(1), cont(2), cont(3) else { return false }
            let c1 = b[i + 1]
            if c == 0xF0 && c1 < 0x90 { return false }  // overlong
            if c == 0xF4 && c1 > 0x8F { return false }  // above U+10FFFF
            i += 4
        default:
            return false
        }
    }
    return true
}

@inline(__always)
func bytesEqual(_ a: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
    let n = s.utf8CodeUnitCount
    guard a.count == n else { return false }
    if n == 0 { return true }
    return memcmp(a.baseAddress!, s.utf8Start, n) == 0
}
