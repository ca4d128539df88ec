import CAnyLLMTypes
import Testing
@testable import AnyLLM

/// Bedrock Converse: request encoding and signing, response and stream decoding, error mapping.
@Suite struct BedrockTests {
    static let creds = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                      sessionToken: "session-token-EXAMPLE")
    static let fixed = BedrockConverse(clock: { 1_440_938_160 })

    static func encode(_ text: String, endpoint: Endpoint? = nil) throws -> (HTTPRequest, JSON) {
        let ep = endpoint ?? Endpoint(base: "https://bedrock-runtime.us-west-2.amazonaws.com", apiKey: nil, aws: creds, region: "us-west-2")
        let http = try fixed.encode(Fixtures.request(text), endpoint: ep)
        return (http, try JSONReader.parse(http.body))
    }

    static func header(_ h: HTTPRequest, _ name: String) -> String? { h.headers.first { $0.0.lowercased() == name }?.1 }

    @Test func signedRequestWithColonInModelID() throws {
        let (http, _) = try Self.encode(#"{"model":"bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0","messages":"hi"}"#)
        #expect(http.url == "https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse")
        #expect(Self.header(http, "host") == "bedrock-runtime.us-west-2.amazonaws.com")
        #expect(Self.header(http, "x-amz-date") == "20150830T123600Z")
        #expect(Self.header(http, "x-amz-security-token") == "session-token-EXAMPLE")
        // The signature is the one SigV4 gives for the doubly encoded canonical path.
        let expect = SigV4.sign(method: "POST", path: "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
                                headers: [("Host", "bedrock-runtime.us-west-2.amazonaws.com"), ("Content-Type", "application/json")],
                                body: http.body, credentials: Self.creds, region: "us-west-2", service: "bedrock", unixTime: 1_440_938_160)
        #expect(expect.canonicalRequest.contains("\n/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse\n"))
        #expect(Self.header(http, "authorization") == expect.headers.last?.1)
        #expect(Self.header(http, "authorization")?.hasPrefix(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-west-2/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=") == true)
        #expect(!http.headers.contains { $0.1.contains(Self.creds.secretAccessKey) })
        let (stream, _) = try Self.encode(#"{"model":"bedrock:m","messages":"hi","stream":true}"#)
        #expect(stream.url.hasSuffix("/model/m/converse-stream"))
        #expect(Self.header(stream, "accept") == "application/vnd.amazon.eventstream")
    }

    @Test func credentialsRegionAndRedaction() throws {
        let r = Fixtures.request(#"{"model":"bedrock:m","messages":"hi","aws_region":"eu-west-3","aws_access_key_id":"AKIDX","aws_secret_access_key":"secret/abcdef123","aws_session_token":"token-abcdef123"}"#)
        let ep = try CallPolicy.resolveEndpoint(r)
        #expect(ep.base == "https://bedrock-runtime.eu-west-3.amazonaws.com")
        #expect(ep.region == "eu-west-3")
        #expect(ep.apiKey == nil && ep.aws?.accessKeyID == "AKIDX")
        // The secret and the token are redacted from anything that leaves the library.
        let red = Redactor(secrets: ep.secrets)
        #expect(red.clean("echo secret/abcdef123 and token-abcdef123") == "echo [redacted] and [redacted]")
        // api_key wins (the bearer form), api_base overrides the regional URL.
        let b = try CallPolicy.resolveEndpoint(Fixtures.request(#"{"model":"bedrock:m","messages":"hi","api_key":"bedrock-api-key-1","api_base":"http://127.0.0.1:1","aws_access_key_id":"AKIDX","aws_secret_access_key":"s"}"#))
        #expect(b.apiKey == "bedrock-api-key-1" && b.aws == nil && b.base == "http://127.0.0.1:1")
        // Half a key pair is refused, naming the missing half.
        #expect(throws: AnyLLMError.self) {
            try CallPolicy.resolveEndpoint(Fixtures.request(#"{"model":"bedrock:m","messages":"hi","aws_access_key_id":"AKIDX"}"#))
        }
    }

    @Test func bearerForm() throws {
        let (http, _) = try Self.encode(#"{"model":"bedrock:m","messages":"hi"}"#,
                                        endpoint: Endpoint(base: "http://127.0.0.1:9/", apiKey: "bedrock-api-key-x", region: "us-east-1"))
        #expect(http.url == "http://127.0.0.1:9/model/m/converse")
        #expect(Self.header(http, "authorization") == "Bearer bedrock-api-key-x")
        #expect(Self.header(http, "x-amz-date") == nil)
        #expect(Self.header(http, "host") == "127.0.0.1:9")
    }

    @Test func requestShape() throws {
        let (_, b) = try Self.encode(#"""
        {"model":"bedrock:anthropic.claude-sonnet-4-5","stop":["END"],"max_tokens":50,"temperature":0.5,"top_p":0.9,"tool_choice":"required","top_k":7,
         "aws_region":"eu-west-1","guardrailConfig":{"guardrailIdentifier":"g","guardrailVersion":"1"},
         "tools":[{"type":"function","function":{"name":"get","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],
         "messages":[{"role":"system","content":"S1"},{"role":"developer","content":"S2"},
          {"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,AAAA"}}]},
          {"role":"assistant","content":"calling","reasoning":{"content":"hmm","signature":"sig1"},"tool_calls":[{"id":"t1","type":"function","function":{"name":"get","arguments":"{\"a\":\"x\"}"}},{"id":"t2","type":"function","function":{"name":"get","arguments":"{}"}}]},
          {"role":"tool","tool_call_id":"t1","content":"{\"temp\":21}"},{"role":"tool","tool_call_id":"t2","content":"plain"},{"role":"user","content":"thanks"}]}
        """#)
        #expect(b["system"] == (try JSONReader.parse(#"[{"text":"S1"},{"text":"S2"}]"#)))
        #expect(b["inferenceConfig"] == (try JSONReader.parse(#"{"maxTokens":50,"temperature":0.5,"topP":0.9,"stopSequences":["END"]}"#)))
        #expect(b["toolConfig"] == (try JSONReader.parse(#"{"tools":[{"toolSpec":{"name":"get","description":"d","inputSchema":{"json":{"type":"object","properties":{"a":{"type":"string"}}}}}}],"toolChoice":{"any":{}}}"#)))
        #expect(b["additionalModelRequestFields"] == (try JSONReader.parse(#"{"top_k":7}"#)))
        #expect(b["guardrailConfig"]?["guardrailIdentifier"] == .string("g"))
        #expect(b["aws_region"] == nil)
        let msgs = b["messages"]?.array ?? []
        #expect(msgs.map { $0["role"]?.string ?? "" } == ["user", "assistant", "user"])
        #expect(msgs[0]["content"] == (try JSONReader.parse(#"[{"text":"look"},{"image":{"format":"jpeg","source":{"bytes":"AAAA"}}}]"#)))
        #expect(msgs[1]["content"] == (try JSONReader.parse(#"[{"reasoningContent":{"reasoningText":{"text":"hmm","signature":"sig1"}}},{"text":"calling"},{"toolUse":{"toolUseId":"t1","name":"get","input":{"a":"x"}}},{"toolUse":{"toolUseId":"t2","name":"get","input":{}}}]"#)))
        #expect(msgs[2]["content"] == (try JSONReader.parse(#"[{"toolResult":{"toolUseId":"t1","content":[{"json":{"temp":21}}]}},{"toolResult":{"toolUseId":"t2","content":[{"text":"plain"}]}},{"text":"thanks"}]"#)))
    }

    @Test func toolChoiceNoneReasoningAndStructuredOutput() throws {
        let tools = #""tools":[{"type":"function","function":{"name":"get","parameters":{"type":"object"}}}]"#
        let (_, none) = try Self.encode(#"{"model":"bedrock:m","messages":"hi","tool_choice":"none",\#(tools)}"#)
        #expect(none["toolConfig"] == nil)
        let (_, named) = try Self.encode(#"{"model":"bedrock:m","messages":"hi","tool_choice":{"type":"function","function":{"name":"get"}},\#(tools)}"#)
        #expect(named["toolConfig"]?["toolChoice"] == (try JSONReader.parse(#"{"tool":{"name":"get"}}"#)))
        let (_, claude) = try Self.encode(#"{"model":"bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0","messages":"hi","max_tokens":100,"reasoning_effort":"low"}"#)
        #expect(claude["additionalModelRequestFields"] == (try JSONReader.parse(#"{"thinking":{"type":"enabled","budget_tokens":2048}}"#)))
        #expect(claude["inferenceConfig"]?["maxTokens"]?.int == 2148)
        let (_, nova) = try Self.encode(#"{"model":"bedrock:amazon.nova-2-lite-v1:0","messages":"hi","reasoning_effort":"xhigh"}"#)
        #expect(nova["additionalModelRequestFields"] == (try JSONReader.parse(#"{"reasoningConfig":{"type":"enabled","maxReasoningEffort":"high"}}"#)))
        let rf = #""response_format":{"type":"json_schema","json_schema":{"name":"Dog","schema":{"type":"object","properties":{"name":{"type":"string"}}}}}"#
        let (_, native) = try Self.encode(#"{"model":"bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0","messages":"hi",\#(rf)}"#)
        #expect(native["outputConfig"] == (try JSONReader.parse(#"{"textFormat":{"type":"json_schema","structure":{"jsonSchema":{"schema":"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}","name":"Dog"}}}}"#)))
        let (_, old) = try Self.encode(#"{"model":"bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0","messages":"hi",\#(rf)}"#)
        #expect(old["outputConfig"] == nil)
        #expect(old["toolConfig"]?["toolChoice"] == (try JSONReader.parse(#"{"tool":{"name":"json_response"}}"#)))
    }

    @Test func unsupportedInputs() {
        func fails(_ text: String, _ status: anyllm_status) {
            do {
                _ = try Self.encode(text)
                Issue.record("no error for \(text)")
            } catch let e as AnyLLMError { #expect(e.status == status, "\(text): \(e.message)") } catch { Issue.record("\(error)") }
        }
        fails(#"{"model":"bedrock:m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#,
              ANYLLM_E_UNSUPPORTED_PARAMETER)
        fails(#"{"model":"bedrock:m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AAAA"}}]}]}"#,
              ANYLLM_E_UNSUPPORTED_PARAMETER)
        fails(#"{"model":"bedrock:m","messages":"hi","n":2}"#, ANYLLM_E_UNSUPPORTED_PARAMETER)
    }

    @Test func decodeResponse() throws {
        let body = Array(#"{"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"hmm","signature":"c2ln"}}},{"text":"Hi"},{"toolUse":{"toolUseId":"tooluse_1","name":"get","input":{"a":1}}}]}},"stopReason":"tool_use","usage":{"inputTokens":10,"outputTokens":5,"totalTokens":20,"cacheReadInputTokens":3,"cacheWriteInputTokens":2},"metrics":{"latencyMs":9}}"#.utf8)
        let r = try BedrockConverse().decodeResponse(body, request: Fixtures.request(#"{"model":"bedrock:m","messages":"hi"}"#))
        let m = r["choices"]?.array?.first?["message"]
        #expect(m?["content"] == .string("Hi"))
        #expect(m?["reasoning"] == (try JSONReader.parse(#"{"content":"hmm","signature":"c2ln"}"#)))
        #expect(m?["tool_calls"]?.array?.first?["id"] == .string("tooluse_1"))
        #expect(m?["tool_calls"]?.array?.first?["function"]?["arguments"] == .string(#"{"a":1}"#))
        #expect(r["choices"]?.array?.first?["finish_reason"] == .string("tool_calls"))
        #expect(r["usage"]?["prompt_tokens"]?.int == 15)
        #expect(r["usage"]?["total_tokens"]?.int == 20)
        #expect(r["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.int == 3)
        for (stop, finish) in [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"),
                               ("guardrail_intervened", "content_filter"), ("content_filtered", "content_filter")] {
            #expect(BedrockConverse.finishReason(stop) == finish)
        }
        #expect(throws: AnyLLMError.self) { try BedrockConverse().decodeResponse(Array(#"{"x":1}"#.utf8), request: Fixtures.request(#"{"model":"bedrock:m","messages":"hi"}"#)) }
    }

    static func frame(_ type: String, _ payload: String, messageType: String = "event", typeHeader: String = ":event-type") -> [UInt8] {
        var h: [UInt8] = []
        for (n, v) in [(typeHeader, type), (":content-type", "application/json"), (":message-type", messageType)] {
            h.append(UInt8(n.utf8.count)); h += Array(n.utf8); h.append(7)
            h += [UInt8(v.utf8.count >> 8), UInt8(v.utf8.count & 0xFF)]; h += Array(v.utf8)
        }
        let total = UInt32(12 + h.count + payload.utf8.count + 4)
        var f = EventStreamTests.be(total) + EventStreamTests.be(UInt32(h.count))
        f += EventStreamTests.be(CRC32.checksum(f))
        f += h + Array(payload.utf8)
        f += EventStreamTests.be(CRC32.checksum(f))
        return f
    }

    @Test func streamDecoding() {
        let body = Self.frame("messageStart", #"{"role":"assistant","p":"abc"}"#)
            + Self.frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"think"}}}"#)
            + Self.frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"c2ln"}}}"#)
            + Self.frame("contentBlockStop", #"{"contentBlockIndex":0}"#)
            + Self.frame("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":"Hel"}}"#)
            + Self.frame("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":"lo"}}"#)
            + Self.frame("contentBlockStart", #"{"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"tu1","name":"get"}}}"#)
            + Self.frame("contentBlockDelta", #"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"a\":"}}}"#)
            + Self.frame("contentBlockDelta", #"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"1}"}}}"#)
            + Self.frame("messageStop", #"{"stopReason":"tool_use"}"#)
            + Self.frame("metadata", #"{"usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7},"metrics":{"latencyMs":5}}"#)
        for pieces in [[], [1], [7], [13]] {
            let req = Fixtures.request(#"{"model":"bedrock:m","messages":"hi","stream":true}"#)
            let out = Fixtures.stream(BedrockConverse().streamDecoder(for: req), body, pieces: pieces)
            #expect(out.error == nil, "pieces \(pieces)")
            let m = out.result["choices"]?.array?.first?["message"]
            #expect(m?["content"] == .string("Hello"))
            #expect(m?["reasoning"]?["content"] == .string("think"))
            #expect(m?["tool_calls"]?.array?.first?["function"]?["arguments"] == .string(#"{"a":1}"#))
            #expect(m?["tool_calls"]?.array?.first?["id"] == .string("tu1"))
            #expect(out.result["choices"]?.array?.first?["finish_reason"] == .string("tool_calls"))
            #expect(out.result["usage"]?["total_tokens"]?.int == 7)
            #expect(out.chunks.last?["usage"] != nil)
        }
    }

    @Test func streamFailures() {
        let req = Fixtures.request(#"{"model":"bedrock:m","messages":"hi","stream":true}"#)
        let start = Self.frame("messageStart", #"{"role":"assistant"}"#) + Self.frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"part"}}"#)
        // An exception event: typed, the text before it kept.
        let thr = Fixtures.stream(BedrockConverse().streamDecoder(for: req),
                                  start + Self.frame("throttlingException", #"{"message":"Too many requests"}"#, messageType: "exception", typeHeader: ":exception-type"), pieces: [5])
        #expect(thr.error?.status == ANYLLM_E_RATE_LIMIT)
        #expect(thr.result["choices"]?.array?.first?["message"]?["content"] == .string("part"))
        let val = Fixtures.stream(BedrockConverse().streamDecoder(for: req),
                                  start + Self.frame("validationException", #"{"message":"Input is too long for requested model."}"#, messageType: "exception", typeHeader: ":exception-type"), pieces: [])
        #expect(val.error?.status == ANYLLM_E_CONTEXT_LENGTH)
        // A bad CRC: an error, not garbage; the frames before it delivered.
        var bad = Self.frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"x"}}"#)
        bad[bad.count - 1] ^= 0xFF
        let crc = Fixtures.stream(BedrockConverse().streamDecoder(for: req), start + bad, pieces: [3])
        #expect(crc.error?.status == ANYLLM_E_PROVIDER)
        #expect(crc.error?.message.contains("CRC") == true)
        #expect(crc.result["choices"]?.array?.first?["message"]?["content"] == .string("part"))
        // Cut before messageStop, or inside a frame.
        #expect(Fixtures.stream(BedrockConverse().streamDecoder(for: req), start, pieces: []).error?.message.contains("messageStop") == true)
        let stop = Self.frame("messageStop", #"{"stopReason":"end_turn"}"#)
        #expect(Fixtures.stream(BedrockConverse().streamDecoder(for: req), start + Array(stop.prefix(20)), pieces: []).error?.message.contains("ended inside a frame") == true)
    }

    @Test func errorMapping() {
        func map(_ status: Int, _ type: String, _ message: String) -> AnyLLMError {
            var head = HTTPResponseHead()
            head.status = status
            head.headers = [("x-amzn-errortype", "\(type):http://internal.amazon.com/coral/com.amazon.bedrock/")]
            return BedrockConverse().decodeError(status: status, head: head, body: Array(#"{"message":"\#(message)"}"#.utf8), provider: "bedrock")
        }
        #expect(map(429, "ThrottlingException", "Too many requests, please wait before trying again.").status == ANYLLM_E_RATE_LIMIT)
        #expect(map(400, "ValidationException", "Input is too long for requested model.").status == ANYLLM_E_CONTEXT_LENGTH)
        #expect(map(400, "ValidationException", "A conversation must alternate").status == ANYLLM_E_INVALID_REQUEST)
        #expect(map(403, "InvalidSignatureException", "The request signature we calculated does not match").status == ANYLLM_E_AUTHENTICATION)
        #expect(map(403, "UnrecognizedClientException", "The security token included in the request is invalid.").status == ANYLLM_E_AUTHENTICATION)
        #expect(map(403, "AccessDeniedException", "Authentication failed: Please make sure your API Key is valid.").status == ANYLLM_E_AUTHENTICATION)
        #expect(map(403, "AccessDeniedException", "You don't have access to the model with the specified model ID.").status == ANYLLM_E_PERMISSION)
        #expect(map(404, "ResourceNotFoundException", "no").status == ANYLLM_E_NOT_FOUND)
        #expect(map(408, "ModelTimeoutException", "slow").status == ANYLLM_E_TIMEOUT)
        let nr = map(429, "ModelNotReadyException", "Model is not ready")
        #expect(nr.status == ANYLLM_E_PROVIDER)
        #expect(Attempt(req: Fixtures.request(#"{"model":"bedrock:m","messages":"hi"}"#), proto: BedrockConverse(), onChunks: { _ in }).retryable(nr))
        let e503 = map(503, "ServiceUnavailableException", "busy")
        #expect(e503.status == ANYLLM_E_PROVIDER && e503.message == "busy")
        #expect(e503.extra.contains { $0.key == "error_type" && $0.value == .string("ServiceUnavailableException") })
    }
}

@Suite struct RegistryKeyIsSetTests {
    static func keySet(_ name: String, _ env: [String: String]) -> Bool {
        let j = Registry.json(environment: { env[$0] })
        let row = j["providers"]?.array?.first { $0["name"]?.string == name }
        return row?["api_key_set"]?.bool ?? false
    }

    @Test func bedrockCountsTheAWSKeyPairAndTheBearerToken() {
        #expect(!Self.keySet("bedrock", [:]))
        #expect(!Self.keySet("bedrock", ["AWS_ACCESS_KEY_ID": "AKID"]))  // half a pair signs nothing
        #expect(Self.keySet("bedrock", ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"]))
        #expect(Self.keySet("bedrock", ["AWS_BEARER_TOKEN_BEDROCK": "bedrock-api-key-x"]))
    }

    @Test func alternativeKeyVariablesCount() {
        #expect(Self.keySet("cohere", ["CO_API_KEY": "k"]))
        #expect(!Self.keySet("cohere", ["CO_API_KEY": ""]))
        #expect(Self.keySet("openai", ["OPENAI_API_KEY": "k"]) && !Self.keySet("openai", ["CO_API_KEY": "k"]))
    }
}
