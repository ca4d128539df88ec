import Glibc

// Builds the final ChatCompletion from the ChatCompletionChunks of a stream: what the blocking
// call returns, and what an error carries as "partial" when a stream breaks.

struct StreamAggregator: Sendable {
    struct ToolCallAcc: Sendable {
        var index: Int
        var id: String?
        var type: String?
        var name: String = ""
        var arguments: String = ""
        /// Provider data that must travel back with the call (Gemini's thought signature).
        var extra: JSON?
    }

    struct ChoiceAcc: Sendable {
        var index: Int
        var role: String?
        /// UTF-8 (appended as bytes: a skimmed chunk's text is never made a String).
        var content: [UInt8] = []
        var sawContent = false
        var reasoning: String = ""
        var reasoningSignature: String?
        var refusal: String?
        var toolCalls: [ToolCallAcc] = []
        var finishReason: JSON?
        var logprobs: [JSON] = []
    }

    var id: JSON?
    var created: JSON?
    var model: JSON?
    var systemFingerprint: JSON?
    var serviceTier: JSON?
    var usage: JSON?
    var choices: [ChoiceAcc] = []
    private(set) var chunkCount = 0
    /// The bytes `systemFingerprint` was last set from by a skimmed chunk (empty: set otherwise).
    private var fingerprintBytes: [UInt8] = []

    init() {}

    mutating func add(_ chunk: DecodedChunk) {
        guard let s = chunk.skim else { return add(chunk.json) }
        chunk.withBytes { add(skim: s, in: $0) }
    }

    /// A skimmed chunk (`chunk` is its bytes): its text is appended as bytes, and the fingerprint
    /// (the same in every chunk of a stream) is only decoded when it changes.
    mutating func add(skim s: SkimmedDelta, in chunk: UnsafeRawBufferPointer) {
        chunkCount += 1
        if let fp = s.fingerprint, !fp.isEmpty {
            let b = UnsafeRawBufferPointer(rebasing: chunk[fp])
            if fingerprintBytes.count != b.count
                || fingerprintBytes.withUnsafeBytes({ memcmp($0.baseAddress!, b.baseAddress!, b.count) }) != 0 {
                fingerprintBytes = Array(b)
                systemFingerprint = .string(String(decoding: b, as: UTF8.self))
            }
        }
        let i = choices.count == 1 && choices[0].index == s.index ? 0 : choiceIndex(s.index)
        if s.contentEscaped {
            choices[i].content.append(contentsOf: s.contentBytes(in: chunk))
        } else {
            choices[i].content.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[s.content]))
        }
        if !s.content.isEmpty { choices[i].sawContent = true }
    }

    mutating func add(_ chunk: JSONObject) {
        chunkCount += 1
        if id == nil, let v = chunk["id"], !v.isNull { id = v }
        if created == nil, let v = chunk["created"], !v.isNull { created = v }
        if model == nil, let v = chunk["model"], !v.isNull { model = v }
        if let v = chunk["system_fingerprint"], v.string.map({ !$0.isEmpty }) ?? false {
            systemFingerprint = v
            fingerprintBytes = []
        }
        if serviceTier == nil, let v = chunk["service_tier"], !v.isNull { serviceTier = v }
        if let u = chunk["usage"], u.object != nil { usage = u }
        guard let cs = chunk["choices"]?.array else { return }
        for c in cs {
            guard let co = c.object else { continue }
            let idx = co["index"]?.int ?? 0
            let i = choiceIndex(idx)
            Self.apply(co, to: &choices[i])
        }
    }

    private mutating func choiceIndex(_ idx: Int) -> Int {
        if let i = choices.firstIndex(where: { $0.index == idx }) { return i }
        choices.append(ChoiceAcc(index: idx))
        choices.sort { $0.index < $1.index }
        return choices.firstIndex(where: { $0.index == idx })!
    }

    private static func apply(_ c: JSONObject, to acc: inout ChoiceAcc) {
        if let f = c["finish_reason"], !f.isNull { acc.finishReason = f }
        if let lp = c["logprobs"]?["content"]?.array { acc.logprobs.append(contentsOf: lp) }
        guard let d = c["delta"]?.object else { return }
        if let r = d["role"]?.string { acc.role = r }
        if let s = d["content"]?.string {
            acc.content.append(contentsOf: s.utf8)
            if !s.isEmpty { acc.sawContent = true }
        }
        if let r = d["reasoning"]?["content"]?.string { acc.reasoning += r }
        if let sig = d["reasoning"]?["signature"]?.string, !sig.isEmpty { acc.reasoningSignature = sig }
        if let r = d["refusal"]?.string { acc.refusal = (acc.refusal ?? "") + r }
        if let calls = d["tool_calls"]?.array {
            for (pos, call) in calls.enumerated() {
                guard let co = call.object else { continue }
                mergeToolCall(co, position: pos, into: &acc.toolCalls)
            }
        }
    }

    /// Merges one tool-call delta. OpenAI sends id and name once, then argument fragments under the
    /// same `index`. Some providers restate the whole call (same id, complete arguments) in later
    /// chunks, even after the usage chunk; appending would corrupt the arguments to `{}{}`, so a
    /// restatement of an already complete call replaces it instead.
    private static func mergeToolCall(_ d: JSONObject, position: Int, into calls: inout [ToolCallAcc]) {
        let newID = d["id"]?.string
        let fn = d["function"]?.object
        let fragment = fn?["arguments"]?.string ?? ""
        var index = d["index"]?.int
        if index == nil {
            // No index: a new id starts a new call, otherwise it continues the last one.
            if let nid = newID, !calls.contains(where: { $0.id == nid }) { index = calls.count } else { index = calls.last?.index ?? position }
        }
        guard let i = calls.firstIndex(where: { $0.index == index }) else {
            var t = ToolCallAcc(index: index!)
            t.id = newID
            t.type = d["type"]?.string
            t.name = fn?["name"]?.string ?? ""
            t.arguments = fragment
            t.extra = d["extra_content"]
            calls.append(t)
            return
        }
        if let x = d["extra_content"], !x.isNull { calls[i].extra = x }
        if let nid = newID, !nid.isEmpty, calls[i].id == nid, !fragment.isEmpty,
           Self.isCompleteObject(calls[i].arguments), Self.isCompleteObject(fragment) {
            calls[i].arguments = fragment
            return
        }
        if calls[i].id == nil || calls[i].id == "" { calls[i].id = newID }
        if calls[i].type == nil { calls[i].type = d["type"]?.string }
        if let n = fn?["name"]?.string, !n.isEmpty, calls[i].name.isEmpty { calls[i].name = n }
        calls[i].arguments += fragment
    }

    static func isCompleteObject(_ s: String) -> Bool {
        guard s.utf8.first == UInt8(ascii: "{"), let v = try? JSONReader.parse(s) else { return false }
        return v.object != nil
    }

    /// The ChatCompletion so far. `complete` is false for the "partial" of a broken stream: then a
    /// choice that never received its finish_reason keeps it null rather than claiming "stop".
    func result(complete: Bool = true) -> JSON {
        var o = JSONObject()
        o["id"] = id ?? .string("")
        o["object"] = .string("chat.completion")
        o["created"] = created ?? .int(0)
        o["model"] = model ?? .string("")
        o["choices"] = .array(choices.map { c in
            var m = JSONObject()
            m["role"] = .string(c.role ?? "assistant")
            m["content"] = (c.sawContent || c.toolCalls.isEmpty) ? .string(String(decoding: c.content, as: UTF8.self)) : .null
            if !c.reasoning.isEmpty {
                var r = JSONObject([("content", .string(c.reasoning))])
                if let sig = c.reasoningSignature { r["signature"] = .string(sig) }
                m["reasoning"] = .object(r)
            }
            if let r = c.refusal { m["refusal"] = .string(r) }
            if !c.toolCalls.isEmpty {
                m["tool_calls"] = .array(c.toolCalls.sorted { $0.index < $1.index }.map { t in
                    var o = JSONObject([
                        ("id", .string(t.id ?? "")),
                        ("type", .string(t.type ?? "function")),
                        ("function", .object(JSONObject([
                            ("name", .string(t.name)),
                            ("arguments", .string(t.arguments.isEmpty ? "{}" : t.arguments)),
                        ]))),
                    ])
                    if let x = t.extra { o["extra_content"] = x }
                    return .object(o)
                })
            }
            var ch = JSONObject()
            ch["index"] = .int(c.index)
            ch["message"] = .object(m)
            ch["logprobs"] = c.logprobs.isEmpty ? .null : .object(JSONObject([("content", .array(c.logprobs))]))
            ch["finish_reason"] = c.finishReason ?? (complete ? .string(c.toolCalls.isEmpty ? "stop" : "tool_calls") : .null)
            return .object(ch)
        })
        if let u = usage { o["usage"] = u }
        if let s = systemFingerprint { o["system_fingerprint"] = s }
        if let s = serviceTier { o["service_tier"] = s }
        return .object(o)
    }
}
