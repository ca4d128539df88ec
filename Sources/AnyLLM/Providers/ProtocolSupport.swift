import CAnyLLMTypes
import Glibc

// Pieces every native (non-OpenAI) protocol needs: building OpenAI-shaped results and chunks,
// reading OpenAI-shaped messages.

enum OpenAIShape {
    static func now() -> Int { Int(time(nil)) }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// `prefix` + `n` random alphanumerics (ids for calls the provider did not name). One random
    /// 64-bit word gives ten characters: the system generator is a system call per word.
    static func randomID(_ prefix: String, _ n: Int = 24) -> String {
        var g = SystemRandomNumberGenerator()
        var out = prefix
        var word: UInt64 = 0
        for i in 0..<n {
            if i % 10 == 0 { word = g.next() }
            out.append(alphabet[Int(word & 63) % alphabet.count])
            word >>= 6
        }
        return out
    }

    static func usage(prompt: Int, completion: Int, total: Int? = nil, cached: Int? = nil,
                      reasoning: Int? = nil) -> JSON {
        var u = JSONObject()
        u["prompt_tokens"] = .int(prompt)
        u["completion_tokens"] = .int(completion)
        u["total_tokens"] = .int(total ?? prompt + completion)
        if let c = cached { u["prompt_tokens_details"] = .object(JSONObject([("cached_tokens", .int(c))])) }
        if let r = reasoning { u["completion_tokens_details"] = .object(JSONObject([("reasoning_tokens", .int(r))])) }
        return .object(u)
    }

    /// An assistant message: content (nil → null), reasoning, tool calls.
    static func message(content: String?, reasoning: String?, toolCalls: [JSON]) -> JSON {
        var m = JSONObject()
        m["role"] = .string("assistant")
        m["content"] = content.map { .string($0) } ?? .null
        if let r = reasoning, !r.isEmpty { m["reasoning"] = .object(JSONObject([("content", .string(r))])) }
        if !toolCalls.isEmpty { m["tool_calls"] = .array(toolCalls) }
        return .object(m)
    }

    static func toolCall(id: String, name: String, arguments: String, extra: JSON? = nil) -> JSON {
        var o = JSONObject([("id", .string(id)), ("type", .string("function")),
                            ("function", .object(JSONObject([("name", .string(name)), ("arguments", .string(arguments))])))])
        if let e = extra { o["extra_content"] = e }
        return .object(o)
    }

    static func completion(id: String, model: String, created: Int, message: JSON, finishReason: String,
                           usage: JSON?) -> JSON {
        var o = JSONObject()
        o["id"] = .string(id)
        o["object"] = .string("chat.completion")
        o["created"] = .int(created)
        o["model"] = .string(model)
        o["choices"] = .array([.object(JSONObject([("index", .int(0)), ("message", message), ("logprobs", .null),
                                                   ("finish_reason", .string(finishReason))]))])
        if let u = usage { o["usage"] = u }
        return .object(o)
    }

    /// A ChatCompletionChunk with one choice (`delta`) or none (a usage-only chunk).
    static func chunk(id: String, model: String, created: Int, delta: JSONObject?, finishReason: String? = nil,
                      usage: JSON? = nil) -> JSONObject {
        var o = JSONObject()
        o["id"] = .string(id)
        o["object"] = .string("chat.completion.chunk")
        o["created"] = .int(created)
        o["model"] = .string(model)
        if let d = delta {
            o["choices"] = .array([.object(JSONObject([("index", .int(0)), ("delta", .object(d)), ("logprobs", .null),
                                                       ("finish_reason", finishReason.map { .string($0) } ?? .null)]))])
        } else {
            o["choices"] = .array([])
        }
        if let u = usage { o["usage"] = u }
        return o
    }

    /// The text of an OpenAI content value: a string, or its text parts joined.
    static func text(_ content: JSON?) -> String {
        guard let c = content else { return "" }
        if let s = c.string { return s }
        return (c.array ?? []).compactMap { $0["type"]?.string == "text" ? $0["text"]?.string : nil }.joined(separator: "\n")
    }

    /// A tool call's `arguments` string as a JSON object (providers other than OpenAI take objects).
    static func argumentsObject(_ args: String?, at: String) throws(AnyLLMError) -> JSON {
        guard let a = args, !a.isEmpty else { return .object(JSONObject()) }
        guard let v = try? JSONReader.parse(a), v.object != nil else {
            throw .invalid(at, "tool call arguments must be a JSON object encoded as a string")
        }
        return v
    }

    /// `data:image/png;base64,AAAA` → ("image/png", "AAAA").
    static func dataURL(_ url: String) -> (mediaType: String, data: String)? {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        let meta = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        guard meta.hasSuffix(";base64") else { return nil }
        return (String(meta.dropLast(7)), String(url[url.index(after: comma)...]))
    }

    /// The image URL of an `image_url` content part (object or lenient string form).
    static func imageURL(_ part: JSON) -> String? { part["image_url"]?.string ?? part["image_url"]?["url"]?.string }

    /// The name of the function that the tool call `id` invoked, from earlier assistant messages.
    static func toolName(forCallID id: String, in messages: [JSON]) -> String? {
        for m in messages.reversed() {
            for c in m["tool_calls"]?.array ?? [] where c["id"]?.string == id { return c["function"]?["name"]?.string }
        }
        return nil
    }

    /// The stop sequences of a request as a list.
    static func stops(_ v: JSON?) -> [JSON]? {
        guard let v else { return nil }
        if let s = v.string { return [.string(s)] }
        return v.array
    }

    static func unsupported(_ param: String, _ provider: String, _ why: String) -> AnyLLMError {
        AnyLLMError(ANYLLM_E_UNSUPPORTED_PARAMETER, "\(provider) does not support \(param): \(why)", provider: provider,
                    param: param)
    }

    /// One JSON value as compact text.
    static func compact(_ v: JSON) -> String { v.text }
}

/// A stream decoder for protocols whose events become several OpenAI chunks: keeps the ids and
/// the emit plumbing in one place.
class ChunkEmitter {
    var id: String
    var model: String
    let created = OpenAIShape.now()
    let provider: String
    var sentRole = false

    init(provider: String, model: String, id: String) {
        self.provider = provider
        self.model = model
        self.id = id
    }

    func send(_ delta: JSONObject?, finish: String? = nil, usage: JSON? = nil,
              _ out: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        var d = delta
        if var dd = d, !sentRole {
            dd.members.insert(("role", .string("assistant")), at: 0)
            d = dd
            sentRole = true
        }
        let c = OpenAIShape.chunk(id: id, model: model, created: created, delta: d, finishReason: finish, usage: usage)
        try out(DecodedChunk(json: c, bytes: JSON.object(c).serialized))
    }

    // Text chunks written from a template, as skimmed chunks (no tree): most of a native stream's
    // chunks are a piece of text, and building each as a tree of values and writing it out was
    // nearly all of its cost. The template is the chunk `send` writes for {"content": ""}, cut
    // where the text goes: the bytes are the same as send's for the same text.
    private var textTemplate: (id: String, model: String, prefix: [UInt8], suffix: [UInt8])?
    private var textChunk: [UInt8] = []

    /// Sends `data` with sendText when it is a chunk of text, as `find` tells (where its text lies
    /// in `data`, and whether it holds escapes; nil when it is something else); true when sent.
    /// Never for the first chunk, which carries the role.
    func sendText(in data: [UInt8], _ find: (UnsafeRawBufferPointer) -> (text: Range<Int>, escaped: Bool)?,
                  _ out: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) -> Bool {
        guard sentRole else { return false }
        var failure: AnyLLMError?
        let sent = data.withUnsafeBytes { (d: UnsafeRawBufferPointer) -> Bool in
            guard let t = find(d) else { return false }
            do throws(AnyLLMError) { try sendText(UnsafeRawBufferPointer(rebasing: d[t.text]), escaped: t.escaped, out) } catch {
                failure = error
            }
            return true
        }
        if let f = failure { throw f }
        return sent
    }

    /// A content delta whose text is given as a JSON string's body (the bytes between its quotes,
    /// validated, escapes as the provider wrote them; `escaped` when it holds any). Only after the
    /// first chunk, which carries the role and is sent with `send`. The chunk's bytes are
    /// borrowed: valid while it is emitted, as a skimmed OpenAI chunk's are.
    func sendText(_ text: UnsafeRawBufferPointer, escaped: Bool,
                  _ out: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        precondition(sentRole, "the first chunk carries the role: send it with send()")
        if textTemplate == nil || textTemplate!.id != id || textTemplate!.model != model {
            let whole = JSON.object(OpenAIShape.chunk(id: id, model: model, created: created,
                                                      delta: JSONObject([("content", .string(""))]))).serialized
            // `"content":""` with bare quotes is structure: inside the id or the model a quote is escaped.
            let marker = Array("\"content\":\"\"".utf8)  // "content":""
            // The chunk always holds it, whatever the id and model (the template tests check the bytes).
            guard let i = (0...(whole.count - marker.count)).first(where: { whole[$0..<($0 + marker.count)].elementsEqual(marker) })
            else { preconditionFailure("OpenAIShape.chunk wrote no \"content\":\"\"") }
            let cut = i + marker.count - 1  // at the closing quote of the empty text
            textTemplate = (id, model, Array(whole[..<cut]), Array(whole[cut...]))
        }
        let t = textTemplate!
        textChunk.removeAll(keepingCapacity: true)
        textChunk.append(contentsOf: t.prefix)
        let start = textChunk.count
        textChunk.append(contentsOf: text)
        let skim = SkimmedDelta(index: 0, content: start..<textChunk.count, contentEscaped: escaped, fingerprint: nil)
        textChunk.append(contentsOf: t.suffix)
        var failure: AnyLLMError?
        textChunk.withUnsafeBytes { raw in
            do throws(AnyLLMError) { try out(DecodedChunk(skim: skim, raw: raw)) } catch { failure = error }
        }
        if let f = failure { throw f }
    }
}

/// The turns of a native request being built: consecutive blocks of one role go into one turn
/// (Anthropic, Gemini and Bedrock require roles to alternate; OpenAI histories need not).
struct Turns {
    private var turns: [(role: String, blocks: [JSON])] = []

    mutating func append(_ role: String, _ blocks: [JSON]) {
        guard !blocks.isEmpty else { return }
        if let last = turns.last, last.role == role { turns[turns.count - 1].blocks += blocks } else { turns.append((role, blocks)) }
    }

    /// `[{"role": …, "<blocksKey>": [...]}, …]`
    func json(blocksKey: String) -> [JSON] {
        turns.map { .object(JSONObject([("role", .string($0.role)), (blocksKey, .array($0.blocks))])) }
    }
}
