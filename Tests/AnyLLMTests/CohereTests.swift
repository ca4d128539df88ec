import CAnyLLMTypes
import Testing
@testable import AnyLLM

@Suite struct CohereTests {
    static func encode(_ text: String) throws -> (HTTPRequest, JSON) {
        let http = try CohereChat().encode(Fixtures.request(text), endpoint: Endpoint(base: "https://api.cohere.test/", apiKey: "co-secret"))
        return (http, try JSONReader.parse(http.body))
    }

    static func encodeError(_ text: String) -> AnyLLMError? {
        do {
            _ = try CohereChat().encode(Fixtures.request(text), endpoint: Endpoint(base: "https://a", apiKey: "k"))
            return nil
        } catch { return error }
    }

    @Test func requestShape() throws {
        let (http, b) = try Self.encode(#"""
        {"model":"cohere:command-a-03-2025","stop":"END","tool_choice":"required","stream":true,
         "tools":[{"type":"function","function":{"name":"get","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}},
                  {"type":"function","function":{"name":"bare"}}],
         "messages":[{"role":"system","content":"S1"},{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}}]},
          {"role":"developer","content":[{"type":"text","text":"S2"}]},
          {"role":"assistant","content":"calling","tool_calls":[{"id":"t1","type":"function","function":{"name":"get","arguments":"{\"a\":\"x\"}"}}]},
          {"role":"tool","tool_call_id":"t1","content":"r1"},{"role":"assistant","content":"done"},{"role":"user","content":"thanks"}]}
        """#)
        #expect(http.url == "https://api.cohere.test/v2/chat")
        #expect(http.headers.contains { $0 == ("Authorization", "Bearer co-secret") })
        #expect(http.headers.contains { $0 == ("Accept", "text/event-stream") })
        #expect(b["stream"] == .bool(true))
        #expect(b["stop_sequences"] == .array([.string("END")]))
        #expect(b["tool_choice"] == .string("REQUIRED"))
        #expect(b["tools"]?.array?.count == 2)
        #expect(b["tools"]?.array?[0] == (try JSONReader.parse(#"{"type":"function","function":{"name":"get","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}"#)))
        #expect(b["tools"]?.array?[1]["function"]?["parameters"] == (try JSONReader.parse(#"{"type":"object","properties":{}}"#)))
        let msgs = b["messages"]?.array ?? []
        #expect(msgs.map { $0["role"]?.string ?? "" } == ["system", "user", "assistant", "tool", "assistant", "user"])
        #expect(msgs[0]["content"] == .string("S1\n\nS2"))
        #expect(msgs[1]["content"]?.array?[1] == (try JSONReader.parse(#"{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}}"#)))
        #expect(msgs[2]["tool_plan"] == .string("calling"))
        #expect(msgs[2]["content"] == nil)
        #expect(msgs[2]["tool_calls"]?.array?.first?["function"]?["arguments"] == .string(#"{"a":"x"}"#))
        #expect(msgs[3] == (try JSONReader.parse(#"{"role":"tool","tool_call_id":"t1","content":"r1"}"#)))
        #expect(msgs[4]["content"] == .string("done"))
    }

    @Test func parameterMapping() throws {
        let (http, b) = try Self.encode(#"{"model":"cohere:c","messages":"hi","top_p":1,"top_k":5,"temperature":0.2,"seed":3,"max_completion_tokens":50,"frequency_penalty":0.1,"presence_penalty":0.3,"logprobs":true,"user":"u1","documents":["doc"],"response_format":{"type":"json_schema","json_schema":{"name":"Dog","schema":{"type":"object"}}},"reasoning_effort":"medium"}"#)
        #expect(http.headers.contains { $0 == ("Accept", "application/json") })
        #expect(b["stream"] == .bool(false))
        #expect(b["p"]?.double == 0.99)
        #expect(b["k"]?.int == 5)
        #expect(b["top_p"] == nil && b["top_k"] == nil && b["user"] == nil)
        #expect(b["max_tokens"]?.int == 50)
        #expect(b["temperature"]?.double == 0.2 && b["seed"]?.int == 3 && b["logprobs"] == .bool(true))
        #expect(b["frequency_penalty"]?.double == 0.1 && b["presence_penalty"]?.double == 0.3)
        #expect(b["documents"] == .array([.string("doc")]))
        #expect(b["response_format"] == (try JSONReader.parse(#"{"type":"json_object","json_schema":{"type":"object"}}"#)))
        #expect(b["thinking"] == (try JSONReader.parse(#"{"type":"enabled","token_budget":8192}"#)))
        let (_, low) = try Self.encode(#"{"model":"cohere:c","messages":"hi","top_p":0,"reasoning_effort":"none","response_format":{"type":"json_object"}}"#)
        #expect(low["p"]?.double == 0.01)
        #expect(low["thinking"] == (try JSONReader.parse(#"{"type":"disabled"}"#)))
        #expect(low["response_format"] == (try JSONReader.parse(#"{"type":"json_object"}"#)))
    }

    @Test func toolChoices() throws {
        let tools = #""tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]"#
        let (_, named) = try Self.encode(#"{"model":"cohere:c","messages":"hi",\#(tools),"tool_choice":{"type":"function","function":{"name":"b"}}}"#)
        #expect(named["tools"]?.array?.compactMap { $0["function"]?["name"]?.string } == ["b"])
        #expect(named["tool_choice"] == .string("REQUIRED"))
        let (_, none) = try Self.encode(#"{"model":"cohere:c","messages":"hi",\#(tools),"tool_choice":"none"}"#)
        #expect(none["tool_choice"] == .string("NONE") && none["tools"]?.array?.count == 2)
        let (_, auto) = try Self.encode(#"{"model":"cohere:c","messages":"hi",\#(tools),"tool_choice":"auto","parallel_tool_calls":true}"#)
        #expect(auto["tool_choice"] == nil && auto["parallel_tool_calls"] == nil)
    }

    @Test func unsupportedParametersAreNamed() {
        let cases = [(#""n":2"#, "n"), (#""logprobs":true,"top_logprobs":2"#, "top_logprobs"), (#""logit_bias":{"1":2}"#, "logit_bias"),
                     (#""parallel_tool_calls":false,"tools":[{"type":"function","function":{"name":"a"}}]"#, "parallel_tool_calls")]
        for (extra, param) in cases {
            let e = Self.encodeError(#"{"model":"cohere:c","messages":"hi",\#(extra)}"#)
            #expect(e?.status == ANYLLM_E_UNSUPPORTED_PARAMETER, "\(param)")
            #expect(e?.param == param)
        }
        #expect(Self.encodeError(#"{"model":"cohere:c","messages":"hi","n":1,"logprobs":true}"#) == nil)
        let img = Self.encodeError(#"{"model":"cohere:c","messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#)
        #expect(img?.status == ANYLLM_E_UNSUPPORTED_PARAMETER)
    }

    @Test func decodeResponse() throws {
        let body = Array(#"{"id":"5f6c","finish_reason":"TOOL_CALL","message":{"role":"assistant","content":[{"type":"thinking","thinking":"hmm"}],"tool_plan":"I will call get.","tool_calls":[{"id":"get_1","type":"function","function":{"name":"get","arguments":"{\"a\":1}"}},{"id":"get_2","type":"function","function":{"name":"get","arguments":{"a":2}}}]},"usage":{"billed_units":{"input_tokens":8,"output_tokens":4},"tokens":{"input_tokens":120.0,"output_tokens":30}}}"#.utf8)
        let r = try CohereChat().decodeResponse(body, request: Fixtures.request(#"{"model":"cohere:command-a","messages":"hi"}"#))
        #expect(r["id"] == .string("5f6c") && r["model"] == .string("command-a"))
        let c = r["choices"]?.array?.first
        let m = c?["message"]
        #expect(m?["content"] == .null)
        #expect(m?["reasoning"]?["content"] == .string("hmm\n\nI will call get."))
        #expect(m?["tool_calls"]?.array?.map { $0["function"]?["arguments"]?.string ?? "" } == [#"{"a":1}"#, #"{"a":2}"#])
        #expect(m?["tool_calls"]?.array?.first?["id"] == .string("get_1"))
        #expect(c?["finish_reason"] == .string("tool_calls"))
        #expect(r["usage"] == (try JSONReader.parse(#"{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150}"#)))

        // billed_units when tokens are absent; MAX_TOKENS → length; logprobs → OpenAI's content list.
        let text = Array(#"{"id":"x","finish_reason":"MAX_TOKENS","message":{"role":"assistant","content":[{"type":"text","text":"Hel"},{"type":"text","text":"lo"}]},"usage":{"billed_units":{"input_tokens":3,"output_tokens":2}},"logprobs":[{"text":"Hel","token_ids":[1,2],"logprobs":[-0.5,-0.25]}]}"#.utf8)
        let t = try CohereChat().decodeResponse(text, request: Fixtures.request(#"{"model":"cohere:c","messages":"hi"}"#))
        #expect(t["choices"]?.array?.first?["message"]?["content"] == .string("Hello"))
        #expect(t["choices"]?.array?.first?["finish_reason"] == .string("length"))
        #expect(t["usage"]?["prompt_tokens"]?.int == 3 && t["usage"]?["completion_tokens"]?.int == 2)
        #expect(t["choices"]?.array?.first?["logprobs"]?["content"]?.array?.first?["logprob"]?.double == -0.75)

        for reason in ["COMPLETE", "STOP_SEQUENCE"] {
            let s = try CohereChat().decodeResponse(Array(#"{"id":"x","finish_reason":"\#(reason)","message":{"role":"assistant","content":[{"type":"text","text":"ok"}]}}"#.utf8),
                                                    request: Fixtures.request(#"{"model":"cohere:c","messages":"hi"}"#))
            #expect(s["choices"]?.array?.first?["finish_reason"] == .string("stop"))
        }
    }

    @Test func failedAnswersAreErrors() {
        let req = Fixtures.request(#"{"model":"cohere:c","messages":"hi"}"#)
        for (body, status) in [(#"{"id":"x","finish_reason":"ERROR","message":{"role":"assistant","content":[{"type":"text","text":"par"}]}}"#, ANYLLM_E_PROVIDER),
                               (#"{"id":"x","finish_reason":"TIMEOUT","message":{"role":"assistant"}}"#, ANYLLM_E_PROVIDER),
                               (#"{"message":"too many tokens: size limit exceeded by 5 tokens."}"#, ANYLLM_E_CONTEXT_LENGTH),
                               (#"{"id":"x"}"#, ANYLLM_E_PROVIDER), ("<html>", ANYLLM_E_PROVIDER)] {
            do {
                _ = try CohereChat().decodeResponse(Array(body.utf8), request: req)
                Issue.record("no error for \(body)")
            } catch {
                #expect(error.status == status, "\(body)")
            }
        }
    }

    @Test func errorMapping() {
        func map(_ status: Int, _ message: String) -> AnyLLMError {
            CohereChat().decodeError(status: status, head: HTTPResponseHead(status: status, headers: []),
                                     body: Array(#"{"id":"0e1","message":"\#(message)"}"#.utf8), provider: "cohere")
        }
        #expect(map(400, "too many tokens: size limit exceeded by 11326 tokens. Try using shorter or fewer inputs.").status == ANYLLM_E_CONTEXT_LENGTH)
        #expect(map(400, "too many tokens: max tokens must be less than or equal to 4096, the maximum output for this model - received 8192.").status == ANYLLM_E_INVALID_REQUEST)
        #expect(map(400, "invalid request: temperature must be between 0 and 1.0 inclusive.").status == ANYLLM_E_INVALID_REQUEST)
        let auth = map(401, "invalid api token")
        #expect(auth.status == ANYLLM_E_AUTHENTICATION && auth.message == "invalid api token")
        #expect(auth.providerError?["id"] == .string("0e1"))
        #expect(map(402, "Please add or update your payment method").status == ANYLLM_E_INSUFFICIENT_FUNDS)
        #expect(map(404, "model 'x' not found").status == ANYLLM_E_NOT_FOUND)
        #expect(map(422, "invalid request").status == ANYLLM_E_INVALID_REQUEST)
        #expect(map(429, "You are using a Trial key").status == ANYLLM_E_RATE_LIMIT)
        #expect(map(498, "invalid api token").status == ANYLLM_E_AUTHENTICATION)
        #expect(map(499, "request cancelled").status == ANYLLM_E_PROVIDER)
        #expect(map(500, "internal server error").status == ANYLLM_E_PROVIDER)
        #expect(map(503, "service unavailable").status == ANYLLM_E_PROVIDER)
    }

    @Test func contentTypesThatStream() {
        let c = CohereChat()
        #expect(c.streamsBody(contentType: "text/event-stream"))
        #expect(c.streamsBody(contentType: "application/stream+json"))
        #expect(c.streamsBody(contentType: "application/x-ndjson"))
        #expect(!c.streamsBody(contentType: "application/json"))
    }
}

/// A stream of every event type, as Cohere documents them: thinking, a tool plan, two tool calls
/// (arguments in fragments), text, citations, and message-end with usage.
@Suite struct CohereStreamTests {
    static let events: [String] = [
        #"{"id":"c0ffee","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}"#,
        #"{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"thinking","thinking":""}}}}"#,
        #"{"type":"content-delta","index":0,"delta":{"message":{"content":{"thinking":"Need "}}}}"#,
        #"{"type":"content-delta","index":0,"delta":{"message":{"content":{"thinking":"weather — ☂"}}}}"#,
        #"{"type":"content-end","index":0}"#,
        #"{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"I will "}}}"#,
        #"{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"check."}}}"#,
        #"{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"get_weather_a1","type":"function","function":{"name":"get_weather","arguments":""}}}}}"#,
        #"{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"{\"city\":"}}}}}"#,
        #"{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"\"Zürich\"}"}}}}}"#,
        #"{"type":"tool-call-end","index":0}"#,
        #"{"type":"tool-call-start","index":1,"delta":{"message":{"tool_calls":{"id":"get_time_b2","type":"function","function":{"name":"get_time","arguments":"{\"tz\""}}}}}"#,
        #"{"type":"tool-call-delta","index":1,"delta":{"message":{"tool_calls":{"function":{"arguments":":\"CET\"}"}}}}}"#,
        #"{"type":"tool-call-end","index":1}"#,
        #"{"type":"content-start","index":1,"delta":{"message":{"content":{"type":"text","text":""}}}}"#,
        #"{"type":"content-delta","index":1,"delta":{"message":{"content":{"text":"Checking "}}}}"#,
        #"{"type":"citation-start","index":0,"delta":{"message":{"citations":{"start":0,"end":8,"text":"Checking","sources":[]}}}}"#,
        #"{"type":"citation-end","index":0}"#,
        #"{"type":"content-delta","index":1,"delta":{"message":{"content":{"text":"now 你好"}}}}"#,
        #"{"type":"content-end","index":1}"#,
        #"{"type":"message-end","delta":{"finish_reason":"TOOL_CALL","usage":{"billed_units":{"input_tokens":9,"output_tokens":21},"tokens":{"input_tokens":700,"output_tokens":40}}}}"#,
    ]

    static func sse(named: Bool, eol: String = "\n") -> [UInt8] {
        var s = ""
        for e in events {
            let type = (try? JSONReader.parse(e))?["type"]?.string ?? ""
            if named { s += "event: \(type)\(eol)" }
            s += "data: \(e)\(eol)\(eol)"
        }
        return Array(s.utf8)
    }

    static var jsonLines: [UInt8] { Array((events.joined(separator: "\n") + "\n").utf8) }

    static func decode(_ body: [UInt8], pieces: [Int]) -> (chunks: [JSONObject], result: JSON, error: AnyLLMError?) {
        let req = Fixtures.request(#"{"model":"cohere:command-a","messages":"hi","stream":true}"#)
        let out = Fixtures.stream(CohereChat().streamDecoder(for: req), body, pieces: pieces)
        return (out.chunks, out.result, out.error)
    }

    /// Deterministic pseudo-random piece sizes (1…40).
    static func randomPieces(seed: UInt64) -> [Int] {
        var x = seed
        return (0..<64).map { _ in
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return Int((x >> 33) % 40) + 1
        }
    }

    static func checkFull(_ out: (chunks: [JSONObject], result: JSON, error: AnyLLMError?), _ what: String) {
        #expect(out.error == nil, "\(what): \(out.error?.message ?? "")")
        let r = out.result
        #expect(r["id"] == .string("c0ffee"), "\(what)")
        let c = r["choices"]?.array?.first
        let m = c?["message"]
        #expect(m?["content"] == .string("Checking now 你好"), "\(what)")
        #expect(m?["reasoning"]?["content"] == .string("Need weather — ☂\n\nI will check."), "\(what)")
        let calls = m?["tool_calls"]?.array ?? []
        #expect(calls.map { $0["id"]?.string ?? "" } == ["get_weather_a1", "get_time_b2"], "\(what)")
        #expect(calls.map { $0["function"]?["arguments"]?.string ?? "" } == [#"{"city":"Zürich"}"#, #"{"tz":"CET"}"#], "\(what)")
        #expect(c?["finish_reason"] == .string("tool_calls"), "\(what)")
        #expect(r["usage"]?["prompt_tokens"]?.int == 700 && r["usage"]?["completion_tokens"]?.int == 40, "\(what)")
        // First chunk carries the role; tool-call indexes are 0 and 1 and stable; usage comes last, alone.
        #expect(out.chunks.first?["choices"]?.array?.first?["delta"]?["role"] == .string("assistant"), "\(what)")
        var indexes: [Int] = []
        for ch in out.chunks {
            for tc in ch["choices"]?.array?.first?["delta"]?["tool_calls"]?.array ?? [] { indexes.append(tc["index"]?.int ?? -1) }
        }
        #expect(indexes == [0, 0, 0, 1, 1], "\(what)")
        #expect(out.chunks.last?["choices"] == .array([]) && out.chunks.last?["usage"] != nil, "\(what)")
    }

    @Test func everyFramingAndSplit() {
        let bodies: [(String, [UInt8])] = [("sse with event lines", Self.sse(named: true)), ("sse without event lines", Self.sse(named: false)),
                                           ("sse crlf", Self.sse(named: true, eol: "\r\n")), ("json lines", Self.jsonLines),
                                           ("sse + [DONE]", Self.sse(named: true) + Array("data: [DONE]\n\n".utf8))]
        for (name, body) in bodies {
            for pieces in [[], [1], [7, 3, 64]] { Self.checkFull(Self.decode(body, pieces: pieces), "\(name) \(pieces)") }
            for seed in 1...8 as ClosedRange<UInt64> {
                Self.checkFull(Self.decode(body, pieces: Self.randomPieces(seed: seed)), "\(name) random \(seed)")
            }
        }
    }

    /// Found by fuzzing (cohere_stream): whitespace read on its own before the framing was known went
    /// to the SSE decoder and was lost when the body turned out to be JSON lines, so a bad line's
    /// error offset depended on how the body was cut. Also: leading blank lines before either framing.
    @Test func leadingWhitespaceReadsDoNotChangeTheOutcome() {
        let bad = Array(" {\nnot json\n".utf8)
        let whole = Self.decode(bad, pieces: [])
        #expect(whole.error?.message.contains("at byte 2") == true, "\(whole.error?.message ?? "no error")")
        #expect(Self.decode(bad, pieces: [1]).error?.message == whole.error?.message)
        for body in [Array("\r\n \n".utf8) + Self.jsonLines, Array("\n\r\n".utf8) + Self.sse(named: true)] {
            for pieces in [[], [1], [2, 1]] { Self.checkFull(Self.decode(body, pieces: pieces), "leading whitespace \(pieces)") }
        }
    }

    @Test func cutStreamKeepsThePartial() {
        let cut = Array(Self.events.prefix(17)).map { "event: x\ndata: \($0)\n\n" }.joined()
        for pieces in [[], [1], [5, 11]] {
            let out = Self.decode(Array(cut.utf8), pieces: pieces)
            #expect(out.error?.status == ANYLLM_E_PROVIDER)
            #expect(out.error?.message.contains("message-end") == true)
            let m = out.result["choices"]?.array?.first?["message"]
            #expect(m?["content"] == .string("Checking "))
            #expect(m?["tool_calls"]?.array?.count == 2)
            #expect(out.result["choices"]?.array?.first?["finish_reason"] == .null)
        }
    }

    @Test func failedGenerationMidStream() {
        let body = Array((Self.events.prefix(1) + [#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hel"}}}}"#,
                                                   #"{"type":"message-end","delta":{"error":"model overloaded","finish_reason":"ERROR"}}"#])
            .map { "data: \($0)\n\n" }.joined().utf8)
        for pieces in [[], [1], [9]] {
            let out = Self.decode(body, pieces: pieces)
            #expect(out.error?.status == ANYLLM_E_PROVIDER)
            #expect(out.error?.message.contains("model overloaded") == true)
            #expect(out.result["choices"]?.array?.first?["message"]?["content"] == .string("Hel"))
        }
        let errorLine = Array("{\"type\":\"message-start\",\"id\":\"a\"}\n{\"message\":\"too many tokens: size limit exceeded\"}\n".utf8)
        #expect(Self.decode(errorLine, pieces: [4]).error?.status == ANYLLM_E_CONTEXT_LENGTH)
        let garbage = Array("event: message-start\ndata: {not json\n\n".utf8)
        #expect(Self.decode(garbage, pieces: []).error?.status == ANYLLM_E_PROVIDER)
    }

    @Test func textOnlyStream() {
        let body = Array([#"{"id":"t1","type":"message-start","delta":{"message":{"role":"assistant"}}}"#,
                          #"{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}"#,
                          #"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hi"}}}}"#,
                          #"{"type":"message-end","delta":{"finish_reason":"MAX_TOKENS","usage":{"billed_units":{"input_tokens":1,"output_tokens":1}}}}"#]
            .map { "event: e\ndata: \($0)\n\n" }.joined().utf8)
        let out = Self.decode(body, pieces: [3])
        #expect(out.error == nil)
        #expect(out.result["choices"]?.array?.first?["message"]?["content"] == .string("Hi"))
        #expect(out.result["choices"]?.array?.first?["message"]?["reasoning"] == nil)
        #expect(out.result["choices"]?.array?.first?["finish_reason"] == .string("length"))
        #expect(out.result["usage"]?["total_tokens"]?.int == 2)
    }
}
