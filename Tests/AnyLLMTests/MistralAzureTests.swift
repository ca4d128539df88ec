import CAnyLLMTypes
import Testing
@testable import AnyLLM

/// Provider quirks as registry data (Mistral, Azure AI inference), typed content chunks, Mistral's error bodies.
@Suite struct MistralAzureTests {
    static func encode(_ text: String, base: String = "https://x.test/v1") throws -> (HTTPRequest, JSON) {
        let req = try CompletionRequest.parse(try JSONReader.parse(text))
        let http = try OpenAIChat().encode(req, endpoint: Endpoint(base: base, apiKey: "sk-secret-key"))
        return (http, try JSONReader.parse(http.body))
    }

    static func encodeError(_ text: String) -> AnyLLMError? {
        do { _ = try encode(text) } catch { return error as? AnyLLMError }
        return nil
    }

    @Test func mistralRenamesAndRespellings() throws {
        let (http, body) = try Self.encode(#"{"model":"mistral:mistral-small-latest","messages":[{"role":"developer","content":"Be brief"},{"role":"user","content":"hi"}],"seed":7,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","max_completion_tokens":9,"safe_prompt":true,"prompt_mode":"reasoning"}"#)
        #expect(http.url == "https://x.test/v1/chat/completions")
        #expect(body["random_seed"]?.int == 7 && body["seed"] == nil)
        #expect(body["tool_choice"] == .string("any"))
        #expect(body["max_tokens"]?.int == 9 && body["max_completion_tokens"] == nil)
        #expect(body["messages"]?.array?.first?["role"] == .string("system"))
        #expect(body["safe_prompt"] == .bool(true) && body["prompt_mode"] == .string("reasoning"))
        // A named tool choice and the other strings are Mistral's too.
        let (_, named) = try Self.encode(#"{"model":"mistral:m","messages":"hi","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}"#)
        #expect(named["tool_choice"]?["function"]?["name"] == .string("f"))
        let (_, auto) = try Self.encode(#"{"model":"mistral:m","messages":"hi","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"auto"}"#)
        #expect(auto["tool_choice"] == .string("auto"))
    }

    @Test(arguments: ["\"logprobs\":true", "\"top_logprobs\":3", "\"logit_bias\":{\"1\":2}", "\"user\":\"u\""])
    func mistralRefusesWhatItCannotTake(_ param: String) {
        let e = Self.encodeError(#"{"model":"mistral:m","messages":"hi",\#(param)}"#)
        let name = String(param.split(separator: ":")[0].dropFirst().dropLast())
        #expect(e?.status == ANYLLM_E_UNSUPPORTED_PARAMETER)
        #expect(e?.param == name)
        #expect(e?.message.contains("mistral does not support \(name)") == true)
    }

    @Test func otherProvidersAreUntouched() throws {
        let (_, body) = try Self.encode(#"{"model":"openai:gpt-4o","messages":[{"role":"developer","content":"x"}],"seed":7,"user":"u","logprobs":true,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"}"#)
        #expect(body["seed"]?.int == 7 && body["random_seed"] == nil && body["user"] == .string("u"))
        #expect(body["tool_choice"] == .string("required"))
        #expect(body["messages"]?.array?.first?["role"] == .string("developer"))
    }

    @Test func azureInferenceURLVersionAndExtrasHeader() throws {
        let (http, body) = try Self.encode(#"{"model":"azure:Mistral-Large-2411","messages":"hi","stream":true}"#,
                                           base: "https://res.services.ai.azure.com/models/")
        #expect(http.url == "https://res.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview")
        #expect(http.headers.contains { $0 == ("api-key", "sk-secret-key") })
        #expect(!http.headers.contains { $0.0 == "Authorization" || $0.0 == "extra-parameters" })
        #expect(body["model"] == .string("Mistral-Large-2411") && body["stream_options"] == nil)

        let (http2, body2) = try Self.encode(#"{"model":"azure:m","messages":"hi","api_version":"2024-08-01-preview","user":"u","safe_prompt":true}"#)
        #expect(http2.url.hasSuffix("/chat/completions?api-version=2024-08-01-preview"))
        #expect(body2["api_version"] == nil && body2["user"] == .string("u"))
        #expect(http2.headers.contains { $0 == ("extra-parameters", "pass-through") })
    }

    @Test func registryRowsCarryTheQuirks() {
        let azure = Registry.find("azure")
        #expect(azure?.baseURL == nil && azure?.baseEnv == "AZURE_AI_CHAT_ENDPOINT" && azure?.keyEnv == "AZURE_API_KEY")
        #expect(azure?.urlStyle == .azureInference)
        #expect(Registry.find("mistral")?.quirks.renames["seed"] == "random_seed")
        #expect(Registry.find("openai")?.quirks.isEmpty == true)
        #expect(URLStyle.azureDeployment.apiVersionEnv == ["OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION"])
    }

    // MARK: - typed content chunks

    static let magistralBody = #"{"id":"a1","object":"chat.completion","model":"magistral-medium-2509","created":1,"usage":{"prompt_tokens":2,"total_tokens":9,"completion_tokens":7},"choices":[{"index":0,"message":{"role":"assistant","tool_calls":null,"content":[{"type":"thinking","thinking":[{"type":"text","text":"Let me "},{"type":"reference","reference_ids":[1]},{"type":"text","text":"think."}]},{"type":"text","text":"The answer "},{"type":"reference","reference_ids":[0,2]},{"type":"text","text":"is 4."}]},"finish_reason":"stop"}]}"#

    @Test func thinkingChunksBecomeReasoningAndStringContent() throws {
        let req = Fixtures.request(#"{"model":"mistral:magistral-medium-2509","messages":"hi"}"#)
        let (j, bytes) = try OpenAIChat().decodeResponseBytes(Array(Self.magistralBody.utf8), request: req)
        let m = j["choices"]?.array?.first?["message"]
        #expect(m?["content"] == .string("The answer is 4."))
        #expect(m?["reasoning"]?["content"] == .string("Let me think."))
        // The bytes returned are the normalised completion, not the provider's.
        #expect(try JSONReader.parse(bytes) == j)
    }

    @Test func chunkListEdgeCases() {
        func flat(_ text: String) -> JSONObject { ContentChunks.flatten(try! JSONReader.parse(text).object!) }
        // Thinking only (e.g. with tool calls): content null.
        #expect(flat(#"{"content":[{"type":"thinking","thinking":"hmm"}]}"#)["content"] == .null)
        #expect(flat(#"{"content":[{"type":"thinking","thinking":"hmm"}]}"#)["reasoning"]?["content"] == .string("hmm"))
        // Bare strings and unknown typed chunks with text count as text; an empty list is no text.
        #expect(flat(#"{"content":["a",{"type":"output_text","text":"b"},{"type":"image_url","image_url":"x"}]}"#)["content"] == .string("ab"))
        #expect(flat(#"{"content":[]}"#)["content"] == .null)
        // String content is left alone (the cheap path).
        #expect(!ContentChunks.isChunkList(.string("x")) && !ContentChunks.isChunkList(nil))
    }

    @Test func plainStringAnswerIsReturnedAsReceived() throws {
        let req = Fixtures.request(#"{"model":"mistral:mistral-small-latest","messages":"hi"}"#)
        let text = #"{"id":"a","object":"chat.completion","model":"m","created":1,"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#
        let (_, bytes) = try OpenAIChat().decodeResponseBytes(Array(text.utf8), request: req)
        #expect(bytes == Array(text.utf8))
    }

    static let magistralStream: String = {
        func ev(_ delta: String, _ finish: String = "null", _ extra: String = "") -> String {
            #"data: {"id":"s1","object":"chat.completion.chunk","created":1,"model":"magistral-small","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(finish)}]\#(extra)}"# + "\n\n"
        }
        return ev(#"{"role":"assistant","content":""}"#)
            + ev(#"{"content":[{"type":"thinking","thinking":[{"type":"text","text":"Let "}]}]}"#)
            + ev(#"{"content":[{"type":"thinking","thinking":[{"type":"text","text":"me think."}]}]}"#)
            + ev(#"{"content":[{"type":"text","text":"Héllo "}]}"#)
            + ev(#"{"content":"wörld 👋"}"#)
            + ev(#"{"content":""}"#, #""stop""#, #","usage":{"prompt_tokens":2,"total_tokens":9,"completion_tokens":7}"#)
            + "data: [DONE]\n\n"
    }()

    @Test(arguments: [[1], [3], [7], [64], []])
    func streamedThinkingChunksInSplits(_ pieces: [Int]) throws {
        let req = Fixtures.request(#"{"model":"mistral:magistral-small","messages":"hi","stream":true}"#)
        let out = Fixtures.stream(OpenAIChat().streamDecoder(for: req), Array(Self.magistralStream.utf8), pieces: pieces)
        #expect(out.error == nil)
        #expect(out.chunks.count == 6)
        #expect(out.chunks.allSatisfy { !ContentChunks.isChunkList($0["choices"]?.array?.first?["delta"]?["content"]) })
        #expect(out.chunks[1]["choices"]?.array?.first?["delta"]?["reasoning"]?["content"] == .string("Let "))
        #expect(out.chunks[1]["choices"]?.array?.first?["delta"]?["content"] == .null)
        let m = out.result["choices"]?.array?.first?["message"]
        #expect(m?["content"] == .string("Héllo wörld 👋"))
        #expect(m?["reasoning"]?["content"] == .string("Let me think."))
        #expect(out.result["usage"]?["total_tokens"]?.int == 9)
    }

    @Test func streamedChunkBytesAreNormalised() throws {
        let req = Fixtures.request(#"{"model":"mistral:magistral-small","messages":"hi","stream":true}"#)
        let d = OpenAIChat().streamDecoder(for: req)
        var sent: [[UInt8]] = []
        let body = Array(Self.magistralStream.utf8)
        try body.withUnsafeBytes { buf in try d.feed(buf) { sent.append($0.ownedBytes) } }
        try d.finish { sent.append($0.ownedBytes) }
        #expect(sent.count == 6)
        for b in sent {
            let j = try JSONReader.parse(b)
            #expect(!ContentChunks.isChunkList(j["choices"]?.array?.first?["delta"]?["content"]))
        }
        // The plain-string chunk goes out byte for byte.
        #expect(String(decoding: sent[4], as: UTF8.self).contains(#""content":"wörld 👋""#))
    }

    @Test func modelLengthBecomesLength() throws {
        let req = Fixtures.request(#"{"model":"mistral:mistral-small-latest","messages":"hi","stream":true}"#)
        let body = #"data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"a"},"finish_reason":null}]}"# + "\n\n"
            + #"data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"b"},"finish_reason":"model_length"}]}"# + "\n\ndata: [DONE]\n\n"
        let out = Fixtures.stream(OpenAIChat().streamDecoder(for: req), Array(body.utf8), pieces: [5])
        #expect(out.error == nil)
        #expect(out.chunks.last?["choices"]?.array?.first?["finish_reason"] == .string("length"))
        #expect(out.result["choices"]?.array?.first?["finish_reason"] == .string("length"))
        let answer = #"{"id":"a","object":"chat.completion","model":"m","created":1,"choices":[{"index":0,"message":{"role":"assistant","content":"ab"},"finish_reason":"model_length"}]}"#
        let j = try OpenAIChat().decodeResponse(Array(answer.utf8), request: req)
        #expect(j["choices"]?.array?.first?["finish_reason"] == .string("length"))
    }

    @Test func errorObjectInsteadOfAChunkIsAnError() {
        let req = Fixtures.request(#"{"model":"mistral:mistral-small-latest","messages":"hi","stream":true}"#)
        let body = #"data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"par"},"finish_reason":null}]}"# + "\n\n"
            + #"data: {"object":"error","message":"Service unavailable.","type":"service_unavailable","param":null,"code":"1000"}"# + "\n\n"
        let out = Fixtures.stream(OpenAIChat().streamDecoder(for: req), Array(body.utf8), pieces: [])
        #expect(out.error != nil)
        #expect(out.error?.message.contains("Service unavailable") == true)
        #expect(out.result["choices"]?.array?.first?["message"]?["content"] == .string("par"))
    }

    // MARK: - Mistral's error bodies

    static func map(_ status: Int, _ body: String) -> AnyLLMError {
        var head = HTTPResponseHead()
        head.status = status
        return ErrorMapping.map(status: status, head: head, body: Array(body.utf8), provider: "mistral")
    }

    @Test func mistral422BodiesAreReadable() {
        let forms = [
            #"{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","seed"],"msg":"Extra inputs are not permitted","input":3}]},"type":"invalid_request_error","param":null,"code":null}"#,
            #"{"object":"Error","detail":[{"type":"extra_forbidden","loc":["body","seed"],"msg":"Extra inputs are not permitted","input":3}],"message":[{"type":"extra_forbidden","loc":["body","seed"],"msg":"Extra inputs are not permitted","input":3}],"type":"invalid_request_error","code":3001}"#,
            #"{"detail":[{"type":"extra_forbidden","loc":["body","seed"],"msg":"Extra inputs are not permitted","input":3}]}"#,
            #"{"object":"error","message":"{\"detail\":[{\"type\":\"extra_forbidden\",\"loc\":[\"body\",\"seed\"],\"msg\":\"Extra inputs are not permitted\",\"input\":3}]}","type":"internal_error_proxy","param":null,"code":"1000"}"#,
        ]
        for f in forms {
            let e = Self.map(422, f)
            #expect(e.status == ANYLLM_E_INVALID_REQUEST)
            #expect(e.message == "seed: Extra inputs are not permitted")
            #expect(e.providerError != nil)
        }
        let two = Self.map(422, #"{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","messages",0,"user","name"],"msg":"Extra inputs are not permitted"},{"type":"missing","loc":["body","model"],"msg":"Field required"}]},"type":"invalid_request_error","param":null,"code":null}"#)
        #expect(two.message == "messages[0].user.name: Extra inputs are not permitted; model: Field required")
        #expect(two.param == "messages[0].user.name")
    }

    @Test func mistralOtherErrors() {
        #expect(Self.map(401, #"{"message":"Unauthorized","request_id":"abc"}"#).status == ANYLLM_E_AUTHENTICATION)
        #expect(Self.map(401, #"{"message":"Unauthorized","request_id":"abc"}"#).message == "Unauthorized")
        let rl = Self.map(429, #"{"object":"error","message":"Rate limit exceeded","type":"rate_limited","param":null,"code":"1300"}"#)
        #expect(rl.status == ANYLLM_E_RATE_LIMIT && rl.message == "Rate limit exceeded")
        #expect(Self.map(429, #"{"message":"Requests rate limit exceeded"}"#).status == ANYLLM_E_RATE_LIMIT)
        let model = Self.map(400, #"{"object":"error","message":"Invalid model: nope","type":"invalid_model","param":null,"code":"1500"}"#)
        #expect(model.status == ANYLLM_E_NOT_FOUND && model.message == "Invalid model: nope")
        let ctx = Self.map(400, #"{"object":"error","message":"Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length","type":"invalid_request_message_error","param":null,"code":"3051"}"#)
        #expect(ctx.status == ANYLLM_E_CONTEXT_LENGTH)
    }
}
