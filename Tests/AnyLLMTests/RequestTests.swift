import CAnyLLMTypes
import Testing
@testable import AnyLLM

@Suite struct RequestTests {
    static func parse(_ text: String) throws(AnyLLMError) -> CompletionRequest {
        guard let v = try? JSONReader.parse(text) else { fatalError("test JSON invalid: \(text)") }
        return try CompletionRequest.parse(v)
    }

    static func error(_ text: String) -> AnyLLMError? {
        do { _ = try parse(text); return nil } catch { return error }
    }

    @Test func keyKinds() {
        for k in ["model", "messages", "provider", "stream", "api_key", "api_base", "client_args", "reasoning_effort",
                  "session_label"] { #expect(CompletionRequest.kind(of: k) == .control, "\(k)") }
        for k in ["tools", "tool_choice", "temperature", "top_p", "max_tokens", "max_completion_tokens",
                  "response_format", "n", "stop", "presence_penalty", "frequency_penalty", "seed", "user",
                  "parallel_tool_calls", "logprobs", "top_logprobs", "logit_bias", "stream_options"] {
            #expect(CompletionRequest.kind(of: k) == .generation, "\(k)")
        }
        for k in ["temperatures", "Model", "top_k", "", "max_tokens "] { #expect(CompletionRequest.kind(of: k) == .extra) }
        #expect(Registry.find("OpenAI")?.name == "openai")
        #expect(Registry.find("openai") === Registry.find("OPENAI"))
        #expect(Registry.find("open ai") == nil)
    }

    @Test func modelSpellings() throws {
        #expect(try ModelRef.parse(model: "openai:gpt-4o", provider: nil) == ModelRef(provider: "openai", model: "gpt-4o", legacySlash: false))
        #expect(try ModelRef.parse(model: "openai:ft:gpt-4o:org:x", provider: nil).model == "ft:gpt-4o:org:x")
        #expect(try ModelRef.parse(model: "mistral/mistral-small", provider: nil) == ModelRef(provider: "mistral", model: "mistral-small", legacySlash: true))
        #expect(try ModelRef.parse(model: "meta-llama/Llama-3:8b", provider: "together").model == "meta-llama/Llama-3:8b")
        #expect(try ModelRef.parse(model: "huggingface:meta-llama/Llama-3", provider: nil).model == "meta-llama/Llama-3")
        #expect(try ModelRef.parse(model: "OpenAI:gpt-4o", provider: nil).provider == "openai")
    }

    @Test func unknownProvidersAreTyped() {
        for (m, p) in [("nope:gpt", nil), ("gpt-4o", nil), ("gpt-4o", "nope")] as [(String, String?)] {
            do {
                _ = try ModelRef.parse(model: m, provider: p)
                Issue.record("expected an error for \(m)")
            } catch {
                #expect(error.status == ANYLLM_E_UNSUPPORTED_PROVIDER)
                #expect(error.message.contains("openai"))
            }
        }
    }

    @Test func stringMessagesBecomeOneUserMessage() throws {
        let r = try Self.parse(#"{"model":"openai:x","messages":"hi"}"#)
        #expect(r.messages == [try JSONReader.parse(#"{"role":"user","content":"hi"}"#)])
    }

    @Test func extrasPassThroughAndNullsAreAbsent() throws {
        let r = try Self.parse(#"{"model":"openai:x","messages":"hi","temperature":null,"top_k":5,"foo":{"a":[1]},"reasoning_effort":"auto"}"#)
        #expect(r.params["temperature"] == nil)
        #expect(r.extras.keys == ["top_k", "foo"])
        #expect(r.reasoningEffort == nil)
        let low = try Self.parse(#"{"model":"openai:x","messages":"hi","reasoning_effort":"low"}"#)
        #expect(low.reasoningEffort == "low")
    }

    @Test(arguments: [
        (#"{"messages":"hi"}"#, "model"),
        (#"{"model":"openai:x"}"#, "messages"),
        (#"{"model":"openai:x","messages":[]}"#, "messages"),
        (#"{"model":"openai:x","messages":5}"#, "messages"),
        (#"{"model":"openai:x","messages":[{"role":"wizard","content":"x"}]}"#, "messages[0].role"),
        (#"{"model":"openai:x","messages":[{"content":"x"}]}"#, "messages[0].role"),
        (#"{"model":"openai:x","messages":[{"role":"user"}]}"#, "messages[0].content"),
        (#"{"model":"openai:x","messages":[{"role":"user","content":[{"type":"image_url"}]}]}"#, "messages[0].content[0].image_url"),
        (#"{"model":"openai:x","messages":[{"role":"tool","content":"x"}]}"#, "messages[0].tool_call_id"),
        (#"{"model":"openai:x","messages":[{"role":"assistant"}]}"#, "messages[0].content"),
        (#"{"model":"openai:x","messages":"hi","temperature":5}"#, "temperature"),
        (#"{"model":"openai:x","messages":"hi","temperature":"hot"}"#, "temperature"),
        (#"{"model":"openai:x","messages":"hi","top_p":1.5}"#, "top_p"),
        (#"{"model":"openai:x","messages":"hi","max_tokens":0}"#, "max_tokens"),
        (#"{"model":"openai:x","messages":"hi","n":1.5}"#, "n"),
        (#"{"model":"openai:x","messages":"hi","stop":[1]}"#, "stop"),
        (#"{"model":"openai:x","messages":"hi","stream":"yes"}"#, "stream"),
        (#"{"model":"openai:x","messages":"hi","stream_options":{"include_usage":true}}"#, "stream_options"),
        (#"{"model":"openai:x","messages":"hi","response_format":{"type":"yaml"}}"#, "response_format.type"),
        (#"{"model":"openai:x","messages":"hi","response_format":{"type":"json_schema"}}"#, "response_format.json_schema"),
        (#"{"model":"openai:x","messages":"hi","tools":[{"type":"function","function":{"name":"bad name"}}]}"#, "tools[0].function.name"),
        (#"{"model":"openai:x","messages":"hi","tool_choice":"sometimes"}"#, "tool_choice"),
        (#"{"model":"openai:x","messages":"hi","tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}"#, "tool_choice.function.name"),
        (#"{"model":"openai:x","messages":"hi","reasoning_effort":"max"}"#, "reasoning_effort"),
        (#"{"model":"openai:x","messages":"hi","api_base":"ftp://x"}"#, "api_base"),
        (#"{"model":"openai:x","messages":"hi","client_args":{"timeout":-1}}"#, "client_args.timeout"),
        (#"{"model":"openai:x","messages":"hi","client_args":{"bogus":1}}"#, "client_args.bogus"),
    ])
    func invalidFieldsAreNamed(_ text: String, _ field: String) {
        let e = Self.error(text)
        #expect(e?.status == ANYLLM_E_INVALID_REQUEST)
        #expect(e?.param == field, "\(e?.message ?? "no error")")
    }

    @Test func toolCallArgumentsGivenAsObjectAreSerialized() throws {
        let r = try Self.parse(#"{"model":"openai:x","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"f","arguments":{"a":1}}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]}"#)
        #expect(r.messages[1]["tool_calls"]?.array?.first?["function"]?["arguments"] == .string(#"{"a":1}"#))
        #expect(r.messages[1]["tool_calls"]?.array?.first?["type"] == .string("function"))
    }

    @Test func requestThatIsNotJSONIsTyped() {
        var status: anyllm_status?
        Array("{nope".utf8).withUnsafeBytes { b in
            do { _ = try CompletionRequest.parse(b) } catch let e as AnyLLMError { status = e.status } catch {}
        }
        #expect(status == ANYLLM_E_INVALID_REQUEST)
    }
}
