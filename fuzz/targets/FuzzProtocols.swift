// Each wire protocol's decoders (Providers/*.swift), generic over the protocol so that a new one is
// a row in Targets.swift:
// - response: a 2xx body → ChatCompletion. The bytes returned are JSON equal to the value, which
//   is a chat.completion with a choices array; anything else is a typed error.
// - stream: a streamed body, fed in one read, in random reads and byte by byte: the same chunks
//   (ids and timestamps aside) and the same outcome each way; every chunk's bytes are JSON equal to
//   its value; the aggregate (what the blocking call returns, or an error's "partial") is JSON.
// - errors: a non-2xx response (see fuzzErrors) through every protocol's decodeError.
import CAnyLLMTypes

/// Requests the decoders are given: plain, and with response_format (Anthropic's structured-output
/// tool changes how its stream is read). The input's length picks one (odd: structured), so both
/// are reached and a saved input reproduces.
private func requests(_ kind: WireProtocolKind, stream: Bool = true) -> [CompletionRequest] {
    let models: [String]
    switch kind {
    // Mistral's answers go through the same decoder; its row is there for the content-chunk lists.
    case .openAIChat: models = ["openai:gpt-4.1-mini", "mistral:magistral-small-latest"]
    case .anthropic: models = ["anthropic:claude-haiku-4-5"]
    case .gemini: models = ["gemini:gemini-2.5-flash"]
    case .vertex: models = ["vertexai:gemini-2.5-flash"]
    case .ollama: models = ["ollama:llama3.2"]
    case .cohere: models = ["cohere:command-a-03-2025"]
    case .bedrock: models = ["bedrock:anthropic.claude-3-haiku-20240307-v1:0"]
    }
    return models.flatMap { model -> [CompletionRequest] in
        let plain = "{\"model\":\"\(model)\",\"messages\":\"hi\",\"stream\":\(stream)}"
        let structured = "{\"model\":\"\(model)\",\"messages\":\"hi\",\"stream\":\(stream),\"response_format\":{\"type\":\"json_schema\","
            + "\"json_schema\":{\"name\":\"r\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}}}}"
        return [fixedRequest(plain), fixedRequest(structured)]
    }
}

private func pick(_ reqs: [CompletionRequest], _ buf: UnsafeRawBufferPointer) -> CompletionRequest {
    reqs[buf.count % reqs.count]
}

func responseTarget(_ kind: WireProtocolKind) -> (UnsafeRawBufferPointer) -> Void {
    // Both kinds of request: a non-streamed one takes OpenAI's answer skim (OpenAIAnswerSkim).
    let reqs = requests(kind, stream: false) + requests(kind, stream: true)
    let proto = Protocols.implementation(kind)
    return { buf in
        let body = Array(buf)
        let req = pick(reqs, buf)
        let decoded: (JSON, [UInt8])
        do throws(AnyLLMError) { decoded = try proto.decodeResponseBytes(body, request: req) } catch {
            checkError(error, "\(kind) response")
            return
        }
        var (json, bytes) = decoded
        if json.isNull {
            // The answer skim returned the body as received: the full reader must accept it and
            // leave it as it is.
            require(bytes == body, "\(kind) response: skimmed answer not returned as received")
            do throws(AnyLLMError) { json = try proto.decodeResponse(body, request: req) } catch {
                require(false, "\(kind) response: the answer skim accepted a body the full reader refuses: \(error.message)")
            }
        }
        require((try? JSONReader.parse(bytes)) == json, "\(kind) response: returned bytes are not the returned value")
        require(json["object"]?.string == "chat.completion", "\(kind) response: object is not chat.completion")
        require(json["choices"]?.array != nil, "\(kind) response: no choices array")
    }
}

/// One run of a stream decoder over `buf` cut as `plan` says, as Attempt drives it: feed each read
/// until an error, then finish.
private struct StreamOutcome {
    var chunks: [JSONObject] = []
    var error: AnyLLMError?
}

private func runStream(_ d: any StreamDecoder, _ buf: UnsafeRawBufferPointer, _ plan: [Range<Int>], _ kind: WireProtocolKind) -> StreamOutcome {
    var out = StreamOutcome()
    var agg = StreamAggregator()
    let emit = { (c: DecodedChunk) throws(AnyLLMError) in
        if let s = c.skim {
            // A skimmed chunk is passed on as received: it must be the chunk the full reader sees.
            out.chunks.append(checkSkimmed(c.ownedBytes, s, "\(kind) stream"))
        } else {
            require((try? JSONReader.parse(c.bytes)) == .object(c.json), "\(kind) stream: chunk bytes are not the chunk's value")
            out.chunks.append(c.json)
        }
        agg.add(c)
    }
    do {
        for r in plan { try d.feed(UnsafeRawBufferPointer(rebasing: buf[r]), emit: emit) }
        try d.finish(emit: emit)
    } catch {
        checkError(error, "\(kind) stream")
        out.error = error
    }
    let result = agg.result(complete: out.error == nil).serialized
    require(isValidJSON(result), "\(kind) stream: the aggregate is not JSON: \(String(decoding: result, as: UTF8.self))")
    return out
}

/// Chunks without what is made up per decoder: the clock and generated ids (the chunk's, and tool
/// calls' where the provider names none, as Gemini and Ollama).
private func comparable(_ c: JSONObject) -> JSONObject {
    var o = c
    o["id"] = nil
    o["created"] = nil
    guard let choices = o["choices"]?.array else { return o }
    o["choices"] = .array(choices.map { ch in
        guard var co = ch.object, var d = co["delta"]?.object, let calls = d["tool_calls"]?.array else { return ch }
        d["tool_calls"] = .array(calls.map { call in
            guard var x = call.object else { return call }
            x["id"] = nil
            return .object(x)
        })
        co["delta"] = .object(d)
        return .object(co)
    })
    return o
}

/// `prepare` rewrites the input first (Bedrock: the event-stream CRCs recomputed, so that mutated
/// frames reach the decoder; see FuzzEventStream.swift).
func streamTarget(_ kind: WireProtocolKind, prepare: (([UInt8]) -> [UInt8])? = nil) -> (UnsafeRawBufferPointer) -> Void {
    let reqs = requests(kind)
    let proto = Protocols.implementation(kind)
    guard let prepare else { return streamCheck(kind, reqs, proto) }
    let check = streamCheck(kind, reqs, proto)
    return { buf in prepare(Array(buf)).withUnsafeBytes { check($0) } }
}

private func streamCheck(_ kind: WireProtocolKind, _ reqs: [CompletionRequest], _ proto: any WireProtocol)
    -> (UnsafeRawBufferPointer) -> Void {
    return { buf in
        let req = pick(reqs, buf)
        var first: StreamOutcome?
        for plan in readPlans(buf) {
            let o = runStream(proto.streamDecoder(for: req), buf, plan, kind)
            guard let f = first else { first = o; continue }
            let a = f.chunks.map(comparable), b = o.chunks.map(comparable)
            if a != b {
                let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
                let show = { (c: [JSONObject]) in i < c.count ? JSON.object(c[i]).text : "(none)" }
                require(false, "\(kind) stream: \(a.count) chunks in one read, \(b.count) in \(plan.count) reads; chunk \(i): \(show(a)) / \(show(b))")
            }
            require(f.error?.status == o.error?.status && f.error?.message == o.error?.message,
                    "\(kind) stream: outcome differs: \(f.error?.message ?? "ok") / \(o.error?.message ?? "ok") in \(plan.count) reads")
        }
    }
}

/// Input: an HTTP status line of digits, header lines `name: value`, a blank line, the body (LF or
/// CRLF). Without the blank line the whole input is the body of a 500.
func fuzzErrors(_ buf: UnsafeRawBufferPointer) {
    let b = Array(buf)
    var status = 500
    var head = HTTPResponseHead()
    var body = b
    if let sep = firstBlankLine(b) {
        let lines = b[..<sep.start].split(omittingEmptySubsequences: false) { $0 == 0x0A }
            .map { String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self) }
        if let s = Int(lines.first ?? ""), (100...999).contains(s) { status = s }
        for l in lines.dropFirst() {
            guard let c = l.firstIndex(of: ":") else { continue }
            head.headers.append((String(l[..<c]).lowercased(), String(l[l.index(after: c)...]).trimmingSpaces()))
        }
        body = Array(b[sep.end...])
    }
    head.status = status
    for kind in allProtocolKinds {
        let e = Protocols.implementation(kind).decodeError(status: status, head: head, body: body, provider: kind.rawValue)
        checkError(e, "\(kind) error \(status)")
    }
}

private func firstBlankLine(_ b: [UInt8]) -> (start: Int, end: Int)? {
    var i = 0
    while i + 1 < b.count {
        if b[i] == 0x0A && b[i + 1] == 0x0A { return (i, i + 2) }
        if b[i] == 0x0A && b[i + 1] == 0x0D && i + 2 < b.count && b[i + 2] == 0x0A { return (i, i + 3) }
        i += 1
    }
    return nil
}
