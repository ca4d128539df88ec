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
            repeat {
                skipSpace()
                try skipValue(depth: depth + 1)
            } while try nextItem(close: UInt8(ascii: "]"))
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
            if try !nextItem(close: UInt8(ascii: "}")) { return }
        }
    }

    /// Walks the object that is the whole of `data` (spacing around it allowed) with
    /// `forEachMember`: true when it is one, valid to its end, and `member` threw for none. The
    /// skims of one kind of chunk use it: any failure there means "not that kind".
    static func walkObject(_ data: UnsafeRawBufferPointer,
                           _ member: (inout JSONScanner, UnsafeRawBufferPointer) throws(JSONParseError) -> Void) -> Bool {
        var s = JSONScanner(buf: data)
        do {
            s.skipSpace()
            try s.forEachMember(member)
            s.skipSpace()
        } catch {
            return false
        }
        return s.atEnd
    }

    /// After an array's item or an object's member: true at a `,` (moved past it), false at the
    /// container's `close` (moved past it); anything else fails, worded as JSONReader words it.
    @inline(__always)
    mutating func nextItem(close: UInt8) throws(JSONParseError) -> Bool {
        skipSpace()
        let inObject = close == UInt8(ascii: "}")
        guard !atEnd else { throw fail(inObject ? "unexpected end of JSON in object" : "unexpected end of JSON in array") }
        let c = peek()
        if c == UInt8(ascii: ",") { pos += 1; return true }
        if c == close { pos += 1; return false }
        throw fail(inObject ? "expected ',' or '}' in object" : "expected ',' or ']' in array")
    }

    /// Validates a string (at its quote) without building it: what `string()` accepts, escapes
    /// included, checked in place. Returns true when it holds an escape (its bytes between the
    /// quotes are then not its text).
    @discardableResult
    mutating func skipString() throws(JSONParseError) -> Bool {
        let start = pos + 1
        guard let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) else { throw fail("unterminated string") }
        let end = buf.count
        var p = start
        var high = false, escaped = false
        while true {
            p = ByteScan.escapeStop(base, from: p, to: end, high: &high)  // 8 bytes a step
            guard p < end else {
                pos = end
                throw fail("unterminated string")
            }
            let c = base[p]
            if c == UInt8(ascii: "\"") {
                // Escapes are ASCII and decode to whole characters, so the raw bytes are valid
                // UTF-8 exactly when the decoded text is.
                if high && !isValidUTF8(UnsafeRawBufferPointer(rebasing: buf[start..<p])) {
                    pos = start
                    throw fail("invalid UTF-8 in string")
                }
                pos = p + 1
                return escaped
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                pos = p + 1
                try skipEscape()
                p = pos
                continue
            }
            pos = p  // a control byte
            throw fail("unescaped control character in string")
        }
    }

    /// After a backslash: one escape as `string()` reads it, moved past.
    private mutating func skipEscape() throws(JSONParseError) {
        guard pos < buf.count else { throw fail("unterminated escape") }
        let e = buf[pos]
        pos += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return
        case UInt8(ascii: "u"):
            _ = try unicodeEscape()
        default:
            pos -= 1
            throw fail("invalid escape '\\\(printable(e))'")
        }
    }

    /// A string value (at its quote) validated in place: where its text lies (between the quotes)
    /// and whether it holds escapes (the bytes are then not its text); nil, nothing consumed, when
    /// the value is not a string.
    mutating func stringBody() throws(JSONParseError) -> (range: Range<Int>, escaped: Bool)? {
        guard !atEnd, peek() == UInt8(ascii: "\"") else { return nil }
        let start = pos + 1
        let escaped = try skipString()
        return (start..<(pos - 1), escaped)
    }

    /// True when the value here is a string written exactly as `word`, without escapes (a string
    /// is consumed either way).
    mutating func stringIs(_ word: some Collection<UInt8>) throws(JSONParseError) -> Bool {
        guard let v = try stringBody(), !v.escaped else { return false }
        return UnsafeRawBufferPointer(rebasing: buf[v.range]).elementsEqual(word)
    }

    /// The same for a literal, compared with memcmp (a String's UTF-8 view goes byte by byte).
    mutating func stringIs(_ word: StaticString) throws(JSONParseError) -> Bool {
        guard let v = try stringBody(), !v.escaped else { return false }
        return bytesEqual(UnsafeRawBufferPointer(rebasing: buf[v.range]), word)
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
    guard let base = b.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
    let n = b.count
    var i = 0
    @inline(__always) func cont(_ k: Int) -> Bool { i + k < n && base[i + k] & 0xC0 == 0x80 }
    while i < n {
        // Runs of ASCII, 8 bytes a step (text with some accents is mostly ASCII).
        i = ByteScan.asciiWords(UnsafeRawPointer(base), from: i, to: n)
        guard i < n else { break }
        let c = base[i]
        if c < 0x80 { i += 1; continue }
        if c >= 0xC2 && c <= 0xDF {
            guard cont(1) else { return false }
            i += 2
        } else if c >= 0xE0 && c <= 0xEF {
            guard cont(1), cont(2) else { return false }
            let c1 = base[i + 1]
            if c == 0xE0 && c1 < 0xA0 { return false }  // overlong
            if c == 0xED && c1 > 0x9F { return false }  // surrogate
            i += 3
        } else if c >= 0xF0 && c <= 0xF4 {
            guard cont(1), cont(2), cont(3) else { return false }
            let c1 = base[i + 1]
            if c == 0xF0 && c1 < 0x90 { return false }  // overlong
            if c == 0xF4 && c1 > 0x8F { return false }  // above U+10FFFF
            i += 4
        } else {
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
