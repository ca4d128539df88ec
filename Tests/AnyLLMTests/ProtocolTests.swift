import CAnyLLMTypes
import Testing
@testable import AnyLLM

@Suite struct OpenAIProtocolTests {
    static func encode(_ text: String, base: String = "https://x.test/v1") throws -> (HTTPRequest, JSON) {
        let req = try CompletionRequest.parse(try JSONReader.parse(text))
        let http = try OpenAIChat().encode(req, endpoint: Endpoint(base: base, apiKey: "sk-secret-key"))
        return (http, try JSONReader.parse(http.body))
    }

    @Test func openAIUsesMaxCompletionTokensAndStreamUsage() throws {
        let (http, body) = try Self.encode(#"{"model":"openai:gpt-4o","messages":"hi","max_tokens":5,"stream":true,"temperature":0.5,"top_k":3}"#)
        #expect(http.url == "https://x.test/v1/chat/completions")
        #expect(http.headers.contains { $0 == ("Authorization", "Bearer sk-secret-key") })
        #expect(body["max_completion_tokens"]?.int == 5)
        #expect(body["max_tokens"] == nil)
        #expect(body["stream_options"]?["include_usage"] == .bool(true))
        #expect(body["temperature"] == .number("0.5"))
        #expect(body["top_k"]?.int == 3)
        #expect(body["reasoning_effort"] == nil)
        #expect(body["api_key"] == nil && body["provider"] == nil)
    }

    @Test func compatibleProvidersKeepMaxTokensAndQuirks() throws {
        let (_, groq) = try Self.encode(#"{"model":"groq:llama","messages":"hi","max_tokens":5}"#)
        #expect(groq["max_tokens"]?.int == 5)
        let (_, mistral) = try Self.encode(#"{"model":"mistral:small","messages":"hi","stream":true,"stream_options":{"include_usage":true}}"#)
        #expect(mistral["stream_options"] == nil)
    }

    @Test func azureDeploymentURLAndHeader() throws {
        let (http, body) = try Self.encode(#"{"model":"azureopenai:my-dep","messages":"hi","api_version":"2024-06-01"}"#,
                                           base: "https://res.openai.azure.com/")
        #expect(http.url == "https://res.openai.azure.com/openai/deployments/my-dep/chat/completions?api-version=2024-06-01")
        #expect(http.headers.contains { $0 == ("api-key", "sk-secret-key") })
        #expect(!http.headers.contains { $0.0 == "Authorization" })
        #expect(body["api_version"] == nil)
    }

    @Test func reasoningContentIsNormalized() throws {
        let req = try CompletionRequest.parse(try JSONReader.parse(#"{"model":"deepseek:r1","messages":"hi"}"#))
        let body = Array(#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"A","reasoning_content":"R"},"finish_reason":"stop"}]}"#.utf8)
        let r = try OpenAIChat().decodeResponse(body, request: req)
        let m = r["choices"]?.array?.first?["message"]
        #expect(m?["reasoning"]?["content"] == .string("R"))
        #expect(m?["reasoning_content"] == nil)
    }

    @Test func errorBodyIn200IsAnError() throws {
        let req = try CompletionRequest.parse(try JSONReader.parse(#"{"model":"openai:x","messages":"hi"}"#))
        #expect(throws: AnyLLMError.self) {
            try OpenAIChat().decodeResponse(Array(#"{"error":{"message":"boom","type":"server_error"}}"#.utf8), request: req)
        }
    }
}

@Suite struct ErrorMappingTests {
    static func map(_ status: Int, _ body: String, headers: [(String, String)] = []) -> AnyLLMError {
        var head = HTTPResponseHead()
        head.status = status
        head.headers = headers.map { (name: $0.0, value: $0.1) }
        return ErrorMapping.map(status: status, head: head, body: Array(body.utf8), provider: "openai")
    }

    @Test(arguments: [
        (401, ANYLLM_E_AUTHENTICATION), (403, ANYLLM_E_PERMISSION), (404, ANYLLM_E_NOT_FOUND),
        (402, ANYLLM_E_INSUFFICIENT_FUNDS), (429, ANYLLM_E_RATE_LIMIT), (400, ANYLLM_E_INVALID_REQUEST),
        (422, ANYLLM_E_INVALID_REQUEST), (500, ANYLLM_E_PROVIDER), (503, ANYLLM_E_PROVIDER), (529, ANYLLM_E_PROVIDER),
    ])
    func statuses(_ code: Int, _ expected: anyllm_status) {
        let e = Self.map(code, #"{"error":{"message":"m","type":"t"}}"#)
        #expect(e.status == expected)
        #expect(e.httpStatus == code)
        #expect(e.message == "m")
    }

    @Test func contextLengthQuotaAndFilter() {
        #expect(Self.map(400, #"{"error":{"message":"This model's maximum context length is 8192 tokens.","code":"context_length_exceeded"}}"#).status == ANYLLM_E_CONTEXT_LENGTH)
        #expect(Self.map(429, #"{"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}"#).status == ANYLLM_E_INSUFFICIENT_FUNDS)
        #expect(Self.map(400, #"{"error":{"message":"filtered","code":"content_filter"}}"#).status == ANYLLM_E_CONTENT_FILTER)
    }

    @Test func retryAfterForms() {
        #expect(Self.map(429, "{}", headers: [("retry-after-ms", "1500"), ("Retry-After", "2")]).retryAfter == 1.5)
        #expect(Self.map(429, "{}", headers: [("Retry-After", "7")]).retryAfter == 7)
        #expect(ErrorMapping.httpDate("Wed, 21 Oct 2015 07:28:00 GMT") == 1_445_412_480)
        #expect(Self.map(429, "{}", headers: [("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")]).retryAfter == 0)
    }

    @Test func htmlBodyGivesReadableMessage() {
        let e = Self.map(404, "<html><body><h1>404 Not Found</h1></body></html>")
        #expect(e.message == "HTTP 404: 404 Not Found")
        #expect(e.providerError == .string("<html><body><h1>404 Not Found</h1></body></html>"))
    }

    @Test func secretsAreRedacted() {
        var e = Self.map(401, #"{"error":{"message":"Incorrect API key provided: sk-secret-key-123"}}"#)
        e.partial = nil
        let text = e.json(redactor: Redactor(secrets: ["sk-secret-key-123"])).text
        #expect(!text.contains("sk-secret-key-123"))
        #expect(text.contains("[redacted]"))
    }

    /// Found by fuzzing (openai_response): a key followed by a combining mark (U+06D6 here) ends
    /// inside a grapheme cluster, and String's Character-wise `contains` did not find it, so the
    /// key went out in `provider_error`. A prepended mark (U+0600) before it does the same at its start.
    @Test func secretsNextToCombiningMarksAreRedacted() throws {
        let key = "sk-fuzz-SECRET-0123456789"
        // As bytes: String's `contains` has the very blind spot this test is about.
        func has(_ s: String, _ needle: String) -> Bool {
            let h = Array(s.utf8), k = Array(needle.utf8)
            guard h.count >= k.count else { return false }
            return (0...(h.count - k.count)).contains { h[$0..<($0 + k.count)].elementsEqual(k) }
        }
        let red = Redactor(secrets: [key])
        for text in ["a \(key)\u{06D6} b", "a \u{0600}\(key) b", "\(key)\u{0301}", "\u{0600}\(key)\u{0301}\(key)"] {
            #expect(!has(red.clean(text), key), "\(Array(text.unicodeScalars))")
            #expect(has(red.clean(text), "[redacted]"))
        }
        // The fuzzer's input: an answer that is not JSON, echoed as text in provider_error.
        let body: [UInt8] = Array(#"{"  ""#.utf8) + Array(key.utf8) + [0xDB, 0x96, 0xBB, 0x9E] + Array("essegm\t[".utf8)
        let req = try CompletionRequest.parse(try JSONReader.parse(#"{"model":"openai:m","messages":"hi"}"#))
        do throws(AnyLLMError) {
            _ = try OpenAIChat().decodeResponseBytes(body, request: req)
            Issue.record("an answer that is not JSON was accepted")
        } catch {
            let text = error.json(redactor: red).text
            #expect(!has(text, key), "\(text)")
            #expect(has(text, "[redacted]"))
        }
    }

    /// Found by fuzzing (client_options, errors): the key as an unknown option's name (echoed in
    /// `param`) and as a member name in the provider's error body were not redacted.
    @Test func secretsAreRedactedFromParamAndMemberNames() throws {
        let red = Redactor(secrets: ["sk-secret-key-123"])
        let options = try JSONReader.parse(#"{"sk-secret-key-123": 1}"#)
        do throws(AnyLLMError) {
            _ = try ClientOptions().merged(with: options, field: "options")
            Issue.record("an unknown option was accepted")
        } catch {
            let text = error.json(redactor: red).text
            #expect(!text.contains("sk-secret-key-123"), "\(text)")
            #expect(error.json(redactor: red)["error"]?["param"]?.string?.contains("[redacted]") == true)
        }
        let e = Self.map(401, #"{"error":{"message":"no","details":{"sk-secret-key-123":true}}}"#)
        let text = e.json(redactor: red).text
        #expect(!text.contains("sk-secret-key-123"), "\(text)")
        #expect(text.contains("[redacted]"))
    }

    @Test func credentialsInHeaders() {
        let c = Redactor.credentials(headers: [("Authorization", "Bearer tok-abcdef123"), ("X-Api-Key", "k-123456789"),
                                               ("X-Trace", "not-a-secret-value")])
        #expect(c.contains("Bearer tok-abcdef123") && c.contains("tok-abcdef123") && c.contains("k-123456789"))
        #expect(!c.contains("not-a-secret-value"))
        #expect(Redactor.credentials(headers: []).isEmpty)
    }
}

@Suite struct RegistryTests {
    @Test func requiredProvidersExist() {
        for n in ["openai", "azureopenai", "mistral", "groq", "deepseek", "xai", "together", "fireworks", "openrouter",
                  "perplexity", "cerebras", "nebius", "sambanova", "moonshot", "huggingface", "databricks", "lmstudio",
                  "llamacpp", "llamafile", "vllm"] {
            #expect(Registry.find(n) != nil, "missing \(n)")
        }
        #expect(Set(Registry.names).count == Registry.names.count)
    }

    @Test func everyRowIsUsable() {
        for p in Registry.providers {
            #expect(p.baseURL != nil || p.baseEnv != nil || p.wire == .vertex, "\(p.name) has no way to find its URL")
            #expect(p.keyEnv != nil || p.keyOptional, "\(p.name) has no key variable")
            if let b = p.baseURL { #expect(b.hasPrefix("https://") || b.hasPrefix("http://127.0.0.1")) }
        }
    }

    @Test func registryJSON() throws {
        let v = Registry.json { $0 == "OPENAI_API_KEY" ? "x" : nil }
        let rows = v["providers"]?.array ?? []
        #expect(rows.count == Registry.providers.count)
        #expect(rows.first { $0["name"] == .string("openai") }?["api_key_set"] == .bool(true))
        #expect(rows.first { $0["name"] == .string("groq") }?["api_key_set"] == .bool(false))
    }
}

@Suite struct OpenAIOutgoingMessages {
    @Test func ourReasoningObjectIsNotSentBack() throws {
        let req = try CompletionRequest.parse(try JSONReader.parse(#"{"model":"deepseek:r1","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","reasoning":{"content":"why"}},{"role":"user","content":"more"}]}"#))
        let http = try OpenAIChat().encode(req, endpoint: Endpoint(base: "https://x", apiKey: "k"))
        let body = try JSONReader.parse(http.body)
        #expect(body["messages"]?.array?[1]["reasoning"] == nil)
        #expect(body["messages"]?.array?[1]["content"] == .string("a"))
    }
}

@Suite struct PassThrough {
    /// A body that needs no normalisation comes back byte for byte, also through `any WireProtocol`.
    @Test func unchangedOpenAIBodyIsReturnedAsReceived() throws {
        let body = Array(#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}   "#.utf8)
        let proto: any WireProtocol = OpenAIChat()
        let (_, bytes) = try proto.decodeResponseBytes(body, request: Fixtures.request(#"{"model":"openai:m","messages":"hi"}"#))
        #expect(bytes == body)
        let changed = Array(#"{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"A","reasoning_content":"R"}}]}"#.utf8)
        let (_, out) = try proto.decodeResponseBytes(changed, request: Fixtures.request(#"{"model":"deepseek:m","messages":"hi"}"#))
        #expect(out != changed)
        #expect(String(decoding: out, as: UTF8.self).contains(#""reasoning":{"content":"R"}"#))
    }
}
