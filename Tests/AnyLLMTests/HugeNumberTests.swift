import Testing
@testable import AnyLLM

/// Numbers a broken or hostile server may send where counts belong: huge, Int.max, or not integral. None may
/// trap (a Swift conversion or addition overflow is a crash); they are read as missing. Found by the
/// cohere_response fuzz target (output_tokens 1212345678901234567890).
@Suite struct HugeNumberTests {
    static let huge = ["1212345678901234567890", "1e300", "9223372036854775807", "-9223372036854775808", "12.5"]

    @Test(arguments: huge)
    func cohereUsage(_ n: String) throws {
        let body = Array(#"{"id":"x","message":{"role":"assistant","content":[{"type":"text","text":"hi"}]},"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":\#(n),"output_tokens":\#(n)},"tokens":{"input_tokens":\#(n),"output_tokens":\#(n)}}}"#.utf8)
        let r = try CohereChat().decodeResponse(body, request: Fixtures.request(#"{"model":"cohere:c","messages":"hi"}"#))
        #expect(r["usage"]?["prompt_tokens"]?.int == 0)
    }

    @Test(arguments: huge)
    func geminiUsage(_ n: String) throws {
        let body = Array(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":\#(n),"candidatesTokenCount":\#(n),"thoughtsTokenCount":\#(n)}}"#.utf8)
        _ = try Gemini(vertex: false).decodeResponse(body, request: Fixtures.request(#"{"model":"gemini:g","messages":"hi"}"#))
    }

    @Test func intIsBoundedAndSeedsKeepSixtyFourBits() throws {
        #expect(JSON.number("9223372036854775807").int == nil)
        #expect(JSON.number("9007199254740991").int == 9_007_199_254_740_991)
        #expect(JSON.number("9223372036854775807").isInt64)
        _ = try CompletionRequest.parse(JSONReader.parse(#"{"model":"openai:m","messages":"hi","seed":9223372036854775807}"#))
        #expect(throws: AnyLLMError.self) {
            try CompletionRequest.parse(JSONReader.parse(#"{"model":"openai:m","messages":"hi","seed":1.5}"#))
        }
    }
}
