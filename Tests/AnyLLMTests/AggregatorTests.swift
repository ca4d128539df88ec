import Testing
@testable import AnyLLM

@Suite struct AggregatorTests {
    static func aggregate(_ chunks: [String]) throws -> JSON {
        var a = StreamAggregator()
        for c in chunks { a.add(try JSONReader.parse(c).object!) }
        return a.result()
    }

    @Test func textAndUsage() throws {
        let r = try Self.aggregate([
            #"{"id":"c1","created":5,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            #"{"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
            #"{"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
            #"{"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
        ])
        #expect(r["object"] == .string("chat.completion"))
        #expect(r["choices"]?.array?.first?["message"]?["content"] == .string("Hello"))
        #expect(r["choices"]?.array?.first?["finish_reason"] == .string("stop"))
        #expect(r["usage"]?["total_tokens"]?.int == 5)
    }

    @Test func toolCallFragmentsByIndex() throws {
        let r = try Self.aggregate([
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":""}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","type":"function","function":{"name":"g","arguments":"{\"y\""}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"x\":"}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":":2}"}}]},"finish_reason":"tool_calls"}]}"#,
        ])
        let calls = r["choices"]?.array?.first?["message"]?["tool_calls"]?.array ?? []
        #expect(calls.count == 2)
        #expect(calls[0]["function"]?["arguments"] == .string(#"{"x":1}"#))
        #expect(calls[1]["function"]?["arguments"] == .string(#"{"y":2}"#))
        #expect(r["choices"]?.array?.first?["message"]?["content"] == .null)
    }

    /// Recorded OpenRouter streams restate a complete tool call (same id, full arguments) in later chunks.
    @Test func restatedCompleteToolCallIsNotDuplicated() throws {
        let call = #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"0","type":"function","function":{"name":"llm_version","arguments":"{}"}}]}}]}"#
        let r = try Self.aggregate([
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"0","type":"function","function":{"name":"llm_version","arguments":""}}]}}]}"#,
            call, call,
        ])
        let calls = r["choices"]?.array?.first?["message"]?["tool_calls"]?.array ?? []
        #expect(calls.count == 1)
        #expect(calls[0]["function"]?["arguments"] == .string("{}"))
        #expect(calls[0]["function"]?["name"] == .string("llm_version"))
        #expect(r["choices"]?.array?.first?["finish_reason"] == .string("tool_calls"))
    }

    @Test func nullArgumentsBecomeEmptyObject() throws {
        let r = try Self.aggregate([
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"0","type":"function","function":{"name":"f","arguments":null}}]},"finish_reason":"tool_calls"}]}"#,
        ])
        #expect(r["choices"]?.array?.first?["message"]?["tool_calls"]?.array?.first?["function"]?["arguments"] == .string("{}"))
    }

    @Test func reasoningAndPartialFinishReason() throws {
        var a = StreamAggregator()
        a.add(try JSONReader.parse(#"{"choices":[{"index":0,"delta":{"reasoning":{"content":"think"}}}]}"#).object!)
        a.add(try JSONReader.parse(#"{"choices":[{"index":0,"delta":{"content":"ans"}}]}"#).object!)
        let partial = a.result(complete: false)
        #expect(partial["choices"]?.array?.first?["finish_reason"] == .null)
        #expect(partial["choices"]?.array?.first?["message"]?["reasoning"]?["content"] == .string("think"))
    }

    @Test func severalChoices() throws {
        let r = try Self.aggregate([
            #"{"choices":[{"index":1,"delta":{"content":"B"}},{"index":0,"delta":{"content":"A"}}]}"#,
        ])
        #expect(r["choices"]?.array?.map { $0["message"]?["content"] } == [.string("A"), .string("B")])
    }
}
