import CAnyLLMTypes
import Testing
@testable import AnyLLM

@Suite struct AnthropicTests {
    static func encode(_ text: String) throws -> (HTTPRequest, JSON) {
        let http = try AnthropicMessages().encode(Fixtures.request(text), endpoint: Endpoint(base: "https://api.anthropic.test", apiKey: "sk-ant-secret"))
        return (http, try JSONReader.parse(http.body))
    }

    @Test func requestShape() throws {
        let (http, b) = try Self.encode(#"""
        {"model":"anthropic:claude-sonnet-4-5","stop":"END","tool_choice":"required","parallel_tool_calls":false,
         "tools":[{"type":"function","function":{"name":"get","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],
         "messages":[{"role":"system","content":"S1"},{"role":"developer","content":"S2"},
          {"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"image_url","image_url":{"url":"https://x/y.jpg"}}]},
          {"role":"assistant","content":"calling","tool_calls":[{"id":"t1","type":"function","function":{"name":"get","arguments":"{\"a\":\"x\"}"}},{"id":"t2","type":"function","function":{"name":"get","arguments":"{}"}}]},
          {"role":"tool","tool_call_id":"t1","content":"r1"},{"role":"tool","tool_call_id":"t2","content":"r2"},{"role":"user","content":"thanks"}]}
        """#)
        #expect(http.url == "https://api.anthropic.test/v1/messages")
        #expect(http.headers.contains { $0 == ("x-api-key", "sk-ant-secret") })
        #expect(http.headers.contains { $0 == ("anthropic-version", "2023-06-01") })
        #expect(b["max_tokens"]?.int == 4096)
        #expect(b["system"]?.array?.compactMap { $0["text"]?.string } == ["S1", "S2"])
        #expect(b["stop_sequences"] == .array([.string("END")]))
        #expect(b["tool_choice"] == (try JSONReader.parse(#"{"type":"any","disable_parallel_tool_use":true}"#)))
        #expect(b["tools"]?.array?.first?["input_schema"]?["properties"]?["a"] != nil)
        let msgs = b["messages"]?.array ?? []
        #expect(msgs.map { $0["role"]?.string ?? "" } == ["user", "assistant", "user"])
        let img = msgs[0]["content"]?.array ?? []
        #expect(img[1]["source"] == (try JSONReader.parse(#"{"type":"base64","media_type":"image/png","data":"AAAA"}"#)))
        #expect(img[2]["source"]?["type"] == .string("url"))
        let asst = msgs[1]["content"]?.array ?? []
        #expect(asst.map { $0["type"]?.string ?? "" } == ["text", "tool_use", "tool_use"])
        #expect(asst[1]["input"] == (try JSONReader.parse(#"{"a":"x"}"#)))
        // Both tool results and the following user text merged into one user turn.
        #expect(msgs[2]["content"]?.array?.map { $0["type"]?.string ?? "" } == ["tool_result", "tool_result", "text"])
        #expect(msgs[2]["content"]?.array?.first?["tool_use_id"] == .string("t1"))
    }

    @Test func reasoningAndStructuredOutput() throws {
        let (_, b) = try Self.encode(#"{"model":"anthropic:claude-sonnet-4-5","messages":"hi","max_tokens":100,"reasoning_effort":"low","response_format":{"type":"json_schema","json_schema":{"name":"Dog","schema":{"type":"object","properties":{"name":{"type":"string"}}}}}}"#)
        #expect(b["thinking"] == (try JSONReader.parse(#"{"type":"enabled","budget_tokens":2048}"#)))
        #expect(b["max_tokens"]?.int == 2148)
        #expect(b["output_config"]?["format"]?["type"] == .string("json_schema"))
        let (_, old) = try Self.encode(#"{"model":"anthropic:claude-3-5-haiku-latest","messages":"hi","response_format":{"type":"json_schema","json_schema":{"name":"Dog","schema":{"type":"object"}}}}"#)
        #expect(old["output_config"] == nil)
        #expect(old["tool_choice"] == (try JSONReader.parse(#"{"type":"tool","name":"json_response"}"#)))
        #expect((try? AnthropicMessages().encode(Fixtures.request(#"{"model":"anthropic:x","messages":"hi","n":2}"#), endpoint: Endpoint(base: "https://a", apiKey: "k"))) == nil)
    }

    @Test func decodeResponse() throws {
        let body = Array(#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Hi"},{"type":"tool_use","id":"toolu_1","name":"get","input":{"a":1}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":3,"cache_creation_input_tokens":2}}"#.utf8)
        let r = try AnthropicMessages().decodeResponse(body, request: Fixtures.request(#"{"model":"anthropic:claude-x","messages":"hi"}"#))
        let m = r["choices"]?.array?.first?["message"]
        #expect(m?["content"] == .string("Hi"))
        #expect(m?["reasoning"]?["content"] == .string("hmm"))
        #expect(m?["tool_calls"]?.array?.first?["function"]?["arguments"] == .string(#"{"a":1}"#))
        #expect(r["choices"]?.array?.first?["finish_reason"] == .string("tool_calls"))
        #expect(r["usage"]?["prompt_tokens"]?.int == 15)
        #expect(r["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.int == 3)
    }

    /// Every recorded Anthropic stream, fed byte by byte and in odd splits: the decoded text,
    /// reasoning, tool calls and usage equal what the recording's events say.
    @Test func recordedStreams() throws {
        let files = Fixtures.files("anthropic")
        #expect(files.count > 10)
        for f in files {
            let fx = Fixtures.read(f)
            guard fx["stream"] == .bool(true), fx["response"]?["status"]?.int == 200,
                  let text = fx["response"]?["body_text"]?.string else { continue }
            // Expected values read straight from the recorded events.
            var wantText = "", wantThinking = "", wantTools: [String] = [], wantOutput: Int?
            for line in text.split(separator: "\n") where line.hasPrefix("data: ") {
                guard let ev = try? JSONReader.parse(String(line.dropFirst(6))) else { continue }
                if ev["type"]?.string == "content_block_delta" {
                    if let t = ev["delta"]?["text"]?.string, ev["delta"]?["type"]?.string == "text_delta" { wantText += t }
                    if let t = ev["delta"]?["thinking"]?.string { wantThinking += t }
                }
                if ev["type"]?.string == "content_block_start", ev["content_block"]?["type"]?.string == "tool_use" {
                    wantTools.append(ev["content_block"]?["name"]?.string ?? "")
                }
                if ev["type"]?.string == "message_delta" { wantOutput = ev["usage"]?["output_tokens"]?.int }
            }
            let req = Fixtures.request(#"{"model":"anthropic:claude","messages":"hi","stream":true}"#)
            for pieces in [[], [1], [7, 3, 64]] {
                let out = Fixtures.stream(AnthropicMessages().streamDecoder(for: req), Array(text.utf8), pieces: pieces)
                #expect(out.error == nil, "\(f): \(out.error?.message ?? "")")
                let m = out.result["choices"]?.array?.first?["message"]
                #expect((m?["content"]?.string ?? "") == wantText, "\(f)")
                #expect((m?["reasoning"]?["content"]?.string ?? "") == wantThinking, "\(f)")
                #expect((m?["tool_calls"]?.array ?? []).map { $0["function"]?["name"]?.string ?? "" } == wantTools, "\(f)")
                for call in m?["tool_calls"]?.array ?? [] {
                    #expect((try? JSONReader.parse(call["function"]?["arguments"]?.string ?? ""))?.object != nil, "\(f)")
                }
                if let o = wantOutput { #expect(out.result["usage"]?["completion_tokens"]?.int == o, "\(f)") }
            }
        }
    }

    /// Text deltas are written from a template without a tree (AnthropicStreamDecoder.textDelta,
    /// ChunkEmitter.sendText): each must give the chunk the tree path writes for the same text
    /// (the same bytes when the text has no escape), and every other shape must be left to the
    /// tree path, which reads it as before.
    @Test func textDeltasFromTheTemplate() throws {
        let start = #"{"type":"message_start","message":{"id":"msg_\"q\"","model":"claude \"x\"","usage":{"input_tokens":1}}}"#
        let long = String(repeating: "long ", count: 40)
        let accepted: [(String, String)] = [
            (#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#, "Hello"),
            (#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":""}}"#, ""),
            (#"{ "delta" : { "text" : "a\"b\\c\n\u00e9\ud83d\ude00/\/" , "type" : "text_delta" } , "index" : 0 , "type" : "content_block_delta" }"#,
             "a\"b\\c\né😀//"),
            (#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"no index"}}"#, "no index"),
            (#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"日本語 "# + long + #""}}"#, "日本語 " + long),
        ]
        // Each left to the tree path (nil), with the text the stream must still carry ("" = none).
        let refused: [(String, String)] = [
            (#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","text":"b"}}"#, "a"),
            (#"{"type":"content_block_delta","type":"x","index":0,"delta":{"type":"text_delta","text":"t"}}"#, "t"),
            (#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"t"},"extra":1}"#, "t"),
            (#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"t","citations":[]}}"#, "t"),
            (#"{"type":"content_block_delta","index":0,"delta":{"typ\u0065":"text_delta","text":"t"}}"#, "t"),
            (#"{"type":"content_block_delta","index":0.5,"delta":{"type":"text_delta","text":"t"}}"#, "t"),
            (#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"t"}}"#, ""),
            (#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":7}}"#, ""),
            (#"{"type":"content_block_delta","index":0,"delta":{"text":"t"}}"#, ""),
            (#"{"type":"ping"}"#, ""),
        ]
        let req = Fixtures.request(#"{"model":"anthropic:claude","messages":"hi","stream":true}"#)
        func run(_ data: String) -> (chunks: [JSONObject], bytes: [[UInt8]], text: String?, error: AnyLLMError?) {
            let body = "event: message_start\ndata: \(start)\n\nevent: content_block_delta\ndata: \(data)\n\n"
                + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n"
                + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
            let out = Fixtures.stream(AnthropicMessages().streamDecoder(for: req), Array(body.utf8), pieces: [])
            let text = out.result["choices"]?.array?.first?["message"]?["content"]?.string ?? ""
            return (out.chunks, out.bytes, out.error == nil ? text : nil, out.error)
        }
        for (data, want) in accepted {
            #expect(Array(data.utf8).withUnsafeBytes { AnthropicStreamDecoder.textDelta($0) } != nil, "\(data)")
            let out = run(data)
            #expect(out.error == nil)
            #expect(out.text == want, "\(data)")
            let c = try #require(out.chunks.count == 4 ? out.chunks[1] : nil)  // role, text, finish, usage
            let tree = OpenAIShape.chunk(id: #"msg_"q""#, model: #"claude "x""#, created: c["created"]?.int ?? 0,
                                         delta: JSONObject([("content", .string(want))]))
            #expect(c == tree, "\(data)")
            if !data.contains("\\") { #expect(out.bytes[1] == JSON.object(tree).serialized, "\(data)") }
        }
        for (data, want) in refused {
            #expect(Array(data.utf8).withUnsafeBytes { AnthropicStreamDecoder.textDelta($0) } == nil, "\(data)")
            let out = run(data)
            #expect(out.error == nil, "\(data)")
            #expect(out.text == want, "\(data)")
        }
        // Invalid JSON is the tree path's to report.
        let broken = run(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"t}}"#)
        #expect(broken.error?.status == ANYLLM_E_PROVIDER)
        #expect(Array(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"t"}} x"#.utf8)
            .withUnsafeBytes { AnthropicStreamDecoder.textDelta($0) } == nil)
    }

    @Test func errorEventMidStream() {
        let body = Array("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".utf8)
        let req = Fixtures.request(#"{"model":"anthropic:claude","messages":"hi","stream":true}"#)
        let out = Fixtures.stream(AnthropicMessages().streamDecoder(for: req), body, pieces: [5])
        #expect(out.error?.status == ANYLLM_E_PROVIDER)
        #expect(out.error?.message == "Overloaded")
        #expect(out.result["choices"]?.array?.first?["message"]?["content"] == .string("Hel"))
    }
}

@Suite struct AnthropicThinkingRoundTrip {
    /// With thinking on, a tool result must follow the signed thinking block it answers: the
    /// signature decoded from a stream goes back in the next request.
    @Test func signatureSurvivesTheRoundTrip() throws {
        let stream = Array(("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\n" +
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n" +
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"plan\"}}\n\n" +
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"U0lH\"}}\n\n" +
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get\",\"input\":{}}}\n\n" +
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n" +
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":5}}\n\n" +
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n").utf8)
        let req = Fixtures.request(#"{"model":"anthropic:claude","messages":"hi","stream":true}"#)
        let out = Fixtures.stream(AnthropicMessages().streamDecoder(for: req), stream, pieces: [9])
        #expect(out.error == nil)
        let msg = try #require(out.result["choices"]?.array?.first?["message"])
        #expect(msg["reasoning"]?["signature"] == .string("U0lH"))
        var next = JSONObject([("model", .string("anthropic:claude")), ("reasoning_effort", .string("low"))])
        next["messages"] = .array([try JSONReader.parse(#"{"role":"user","content":"hi"}"#), msg,
                                   try JSONReader.parse(#"{"role":"tool","tool_call_id":"toolu_1","content":"42"}"#)])
        let http = try AnthropicMessages().encode(try CompletionRequest.parse(.object(next)), endpoint: Endpoint(base: "https://a", apiKey: "k"))
        let body = try JSONReader.parse(http.body)
        let asst = body["messages"]?.array?[1]["content"]?.array ?? []
        #expect(asst.first?["type"] == .string("thinking"))
        #expect(asst.first?["signature"] == .string("U0lH"))
        #expect(asst.first?["thinking"] == .string("plan"))
    }
}
