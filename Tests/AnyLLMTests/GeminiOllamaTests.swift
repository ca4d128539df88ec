import CAnyLLMTypes
import Testing
@testable import AnyLLM

@Suite struct GeminiTests {
    static func encode(_ text: String, vertex: Bool = false) throws -> (HTTPRequest, JSON) {
        let http = try Gemini(vertex: vertex).encode(Fixtures.request(text), endpoint: Endpoint(base: "https://g.test", apiKey: "AIza-secret"))
        return (http, try JSONReader.parse(http.body))
    }

    @Test func requestShape() throws {
        let (http, b) = try Self.encode(#"""
        {"model":"gemini:gemini-2.5-flash","stream":true,"max_tokens":50,"temperature":0.3,"stop":["x"],"seed":7,"reasoning_effort":"low",
         "tool_choice":{"type":"function","function":{"name":"get"}},
         "tools":[{"type":"function","function":{"name":"get","parameters":{"type":"object","additionalProperties":false,"$schema":"x",
            "properties":{"a":{"type":["string","null"]},"b":{"$ref":"#/$defs/B"}},"$defs":{"B":{"type":"object","properties":{"c":{"const":"k"}}}}}}}],
         "messages":[{"role":"system","content":"S"},{"role":"user","content":"q"},
          {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"get","arguments":"{\"a\":\"1\"}"},"extra_content":{"google":{"thought_signature":"SIG"}}}]},
          {"role":"tool","tool_call_id":"c1","content":"{\"ok\":true}"}]}
        """#)
        #expect(http.url == "https://g.test/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
        #expect(http.headers.contains { $0 == ("x-goog-api-key", "AIza-secret") })
        #expect(b["systemInstruction"]?["parts"]?.array?.first?["text"] == .string("S"))
        let contents = b["contents"]?.array ?? []
        #expect(contents.map { $0["role"]?.string ?? "" } == ["user", "model", "user"])
        let fc = contents[1]["parts"]?.array?.first
        #expect(fc?["functionCall"]?["args"] == (try JSONReader.parse(#"{"a":"1"}"#)))
        #expect(fc?["thoughtSignature"] == .string("SIG"))
        let fr = contents[2]["parts"]?.array?.first?["functionResponse"]
        #expect(fr?["name"] == .string("get"))
        #expect(fr?["response"] == (try JSONReader.parse(#"{"ok":true}"#)))
        let params = b["tools"]?.array?.first?["functionDeclarations"]?.array?.first?["parameters"]
        #expect(params?["additionalProperties"] == nil && params?["$schema"] == nil && params?["$defs"] == nil)
        #expect(params?["properties"]?["a"] == (try JSONReader.parse(#"{"type":"string","nullable":true}"#)))
        #expect(params?["properties"]?["b"]?["properties"]?["c"]?["enum"] == .array([.string("k")]))
        #expect(b["toolConfig"] == (try JSONReader.parse(#"{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get"]}}"#)))
        let g = b["generationConfig"]
        #expect(g?["maxOutputTokens"]?.int == 50 && g?["seed"]?.int == 7 && g?["stopSequences"] == .array([.string("x")]))
        #expect(g?["thinkingConfig"] == (try JSONReader.parse(#"{"thinkingBudget":1024,"includeThoughts":true}"#)))
    }

    @Test func vertexURLAndAuth() throws {
        let (http, b) = try Self.encode(#"{"model":"vertexai:gemini-2.5-pro","messages":"hi","vertex_project":"p1","vertex_location":"europe-west4","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}"#, vertex: true)
        #expect(http.url == "https://g.test/v1/projects/p1/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent")
        #expect(http.headers.contains { $0 == ("Authorization", "Bearer AIza-secret") })
        #expect(b["vertex_project"] == nil)
        #expect(b["generationConfig"]?["responseMimeType"] == .string("application/json"))
        #expect(b["generationConfig"]?["responseJsonSchema"] == (try JSONReader.parse(#"{"type":"object"}"#)))
        let req = Fixtures.request(#"{"model":"vertexai:g","messages":"hi","vertex_location":"global"}"#)
        #expect(try Gemini.vertexBase(req) == "https://aiplatform.googleapis.com")
    }

    @Test func decodeResponseAndErrors() throws {
        let body = Array(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"think","thought":true},{"text":"Hi"},{"functionCall":{"name":"get","args":{"a":1}},"thoughtSignature":"S"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3,"thoughtsTokenCount":2,"totalTokenCount":9},"modelVersion":"gemini-x","responseId":"r1"}"#.utf8)
        let r = try Gemini(vertex: false).decodeResponse(body, request: Fixtures.request(#"{"model":"gemini:g","messages":"hi"}"#))
        let m = r["choices"]?.array?.first?["message"]
        #expect(m?["content"] == .string("Hi") && m?["reasoning"]?["content"] == .string("think"))
        #expect(m?["tool_calls"]?.array?.first?["extra_content"]?["google"]?["thought_signature"] == .string("S"))
        #expect(r["choices"]?.array?.first?["finish_reason"] == .string("tool_calls"))
        #expect(r["usage"]?["completion_tokens"]?.int == 5 && r["usage"]?["completion_tokens_details"]?["reasoning_tokens"]?.int == 2)

        var head = HTTPResponseHead()
        head.status = 400
        let badKey = Gemini(vertex: false).decodeError(status: 400, head: head, body: Array(#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"#.utf8), provider: "gemini")
        #expect(badKey.status == ANYLLM_E_AUTHENTICATION)
        head.status = 429
        let rl = Gemini(vertex: false).decodeError(status: 429, head: head, body: Array(#"{"error":{"code":429,"message":"You exceeded your current quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}"#.utf8), provider: "gemini")
        #expect(rl.status == ANYLLM_E_RATE_LIMIT && rl.retryAfter == 7)
        head.status = 400
        let ctx = Gemini(vertex: false).decodeError(status: 400, head: head, body: Array(#"{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}"#.utf8), provider: "gemini")
        #expect(ctx.status == ANYLLM_E_CONTEXT_LENGTH)
    }

    /// Every recorded Gemini stream (the JSON-array form), in several splits, against the values
    /// read directly from the recorded array.
    @Test func recordedStreams() throws {
        var checked = 0
        for f in Fixtures.files("gemini") {
            let fx = Fixtures.read(f)
            guard fx["request"]?["uri"]?.string?.contains("streamGenerateContent") == true,
                  fx["response"]?["status"]?.int == 200, let text = fx["response"]?["body_text"]?.string,
                  let events = (try? JSONReader.parse(text))?.array else { continue }
            var wantText = "", wantThought = "", wantCalls: [String] = []
            var wantUsage: Int?
            for ev in events {
                for p in ev["candidates"]?.array?.first?["content"]?["parts"]?.array ?? [] {
                    if let fc = p["functionCall"] { wantCalls.append(fc["name"]?.string ?? "") }
                    else if let t = p["text"]?.string { if p["thought"] == .bool(true) { wantThought += t } else { wantText += t } }
                }
                if let u = ev["usageMetadata"]?["promptTokenCount"]?.int { wantUsage = u }
            }
            let req = Fixtures.request(#"{"model":"gemini:g","messages":"hi","stream":true}"#)
            for pieces in [[], [1], [13, 2, 200]] {
                let out = Fixtures.stream(Gemini(vertex: false).streamDecoder(for: req), Array(text.utf8), pieces: pieces)
                #expect(out.error == nil, "\(f): \(out.error?.message ?? "")")
                let m = out.result["choices"]?.array?.first?["message"]
                #expect((m?["content"]?.string ?? "") == wantText, "\(f)")
                #expect((m?["reasoning"]?["content"]?.string ?? "") == wantThought, "\(f)")
                #expect((m?["tool_calls"]?.array ?? []).map { $0["function"]?["name"]?.string ?? "" } == wantCalls, "\(f)")
                #expect(out.result["usage"]?["prompt_tokens"]?.int == wantUsage, "\(f)")
            }
            checked += 1
        }
        #expect(checked >= 5)
    }

    /// Chunks that only add text are written from a template without a tree
    /// (GeminiStreamDecoder.textChunk, ChunkEmitter.sendText): each must give the chunk the tree
    /// path writes for the same text (the same bytes when it has no escape), their usage must count
    /// when it is the last one, and every other chunk must be left to the tree path.
    @Test func textChunksFromTheTemplate() throws {
        let first = #"{"candidates":[{"content":{"parts":[{"text":"A"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":1,"totalTokenCount":6},"modelVersion":"gemini-2.5-flash","responseId":"r1"}"#
        let usage = #""usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"totalTokenCount":7,"promptTokensDetails":[{"modality":"TEXT","tokenCount":5}]}"#
        let long = String(repeating: "long ", count: 40)
        let accepted: [(String, String)] = [
            (#"{"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"},"index":0}],"# + usage + #","modelVersion":"gemini-2.5-flash","responseId":"r1"}"#, "Hello"),
            (#"{ "responseId" : "r1" , "candidates" : [ { "index" : 0 , "content" : { "role" : "model" , "parts" : [ { "text" : "a\"b\\c\n\u00e9\ud83d\ude00" } ] } } ] }"#,
             "a\"b\\c\né😀"),
            (#"{"candidates":[{"content":{"parts":[{"text":""}]}}]}"#, ""),
            (#"{"candidates":[{"content":{"parts":[{"text":"日本語 "# + long + #""}],"role":"model"}}],"# + usage + "}", "日本語 " + long),
        ]
        // Each left to the tree path (nil), with the text the stream must still carry.
        let refused: [(String, String)] = [
            (#"{"candidates":[{"content":{"parts":[{"text":"a"},{"text":"b"}],"role":"model"}}]}"#, "ab"),
            (#"{"candidates":[{"content":{"parts":[{"text":"t","thought":true}],"role":"model"}}]}"#, ""),
            (#"{"candidates":[{"content":{"parts":[{"text":"t"}],"role":"model"},"safetyRatings":[]}]}"#, "t"),
            (#"{"candidates":[{"content":{"parts":[{"text":"t"}],"role":"model"},"index":1}]}"#, ""),
            (#"{"candidates":[{"content":{"parts":[{"text":"t"}]}},{"content":{"parts":[{"text":"u"}]},"index":1}]}"#, "t"),
            (#"{"candidates":[{"content":{"parts":[{"text":"t"}]}}],"modelVersion":"gemini-2.5-pro"}"#, "t"),
            (#"{"candidates":[{"content":{"parts":[{"text":"t"}]}}],"responseId":"r2"}"#, "t"),
            (#"{"candidates":[{"content":{"parts":[{"text":"a","text":"b"}]}}]}"#, "a"),
            (#"{"candidates":[{"content":{"parts":[{"t\u0065xt":"t"}]}}]}"#, "t"),
            (#"{"candidates":[{"content":{"parts":[{"text":"t"}]}}],"promptFeedback":{}}"#, "t"),
            (#"{"candidates":[{"content":{"parts":[]}}]}"#, ""),
        ]
        let last = #"{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}"#
        let req = Fixtures.request(#"{"model":"gemini:g","messages":"hi","stream":true}"#)
        func run(_ chunk: String, last: String) -> (chunks: [JSONObject], bytes: [[UInt8]], result: JSON, error: AnyLLMError?) {
            let body = Array(("data: " + first + "\r\n\r\ndata: " + chunk + "\r\n\r\ndata: " + last + "\r\n\r\n").utf8)
            let out = Fixtures.stream(Gemini(vertex: false).streamDecoder(for: req), body, pieces: [])
            return (out.chunks, out.bytes, out.result, out.error)
        }
        func text(_ r: JSON) -> String { r["choices"]?.array?.first?["message"]?["content"]?.string ?? "" }
        for (chunk, want) in accepted {
            #expect(Array(chunk.utf8).withUnsafeBytes { GeminiStreamDecoder.textChunk($0, id: "r1", model: "gemini-2.5-flash") } != nil,
                    "\(chunk)")
            let out = run(chunk, last: last)
            #expect(out.error == nil)
            #expect(text(out.result) == "A" + want, "\(chunk)")
            let c = try #require(out.chunks.count == 4 ? out.chunks[1] : nil)  // first, text, finish, usage
            let tree = OpenAIShape.chunk(id: "r1", model: "gemini-2.5-flash", created: c["created"]?.int ?? 0,
                                         delta: JSONObject([("content", .string(want))]))
            #expect(c == tree, "\(chunk)")
            if !chunk.contains("\\u") { #expect(out.bytes[1] == JSON.object(tree).serialized, "\(chunk)") }
            // The last usage seen is the one sent: this chunk's when the finish has none.
            #expect(out.result["usage"]?["completion_tokens"]?.int == (chunk.contains("usageMetadata") ? 2 : 1), "\(chunk)")
        }
        // A finish chunk with usage of its own wins over an earlier text chunk's.
        let withUsage = run(accepted[0].0, last: last.replacing(#""modelVersion""#,
            with: #""usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"totalTokenCount":14},"modelVersion""#))
        #expect(withUsage.result["usage"]?["completion_tokens"]?.int == 9)
        for (chunk, want) in refused {
            #expect(Array(chunk.utf8).withUnsafeBytes { GeminiStreamDecoder.textChunk($0, id: "r1", model: "gemini-2.5-flash") } == nil,
                    "\(chunk)")
            let out = run(chunk, last: last)
            #expect(out.error == nil, "\(chunk)")
            #expect(text(out.result) == "A" + want, "\(chunk)")
        }
        #expect(Array(#"{"candidates":[{"content":{"parts":[{"text":"t"}]}}]} x"#.utf8)
            .withUnsafeBytes { GeminiStreamDecoder.textChunk($0, id: "r1", model: "gemini-2.5-flash") } == nil)
        #expect(run(#"{"candidates":[{"content":{"parts":[{"text":"t}]}}]}"#, last: last).error?.status == ANYLLM_E_PROVIDER)
    }

    @Test func sseFormAndTruncation() {
        let sse = Array("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"He\"}],\"role\":\"model\"},\"index\":0}]}\r\n\r\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"y\"}],\"role\":\"model\"},\"finishReason\":\"MAX_TOKENS\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":1,\"candidatesTokenCount\":2,\"totalTokenCount\":3}}\r\n\r\n".utf8)
        let req = Fixtures.request(#"{"model":"gemini:g","messages":"hi","stream":true}"#)
        let ok = Fixtures.stream(Gemini(vertex: false).streamDecoder(for: req), sse, pieces: [1])
        #expect(ok.error == nil)
        #expect(ok.result["choices"]?.array?.first?["message"]?["content"] == .string("Hey"))
        #expect(ok.result["choices"]?.array?.first?["finish_reason"] == .string("length"))
        #expect(ok.result["usage"]?["total_tokens"]?.int == 3)
        let cut = Fixtures.stream(Gemini(vertex: false).streamDecoder(for: req), Array("[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"He\"}]}}]}\n,\n{\"cand".utf8), pieces: [4])
        #expect(cut.error != nil)
        #expect(cut.result["choices"]?.array?.first?["message"]?["content"] == .string("He"))
    }

    /// Found by fuzzing (gemini_stream): whitespace arriving in its own reads before a single (bad)
    /// JSON object was dropped, so the error's byte offset depended on how the body was cut.
    @Test func singleObjectErrorDoesNotDependOnReads() {
        let body = Array("\n\n {\"candidates\":[],x}".utf8)
        let req = Fixtures.request(#"{"model":"gemini:g","messages":"hi","stream":true}"#)
        let whole = Fixtures.stream(Gemini(vertex: false).streamDecoder(for: req), body, pieces: [])
        let bytewise = Fixtures.stream(Gemini(vertex: false).streamDecoder(for: req), body, pieces: [1])
        #expect(whole.error != nil)
        #expect(whole.error?.message == bytewise.error?.message)
        #expect(whole.error?.message.contains("at byte 20") == true)
    }
}

@Suite struct OllamaTests {
    @Test func requestShape() throws {
        let http = try OllamaChat().encode(Fixtures.request(#"""
        {"model":"ollama:llama3.2","messages":[{"role":"user","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"data:image/png;base64,QQ=="}}]},
          {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},{"role":"tool","tool_call_id":"c1","content":"r"}],
         "max_tokens":9,"temperature":0.1,"stop":"z","response_format":{"type":"json_object"},"reasoning_effort":"none","keep_alive":"5m"}
        """#), endpoint: Endpoint(base: "http://127.0.0.1:11434/", apiKey: nil))
        let b = try JSONReader.parse(http.body)
        #expect(http.url == "http://127.0.0.1:11434/api/chat")
        #expect(b["stream"] == .bool(false))
        #expect(b["options"] == (try JSONReader.parse(#"{"temperature":0.1,"num_predict":9,"stop":["z"]}"#)))
        #expect(b["format"] == .string("json") && b["think"] == .bool(false) && b["keep_alive"] == .string("5m"))
        let msgs = b["messages"]?.array ?? []
        #expect(msgs[0]["images"] == .array([.string("QQ==")]))
        #expect(msgs[1]["tool_calls"]?.array?.first?["function"]?["arguments"] == (try JSONReader.parse(#"{"x":1}"#)))
        #expect(msgs[2]["tool_name"] == .string("f"))
        #expect(throws: AnyLLMError.self) {
            try OllamaChat().encode(Fixtures.request(#"{"model":"ollama:m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#), endpoint: Endpoint(base: "http://h", apiKey: nil))
        }
    }

    @Test func streamAndErrors() {
        let body = Array("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\r\n\n{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}]},\"done\":false}\n{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":4}".utf8)
        let req = Fixtures.request(#"{"model":"ollama:m","messages":"hi","stream":true}"#)
        for pieces in [[], [1], [5, 9]] {
            let out = Fixtures.stream(OllamaChat().streamDecoder(for: req), body, pieces: pieces)
            #expect(out.error == nil)
            let m = out.result["choices"]?.array?.first?["message"]
            #expect(m?["content"] == .string("Hello"))
            #expect(m?["tool_calls"]?.array?.first?["function"]?["arguments"] == .string(#"{"a":1}"#))
            #expect(out.result["choices"]?.array?.first?["finish_reason"] == .string("tool_calls"))
            #expect(out.result["usage"]?["total_tokens"]?.int == 7)
        }
        let err = Fixtures.stream(OllamaChat().streamDecoder(for: req), Array("{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"error\":\"boom\"}\n".utf8), pieces: [])
        #expect(err.error?.status == ANYLLM_E_PROVIDER && err.error?.message == "boom")
        let cut = Fixtures.stream(OllamaChat().streamDecoder(for: req), Array("{\"message\":{\"content\":\"a\"},\"done\":false}\n".utf8), pieces: [])
        #expect(cut.error != nil)
    }

    /// Lines that only add text are written from a template without a tree
    /// (OllamaStreamDecoder.textLine, ChunkEmitter.sendText): each must give the chunk the tree
    /// path writes for the same text (the same bytes when it has no escape), and every other
    /// line must be left to the tree path, which reads it as before.
    @Test func textLinesFromTheTemplate() throws {
        let first = #"{"model":"llama3.2:1b","created_at":"2025-06-01T00:00:00Z","message":{"role":"assistant","content":""},"done":false}"#
        let long = String(repeating: "long ", count: 40)
        let accepted: [(String, String)] = [
            (#"{"model":"llama3.2:1b","created_at":"2025-06-01T00:00:00Z","message":{"role":"assistant","content":"Hello"},"done":false}"#, "Hello"),
            (#"{ "done" : false , "message" : { "content" : "a\"b\\c\n\u00e9\ud83d\ude00" , "role" : "assistant" } , "model" : "llama3.2:1b" }"#,
             "a\"b\\c\né😀"),
            (#"{"model":"llama3.2:1b","message":{"content":"日本語 "# + long + #""},"done":false}"#, "日本語 " + long),
        ]
        // Each left to the tree path (nil), with the text the stream must still carry.
        let refused: [(String, String)] = [
            (#"{"model":"llama3.2:1b","message":{"role":"assistant","content":""},"done":false}"#, ""),
            (#"{"model":"other","message":{"role":"assistant","content":"t"},"done":false}"#, "t"),
            (#"{"model":"llama3.2:1b","message":{"role":"assistant","content":"t","thinking":"hm"},"done":false}"#, "t"),
            (#"{"model":"llama3.2:1b","message":{"role":"assistant","content":"t","images":null},"done":false}"#, "t"),
            (#"{"model":"llama3.2:1b","message":{"role":"assistant","content":"a","content":"b"},"done":false}"#, "a"),
            (#"{"model":"llama3.2:1b","message":{"role":"assistant","content":"t"},"done":false,"extra":1}"#, "t"),
            (#"{"model":"llama3.2:1b","message":{"role":"assistant","content":"t"}}"#, "t"),
            (#"{"model":"llama3.2:1b","message":{"role":"user","content":"t"},"done":false}"#, "t"),
            (#"{"model":"llama3.2:1b","message":{"role":"assistant","cont\u0065nt":"t"},"done":false}"#, "t"),
            (#"{"model":"llama3.2:1b","message":{"role":"assistant","content":7},"done":false}"#, ""),
            (#"{"model":"llama3.2:1\u0062","message":{"role":"assistant","content":"t"},"done":false}"#, "t"),
        ]
        let last = #"{"model":"llama3.2:1b","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1}"#
        let req = Fixtures.request(#"{"model":"ollama:m","messages":"hi","stream":true}"#)
        func run(_ line: String) -> (chunks: [JSONObject], bytes: [[UInt8]], text: String?, error: AnyLLMError?) {
            let out = Fixtures.stream(OllamaChat().streamDecoder(for: req), Array((first + "\n" + line + "\n" + last + "\n").utf8), pieces: [])
            let text = out.result["choices"]?.array?.first?["message"]?["content"]?.string ?? ""
            return (out.chunks, out.bytes, out.error == nil ? text : nil, out.error)
        }
        let model = "llama3.2:1b"
        for (line, want) in accepted {
            #expect(Array(line.utf8).withUnsafeBytes { OllamaStreamDecoder.textLine($0, model: model) } != nil, "\(line)")
            let out = run(line)
            #expect(out.error == nil)
            #expect(out.text == want, "\(line)")
            let c = try #require(out.chunks.count == 4 ? out.chunks[1] : nil)  // role, text, finish, usage
            let tree = OpenAIShape.chunk(id: c["id"]?.string ?? "", model: model, created: c["created"]?.int ?? 0,
                                         delta: JSONObject([("content", .string(want))]))
            #expect(c == tree, "\(line)")
            if !line.contains("\\u") && !line.contains("\\n") { #expect(out.bytes[1] == JSON.object(tree).serialized, "\(line)") }
        }
        for (line, want) in refused {
            #expect(Array(line.utf8).withUnsafeBytes { OllamaStreamDecoder.textLine($0, model: model) } == nil, "\(line)")
            let out = run(line)
            #expect(out.error == nil, "\(line)")
            #expect(out.text == want, "\(line)")
        }
        #expect(Array(#"{"model":"llama3.2:1b","message":{"content":"t"},"done":false} x"#.utf8)
            .withUnsafeBytes { OllamaStreamDecoder.textLine($0, model: model) } == nil)
        #expect(run(#"{"model":"llama3.2:1b","message":{"content":"t},"done":false}"#).error?.status == ANYLLM_E_PROVIDER)
    }
}

@Suite struct SplitterTests {
    @Test func jsonArrayRandomSplits() {
        let text = Array("  [ {\"a\":\"x]}\\\"\"} ,\r\n{\"b\":[1,{\"c\":2}]}\n]  ".utf8)
        for size in 1...9 {
            var s = JSONArrayStream()
            var out: [[UInt8]] = []
            var i = 0
            while i < text.count {
                let end = min(text.count, i + size)
                Array(text[i..<end]).withUnsafeBytes { s.feed($0, into: &out) }
                i = end
            }
            #expect(out.map { String(decoding: $0, as: UTF8.self) } == [#"{"a":"x]}\""}"#, #"{"b":[1,{"c":2}]}"#])
            #expect(!s.truncated && !s.stray)
        }
    }

    @Test func ndjsonSplits() {
        let text = Array("{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}".utf8)
        for size in 1...5 {
            var d = NDJSONDecoder()
            var out: [[UInt8]] = []
            var i = 0
            while i < text.count {
                let end = min(text.count, i + size)
                Array(text[i..<end]).withUnsafeBytes { d.feed($0, into: &out) }
                i = end
            }
            d.finish(into: &out)
            #expect(out.map { String(decoding: $0, as: UTF8.self) } == [#"{"a":1}"#, #"{"b":2}"#, #"{"c":3}"#])
        }
    }
}
