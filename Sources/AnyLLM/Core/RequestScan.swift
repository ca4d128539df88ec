// A request's top level read without turning its messages into values. The messages are most of a
// request's bytes (a gateway forwards whole conversations), and the full reader decoded every
// string of them into a String, validated it, and the OpenAI encoder escaped it back: 208 µs for
// a 55 KB conversation. Here each message is checked in place against the shape that validation
// leaves unchanged, and kept as the caller's text; every other member is read as usual.
//
// Only messages that the full validation accepts and leaves as they are ("simple" below) are kept
// as text; other messages (tool calls, content parts other than text and image_url, unknown
// keys...) are read as values after all, from the validated text. Invalid JSON anywhere, or a repeated or missing "messages", makes
// `scan` return nil: the caller then reads the request whole, so that what is refused and every
// error message stay those of CompletionRequest.parse(_: JSON).

enum RequestScan {
    struct Scanned {
        /// Every top-level member except "messages", in order, as JSONReader reads them.
        var members: JSONObject
        /// The messages as JSON array text when they are simple (a plain string became one user
        /// message); nil when they were read as a value instead (`value`).
        var simple: [UInt8]?
        var value: JSON?
    }

    static func scan(_ text: UnsafeRawBufferPointer) -> Scanned? {
        var s = JSONScanner(buf: text)
        var members: [(key: String, value: JSON)] = []
        members.reserveCapacity(8)
        var sawMessages = false
        var simple: [UInt8]?, value: JSON?
        do {
            s.skipSpace()
            guard !s.atEnd, s.peek() == UInt8(ascii: "{") else { return nil }
            s.pos += 1
            s.skipSpace()
            guard !s.atEnd, s.peek() != UInt8(ascii: "}") else { return nil }  // no messages: the full reader says so
            while true {
                s.skipSpace()
                guard !s.atEnd, s.peek() == UInt8(ascii: "\"") else { return nil }
                let key = try s.string()
                s.skipSpace()
                guard !s.atEnd, s.peek() == UInt8(ascii: ":") else { return nil }
                s.pos += 1
                s.skipSpace()
                if key == "messages" {
                    guard !sawMessages else { return nil }
                    sawMessages = true
                    let start = s.pos
                    // Text is kept for OpenAI-shaped providers only; when the members read so far
                    // already name another wire, large messages are read as values at once (the
                    // check costs about as much as walking a small request). A guess: a later
                    // "provider" may change it, and either way the request reads the same.
                    if s.buf.count - start < 4096 || Self.mayKeepText(members) { simple = try? Self.messages(&s) }
                    if simple == nil {
                        // Read as the full reader would, from the start: validated by CompletionRequest.
                        s.pos = start
                        value = try s.value(depth: 1)
                    }
                } else {
                    members.append((key, try s.value(depth: 1)))
                }
                if try !s.nextItem(close: UInt8(ascii: "}")) { break }
            }
            s.skipSpace()
        } catch {
            return nil
        }
        guard s.atEnd, sawMessages else { return nil }
        return Scanned(members: JSONObject(members), simple: simple, value: value)
    }

    /// False when the model and provider read so far name a provider whose messages are read as
    /// values anyway (another wire, or OpenAI's with role renames).
    private static func mayKeepText(_ members: [(key: String, value: JSON)]) -> Bool {
        var model: String?, provider: String?
        for m in members {
            if m.key == "model" { model = model ?? m.value.string }
            if m.key == "provider" { provider = provider ?? m.value.string }
        }
        guard let md = model, let ref = try? ModelRef.parse(model: md, provider: provider),
              let info = Registry.find(ref.provider) else { return true }
        return info.wire == .openAIChat && info.quirks.roles.isEmpty
    }

    /// The messages value as array text, or nil when it is not simple.
    private static func messages(_ s: inout JSONScanner) throws(JSONParseError) -> [UInt8]? {
        guard !s.atEnd else { return nil }
        let start = s.pos
        if s.peek() == UInt8(ascii: "\"") {
            // A plain string is one user message; an empty one is an error the full reader reports.
            try s.skipString()
            guard s.pos - start > 2 else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(s.pos - start + 30)
            out.append(contentsOf: #"[{"role":"user","content":"#.utf8)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: s.buf[start..<s.pos]))
            out.append(contentsOf: "}]".utf8)
            return out
        }
        guard s.peek() == UInt8(ascii: "[") else { return nil }
        s.pos += 1
        s.skipSpace()
        guard !s.atEnd, s.peek() != UInt8(ascii: "]") else { return nil }  // none: an error
        repeat {
            s.skipSpace()
            guard try message(&s) else { return nil }
        } while try s.nextItem(close: UInt8(ascii: "]"))
        return Array(UnsafeRawBufferPointer(rebasing: s.buf[start..<s.pos]))
    }

    private static let notSimple = JSONParseError(message: "not a simple message", offset: -1)

    /// One message that CompletionRequest.validateMessage accepts and returns unchanged: a role,
    /// content (a string, or a list of text and image_url parts), and at most a string name and a
    /// tool_call_id (required for role tool). Keys are compared as raw bytes, so a key written with
    /// an escape is not simple either; a repeated key is not simple (JSONObject reads the first).
    private static func message(_ s: inout JSONScanner) throws(JSONParseError) -> Bool {
        guard !s.atEnd, s.peek() == UInt8(ascii: "{") else { return false }
        var role: UnsafeRawBufferPointer?
        var sawContent = false, sawName = false, sawCallID = false
        do {
            try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
                if bytesEqual(key, "content") {
                    guard !sawContent, !s.atEnd else { throw notSimple }
                    sawContent = true
                    if s.peek() == UInt8(ascii: "[") { try parts(&s) } else { _ = try string(&s) }
                    return
                }
                let (value, escaped) = try string(&s)
                if bytesEqual(key, "role") {
                    guard role == nil, !escaped else { throw notSimple }
                    role = value
                } else if bytesEqual(key, "name") {
                    guard !sawName else { throw notSimple }
                    sawName = true
                } else if bytesEqual(key, "tool_call_id") {
                    guard !sawCallID, value.count > 0 else { throw notSimple }
                    sawCallID = true
                } else {
                    throw notSimple
                }
            }
        } catch {
            return false  // not simple, or not valid JSON: either way the request is read whole
        }
        guard let r = role, sawContent else { return false }
        if bytesEqual(r, "tool") { return sawCallID }
        return bytesEqual(r, "user") || bytesEqual(r, "system") || bytesEqual(r, "assistant")
            || bytesEqual(r, "developer") || bytesEqual(r, "function")
    }

    /// A string value: its raw bytes between the quotes, and whether they hold an escape.
    private static func string(_ s: inout JSONScanner) throws(JSONParseError) -> (UnsafeRawBufferPointer, Bool) {
        guard !s.atEnd, s.peek() == UInt8(ascii: "\"") else { throw notSimple }
        let start = s.pos + 1
        let escaped = try s.skipString()
        return (UnsafeRawBufferPointer(rebasing: s.buf[start..<(s.pos - 1)]), escaped)
    }

    /// Content parts that validateContent accepts as they are: `{"type":"text","text":…}` and
    /// `{"type":"image_url","image_url":…}` with a non-empty URL (a string, or an object with `url`
    /// and an optional string `detail`). Images are most of a vision request's bytes (base64 data
    /// URLs of hundreds of kilobytes), hence the path.
    private static func parts(_ s: inout JSONScanner) throws(JSONParseError) {
        s.pos += 1  // at the "["
        s.skipSpace()
        if !s.atEnd, s.peek() == UInt8(ascii: "]") { s.pos += 1; return }
        repeat {
            s.skipSpace()
            try part(&s)
        } while try s.nextItem(close: UInt8(ascii: "]"))
    }

    private static func part(_ s: inout JSONScanner) throws(JSONParseError) {
        guard !s.atEnd, s.peek() == UInt8(ascii: "{") else { throw notSimple }
        var type: UnsafeRawBufferPointer?
        var sawText = false, sawImage = false
        try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
            if bytesEqual(key, "type") {
                let (t, escaped) = try string(&s)
                guard type == nil, !escaped else { throw notSimple }
                type = t
            } else if bytesEqual(key, "text") {
                guard !sawText else { throw notSimple }
                sawText = true
                _ = try string(&s)
            } else if bytesEqual(key, "image_url") {
                guard !sawImage, !s.atEnd else { throw notSimple }
                sawImage = true
                if s.peek() == UInt8(ascii: "{") { try imageURL(&s) } else {
                    guard try string(&s).0.count > 0 else { throw notSimple }
                }
            } else {
                throw notSimple
            }
        }
        guard let t = type else { throw notSimple }
        if bytesEqual(t, "text") { guard sawText, !sawImage else { throw notSimple }; return }
        if bytesEqual(t, "image_url") { guard sawImage, !sawText else { throw notSimple }; return }
        throw notSimple
    }

    private static func imageURL(_ s: inout JSONScanner) throws(JSONParseError) {
        var sawURL = false, sawDetail = false
        try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
            if bytesEqual(key, "url") {
                guard !sawURL, try string(&s).0.count > 0 else { throw notSimple }
                sawURL = true
            } else if bytesEqual(key, "detail") {
                guard !sawDetail else { throw notSimple }
                sawDetail = true
                _ = try string(&s)
            } else {
                throw notSimple
            }
        }
        guard sawURL else { throw notSimple }
    }
}
