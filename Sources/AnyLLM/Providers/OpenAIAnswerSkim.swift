// The fast path for the common non-streamed answer: a valid OpenAI ChatCompletion whose choices
// need no normalisation (text or refusal messages, standard finish reasons). Such an answer is
// returned exactly as received after one validating pass, without building a JSON tree (the full
// parse was 9 % of a non-streamed call's instructions, to return the same bytes). Anything else —
// tool calls, reasoning fields, content lists, odd finish reasons, an error, invalid JSON — takes
// OpenAIChat's full reader, which normalises it or reports exactly what is wrong.

enum OpenAIAnswerSkim {
    /// True when `body` can be returned unchanged.
    static func isPlain(_ body: [UInt8]) -> Bool {
        body.withUnsafeBytes { buf -> Bool in
            var s = JSONScanner(buf: buf)
            var sawObject = false, sawChoices = false
            do {
                s.skipSpace()
                try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
                    if key.contains(UInt8(ascii: "\\")) { throw notPlain }  // escaped: the full reader decodes it
                    if bytesEqual(key, "object") {
                        guard let v = try rawStringOrNull(&s), let b = v, bytesEqual(b, "chat.completion") else { throw notPlain }
                        sawObject = true
                    } else if bytesEqual(key, "choices") {
                        try choices(&s)
                        sawChoices = true
                    } else if bytesEqual(key, "error") {
                        guard try s.skipNull() else { throw notPlain }
                    } else {
                        try s.skipValue(depth: 1)
                    }
                }
                s.skipSpace()
            } catch {
                return false
            }
            return s.atEnd && sawObject && sawChoices
        }
    }

    private static let notPlain = JSONParseError(message: "not a plain answer", offset: -1)

    private static func choices(_ s: inout JSONScanner) throws(JSONParseError) {
        guard !s.atEnd, s.peek() == UInt8(ascii: "[") else { throw notPlain }
        s.pos += 1
        s.skipSpace()
        if !s.atEnd, s.peek() == UInt8(ascii: "]") {
            s.pos += 1
            return
        }
        repeat {
            s.skipSpace()
            try choice(&s)
        } while try s.nextItem(close: UInt8(ascii: "]"))
    }

    private static func choice(_ s: inout JSONScanner) throws(JSONParseError) {
        var sawMessage = false
        try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
            if key.contains(UInt8(ascii: "\\")) { throw notPlain }  // escaped: the full reader decodes it
            if bytesEqual(key, "message") {
                try message(&s)
                sawMessage = true
            } else if bytesEqual(key, "finish_reason") {
                // model_length (Mistral) is renamed by the full reader.
                // An escaped finish reason could spell it too.
                guard let f = try rawStringOrNull(&s),
                      f.map({ !bytesEqual($0, "model_length") && !$0.contains(UInt8(ascii: "\\")) }) ?? true else {
                    throw notPlain
                }
            } else {
                try s.skipValue(depth: 2)
            }
        }
        guard sawMessage else { throw notPlain }
    }

    private static func message(_ s: inout JSONScanner) throws(JSONParseError) {
        try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
            if key.contains(UInt8(ascii: "\\")) { throw notPlain }  // escaped: the full reader decodes it
            if bytesEqual(key, "content") || bytesEqual(key, "refusal") || bytesEqual(key, "role") {
                // A string or null; a list of typed chunks (Mistral) is flattened by the full reader.
                guard try rawStringOrNull(&s) != nil else { throw notPlain }
            } else if bytesEqual(key, "annotations") || bytesEqual(key, "audio") {
                try s.skipValue(depth: 3)
            } else {
                // tool_calls, function_call, reasoning fields, anything else: the full reader.
                throw notPlain
            }
        }
    }

    /// A string or null, validated without building a String: .some(bytes between the quotes) or
    /// .some(nil) for null; nil for any other value (nothing consumed). The bytes are the text only
    /// when they hold no backslash: callers that compare them check.
    private static func rawStringOrNull(_ s: inout JSONScanner) throws(JSONParseError) -> UnsafeRawBufferPointer?? {
        guard !s.atEnd else { throw notPlain }
        if s.peek() == UInt8(ascii: "n") {
            guard try s.skipNull() else { throw notPlain }
            return .some(nil)
        }
        guard s.peek() == UInt8(ascii: "\"") else { return nil }
        let start = s.pos + 1
        try s.skipString()
        return .some(UnsafeRawBufferPointer(rebasing: s.buf[start..<(s.pos - 1)]))
    }
}
