// The fast path for the common streamed chunk: OpenAI-shaped, one choice, a content delta and
// nothing else of note. Such a chunk is passed on as received; all the aggregator needs of it is
// its text. Everything else (the first chunk, role, tool calls, reasoning, refusal, logprobs,
// finish_reason, usage, errors, several choices, unexpected fields) takes the full reader.

/// What the aggregator needs of a skimmed chunk.
struct SkimmedDelta: Sendable {
    var index: Int
    var content: String
    /// `system_fingerprint`, when the chunk has one (OpenAI repeats it in every chunk).
    var fingerprint: String?
}

enum OpenAIChunkSkim {
    /// The chunk's content delta, or nil when the chunk needs the full reader — also when it is not
    /// valid JSON: the full reader then reports exactly what is wrong.
    static func skim(_ data: [UInt8]) -> SkimmedDelta? {
        data.withUnsafeBytes { buf -> SkimmedDelta? in
            var s = JSONScanner(buf: buf)
            var out = SkimmedDelta(index: -1, content: "", fingerprint: nil)
            var sawContent = false
            // A repeated key the skim reads would be read differently by the full reader (JSONObject
            // takes the first occurrence): such a chunk is not plain.
            var sawChoices = false, sawFingerprint = false
            do {
                s.skipSpace()
                try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
                    try plainKey(key)
                    if bytesEqual(key, "choices") {
                        guard !sawChoices else { throw notPlain }
                        sawChoices = true
                        try choices(&s, &out, &sawContent)
                    } else if bytesEqual(key, "system_fingerprint") {
                        guard !sawFingerprint, let fp = try s.stringOrNull() else { throw notPlain }
                        sawFingerprint = true
                        out.fingerprint = fp
                    } else if bytesEqual(key, "usage") || bytesEqual(key, "error") {
                        guard try s.skipNull() else { throw notPlain }
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
    }

    /// Keys are compared as raw bytes; the full reader decodes escapes (`"cho\u0069ces"` is
    /// `choices` to it), so a key with an escape leaves the fast path.
    @inline(__always)
    private static func plainKey(_ key: UnsafeRawBufferPointer) throws(JSONParseError) {
        if key.contains(UInt8(ascii: "\\")) { throw notPlain }
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
                        guard !sawContent, let c = try s.stringOrNull(), let text = c else { throw notPlain }
                        out.content = text
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
}
