/// Typed content chunks in an answer → OpenAI's string content plus `reasoning: {"content": …}`.
///
/// Mistral (Magistral models, and others when reasoning is on) answers with `content` as a list:
/// `[{"type":"thinking","thinking":[{"type":"text","text":"…"}]}, {"type":"text","text":"…"}]`, and a
/// streamed delta's `content` may be such a list too. OpenAI's answers never carry a list there, so
/// any list is normalised, for every OpenAI-compatible provider. Only a list is looked at: string
/// content (the common case) costs one type check.
///
/// Chunk types:
/// - `text` (and a bare string item) → the content text, concatenated in order;
/// - `thinking` → reasoning text: its `thinking` list's `text` items (or a `thinking` string);
/// - `reference` (`{"type":"reference","reference_ids":[…]}`, citations into earlier tool results,
///   inside or outside thinking) carries no text and is not part of OpenAI's message shape: left out,
///   as any-llm's Mistral provider does;
/// - any other type with a string `text` counts as text; others carry nothing OpenAI-shaped.
enum ContentChunks {
    /// True when `content` is a list (the only shape this normalises).
    @inline(__always)
    static func isChunkList(_ content: JSON?) -> Bool {
        if case .array? = content { return true }
        return false
    }

    /// The message or delta with list content flattened: `content` the text (null when there is
    /// none, as OpenAI's tool-call messages and deltas have), reasoning appended to any already there.
    static func flatten(_ m: JSONObject) -> JSONObject {
        guard case .array(let items)? = m["content"] else { return m }
        var text = "", reasoning = "", sawText = false
        for item in items {
            switch item {
            case .string(let s):
                text += s
                sawText = true
            case .object(let o):
                switch o["type"]?.string {
                case "thinking":
                    reasoning += thinkingText(o["thinking"])
                case "reference":
                    break
                default:
                    if let s = o["text"]?.string {
                        text += s
                        sawText = true
                    }
                }
            default:
                break
            }
        }
        var out = m
        out["content"] = sawText ? .string(text) : .null
        if !reasoning.isEmpty {
            let before = m["reasoning"]?["content"]?.string ?? m["reasoning"]?.string ?? ""
            out["reasoning"] = .object(JSONObject([("content", .string(before + reasoning))]))
        }
        return out
    }

    /// The text of a thinking chunk's `thinking`: a list of text (and reference) chunks, or a string.
    static func thinkingText(_ v: JSON?) -> String {
        if let s = v?.string { return s }
        var out = ""
        for part in v?.array ?? [] {
            if let s = part.string { out += s } else if part["type"]?.string != "reference", let s = part["text"]?.string { out += s }
        }
        return out
    }
}
