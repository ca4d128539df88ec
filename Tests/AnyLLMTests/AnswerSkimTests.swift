import Testing
@testable import AnyLLM

/// The non-streamed answer fast path: plain answers come back byte for byte after one validating
/// pass; everything that needs normalising or is not valid takes the full reader, whose output is
/// what the caller gets either way.
@Suite struct AnswerSkimTests {
    static let plain: [String] = [
        #"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"service_tier":"default","system_fingerprint":"fp"}"#,
        #" { "object" : "chat.completion" , "choices" : [ ] } "#,
        #"{"object":"chat.completion","choices":[{"message":{"content":null,"refusal":"no"},"finish_reason":null},{"message":{"content":"é😀\n\"q\""},"finish_reason":"length"}],"error":null}"#,
    ]

    static let notPlain: [String] = [
        // needs normalising
        #"{"object":"chat.completion","choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":null}}]},"finish_reason":"tool_calls"}]}"#,
        #"{"object":"chat.completion","choices":[{"message":{"content":"a","reasoning_content":"r"},"finish_reason":"stop"}]}"#,
        #"{"object":"chat.completion","choices":[{"message":{"content":[{"type":"text","text":"a"}]},"finish_reason":"stop"}]}"#,
        #"{"object":"chat.completion","choices":[{"message":{"content":"a"},"finish_reason":"model_length"}]}"#,
        // an escaped finish reason may spell model_length (the skim compares raw bytes)
        #"{"object":"chat.completion","choices":[{"message":{"content":"a"},"finish_reason":"model\u005flength"}]}"#,
        #"{"object":"chat.completion","choices":[{"message":{"content":"a"},"finish_reason":"model_lengt"}],"x":1,"object":"chat.completion.chunk"}"#,
        #"{"choices":[{"message":{"content":"a"},"finish_reason":"stop"}]}"#,
        // errors and broken bodies
        #"{"error":{"message":"bad","type":"invalid_request_error"}}"#,
        #"{"object":"chat.completion","choices":[{"message":{"content":"a"}}]"#,
        #"{"object":"chat.completion","choices":[{"message":{"content":"a\u0001"}}]} x"#,
        "{\"object\":\"chat.completion\",\"choices\":[{\"message\":{\"content\":\"\u{01}\"}}]}",
        #"{"object":"chat.completion","choices":{}}"#,
        #"{"object":"chat.completion","choices":[{"index":0}]}"#,
        // Found by fuzzing (openai_response): escaped keys are skipped by the skim but decoded by the
        // full reader, which then normalises what the skim never looked at.
        #"{"object":"chat.completion","cho\u0069ces":[{"message":{"content":[{"type":"text","text":"a"}]},"finish_reason":"stop"}],"choices":[{"message":{"content":"b"},"finish_reason":"stop"}]}"#,
        #"{"object":"chat.completion","choices":[{"message":{"c\u006fntent":[{"type":"text","text":"a"}],"content":"b"},"finish_reason":"stop"}]}"#,
        #"{"object":"chat.completion","choices":[{"m\u0065ssage":{"reasoning_content":"r"},"message":{"content":"b"},"finish_reason":"stop"}]}"#,
    ]

    @Test(arguments: plain)
    func plainAnswersPassThroughUnchanged(_ text: String) throws {
        let body = Array(text.utf8)
        #expect(OpenAIAnswerSkim.isPlain(body))
        let (_, bytes) = try OpenAIChat().decodeResponseBytes(body, request: Fixtures.request(#"{"model":"openai:m","messages":"hi"}"#))
        #expect(bytes == body)
    }

    @Test(arguments: notPlain)
    func othersTakeTheFullReader(_ text: String) {
        let body = Array(text.utf8)
        #expect(!OpenAIAnswerSkim.isPlain(body))
    }

    @Test func invalidUTF8IsNotPlain() {
        var body = Array(#"{"object":"chat.completion","choices":[{"message":{"content":"ab"}}]}"#.utf8)
        body[body.firstIndex(of: UInt8(ascii: "b"))!] = 0xC3  // a lead byte with no continuation
        #expect(!OpenAIAnswerSkim.isPlain(body))
        #expect(throws: AnyLLMError.self) {
            try OpenAIChat().decodeResponseBytes(body, request: Fixtures.request(#"{"model":"openai:m","messages":"hi"}"#))
        }
    }

    @Test func aStreamRequestStillGetsTheTree() throws {
        let body = Array(Self.plain[0].utf8)
        let (j, _) = try OpenAIChat().decodeResponseBytes(body, request: Fixtures.request(#"{"model":"openai:m","messages":"hi","stream":true}"#))
        #expect(j["choices"]?.array?.first?["message"]?["content"]?.string == "Hi")
    }
}
