import Glibc

// The fast path for the common streamed chunk: OpenAI-shaped, one choice, a content delta and
// nothing else of note. Such a chunk is passed on as received; all the aggregator needs of it is
// where its text lies. Everything else (the first chunk, role, tool calls, reasoning, refusal,
// logprobs, finish_reason, usage, errors, several choices, unexpected fields) takes the full reader.
//
// Two speeds. `skim` walks the chunk (any key order, any spacing). `Template` then remembers the
// chunk's bytes around its content: the chunks of one stream differ only in their text (and in
// values nobody reads, such as OpenAI's per-chunk `obfuscation` padding), so the next chunk is
// matched by comparing bytes, and only its text is scanned.

/// What the aggregator needs of a skimmed chunk: offsets into the chunk's own bytes, so that
/// nothing is copied or allocated for it.
struct SkimmedDelta: Sendable, Equatable {
    var index: Int
    /// The content's bytes between its quotes.
    var content: Range<Int>
    /// True when the content holds escapes: its bytes must be decoded to be its text.
    var contentEscaped: Bool
    /// `system_fingerprint`'s bytes between its quotes (never escaped), when the chunk has a
    /// string one (OpenAI repeats it in every chunk).
    var fingerprint: Range<Int>?

    /// The content as text (tests and rare paths; the aggregator appends the bytes).
    func contentString(in chunk: UnsafeRawBufferPointer) -> String {
        String(decoding: contentBytes(in: chunk), as: UTF8.self)
    }

    /// The content's text as UTF-8 bytes, escapes decoded.
    func contentBytes(in chunk: UnsafeRawBufferPointer) -> [UInt8] {
        if !contentEscaped { return Array(UnsafeRawBufferPointer(rebasing: chunk[content])) }
        var s = JSONScanner(buf: chunk)
        s.pos = content.lowerBound - 1
        return Array(((try? s.string()) ?? "").utf8)  // validated when skimmed: cannot fail
    }

    func fingerprintString(in chunk: UnsafeRawBufferPointer) -> String? {
        fingerprint.map { String(decoding: UnsafeRawBufferPointer(rebasing: chunk[$0]), as: UTF8.self) }
    }
}

enum OpenAIChunkSkim {
    /// The most string values the skim ignored after the content that a template lets vary.
    static let maxSlots = 4

    /// The chunk's content delta, or nil when the chunk needs the full reader — also when it is not
    /// valid JSON: the full reader then reports exactly what is wrong. `slots` receives the ranges
    /// (between quotes) of string values after the content that the skim ignored.
    static func skim(_ buf: UnsafeRawBufferPointer, slots: inout [Range<Int>]) -> SkimmedDelta? {
        var s = JSONScanner(buf: buf)
        var out = SkimmedDelta(index: -1, content: 0..<0, contentEscaped: false, fingerprint: nil)
        var sawContent = false
        // A repeated key the skim reads would be read differently by the full reader (JSONObject
        // takes the first occurrence): such a chunk is not plain.
        var sawChoices = false, sawFingerprint = false
        slots.removeAll(keepingCapacity: true)
        do {
            s.skipSpace()
            try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
                try plainKey(key)
                if bytesEqual(key, "choices") {
                    guard !sawChoices else { throw notPlain }
                    sawChoices = true
                    try choices(&s, &out, &sawContent)
                } else if bytesEqual(key, "system_fingerprint") {
                    guard !sawFingerprint, !s.atEnd else { throw notPlain }
                    sawFingerprint = true
                    if s.peek() == UInt8(ascii: "\"") {
                        let start = s.pos + 1
                        if try s.skipString() { throw notPlain }
                        out.fingerprint = start..<(s.pos - 1)
                    } else if !(try s.skipNull()) {
                        throw notPlain
                    }
                } else if bytesEqual(key, "usage") || bytesEqual(key, "error") {
                    guard try s.skipNull() else { throw notPlain }
                } else if sawContent, !s.atEnd, s.peek() == UInt8(ascii: "\""), slots.count < maxSlots {
                    let start = s.pos + 1
                    try s.skipString()
                    slots.append(start..<(s.pos - 1))
                } else {
                    try s.skipValue(depth: 1)
                }
            }
            s.skipSpace()
        } catch {
            return nil
        }
        guard s.atEnd, sawContent, out.index >= 0 else { return nil }
        return out
    }

    static func skim(_ buf: UnsafeRawBufferPointer) -> SkimmedDelta? {
        var slots: [Range<Int>] = []
        return skim(buf, slots: &slots)
    }

    static func skim(_ data: [UInt8]) -> SkimmedDelta? {
        data.withUnsafeBytes { skim($0) }
    }

    /// Keys are compared as raw bytes; the full reader decodes escapes (`"cho\u0069ces"` is
    /// `choices` to it), so a key with an escape leaves the fast path.
    @inline(__always)
    private static func plainKey(_ key: UnsafeRawBufferPointer) throws(JSONParseError) {
        if key.count > 0 && memchr(key.baseAddress!, 0x5C, key.count) != nil { throw notPlain }
    }

    /// Thrown to leave the walk when the chunk is not a plain content delta.
    private static let notPlain = JSONParseError(message: "not a plain content chunk", offset: -1)

    private static func choices(_ s: inout JSONScanner, _ out: inout SkimmedDelta, _ sawContent: inout Bool)
        throws(JSONParseError) {
        guard !s.atEnd, s.peek() == UInt8(ascii: "[") else { throw notPlain }
        s.pos += 1
        s.skipSpace()
        guard !s.atEnd, s.peek() == UInt8(ascii: "{") else { throw notPlain }  // exactly one choice
        var sawIndex = false, sawDelta = false
        try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
            try plainKey(key)
            if bytesEqual(key, "index") {
                guard !sawIndex, let i = s.smallInt() else { throw notPlain }
                sawIndex = true
                out.index = i
            } else if bytesEqual(key, "delta") {
                guard !sawDelta else { throw notPlain }
                sawDelta = true
                try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
                    try plainKey(key)
                    if bytesEqual(key, "content") {
                        guard !sawContent, !s.atEnd, s.peek() == UInt8(ascii: "\"") else { throw notPlain }
                        let start = s.pos + 1
                        out.contentEscaped = try s.skipString()
                        out.content = start..<(s.pos - 1)
                        sawContent = true
                    } else {
                        // role, tool_calls, reasoning, refusal…: only their null form is plain.
                        guard try s.skipNull() else { throw notPlain }
                    }
                }
            } else {
                // finish_reason, logprobs and anything else: only null is plain.
                guard try s.skipNull() else { throw notPlain }
            }
        }
        s.skipSpace()
        guard !s.atEnd, s.peek() == UInt8(ascii: "]") else { throw notPlain }
        s.pos += 1
    }

    /// The bytes of a skimmed chunk around its content and its ignored string values. A chunk that
    /// has exactly these bytes, with any valid JSON strings in those places, is a plain chunk with
    /// the same index and fingerprint: its tokens are the template chunk's, so every reader (the
    /// skim, the full reader) reads it the same way except for those strings.
    struct Template {
        /// Everything up to and including the content's opening quote.
        private var prefix: [UInt8] = []
        /// The literal pieces after the content: before the first slot (starting at the content's
        /// closing quote), between slots, and after the last; one more than the slots.
        private var pieces: [[UInt8]] = []
        private var index = 0
        /// The fingerprint's range, inside the prefix (nil: none).
        private var fingerprint: Range<Int>?
        private(set) var isSet = false

        init() {}

        /// Remembers `chunk`, which `skim` accepted with `d` and `slots`.
        mutating func learn(_ chunk: UnsafeRawBufferPointer, _ d: SkimmedDelta, _ slots: [Range<Int>]) {
            // A fingerprint after the content would shift with the content's length: such
            // (unseen in practice) chunks are not learned.
            if let fp = d.fingerprint, fp.lowerBound > d.content.lowerBound { isSet = false; return }
            prefix = Array(UnsafeRawBufferPointer(rebasing: chunk[0..<d.content.lowerBound]))
            pieces.removeAll(keepingCapacity: true)
            var from = d.content.upperBound
            for r in slots {
                pieces.append(Array(UnsafeRawBufferPointer(rebasing: chunk[from..<r.lowerBound])))
                from = r.upperBound
            }
            pieces.append(Array(UnsafeRawBufferPointer(rebasing: chunk[from..<chunk.count])))
            index = d.index
            fingerprint = d.fingerprint
            isSet = true
        }

        /// The chunk's delta when it matches the template; nil otherwise (then `skim` decides).
        /// `mutating` only so that a template stored in a class is used in place, not copied
        /// (with a retain and release of each of its arrays) for every chunk; it changes nothing.
        mutating func match(_ chunk: UnsafeRawBufferPointer) -> SkimmedDelta? {
            guard isSet, let base = chunk.baseAddress else { return nil }
            let n = chunk.count, p0 = prefix.count
            guard n > p0, prefix.withUnsafeBytes({ memcmp(base, $0.baseAddress!, p0) }) == 0 else { return nil }
            var s = JSONScanner(buf: chunk)
            s.pos = p0 - 1
            var out = SkimmedDelta(index: index, content: p0..<p0, contentEscaped: false, fingerprint: fingerprint)
            do {
                out.contentEscaped = try s.skipString()
                out.content = p0..<(s.pos - 1)
                var p = s.pos - 1  // at the closing quote, where the first piece starts
                for (i, piece) in pieces.enumerated() {
                    if i > 0 {
                        // A slot: any valid string; the previous piece ended with its opening quote.
                        s.pos = p - 1
                        try s.skipString()
                        p = s.pos - 1
                    }
                    let m = piece.count
                    guard p + m <= n, m == 0 || piece.withUnsafeBytes({ memcmp(base + p, $0.baseAddress!, m) }) == 0 else { return nil }
                    p += m
                }
                return p == n ? out : nil
            } catch {
                return nil
            }
        }
    }
}
