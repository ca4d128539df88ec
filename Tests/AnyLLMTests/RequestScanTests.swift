import CAnyLLMTypes
import Testing
@testable import AnyLLM

/// The text path of CompletionRequest.parse (RequestScan: messages checked in place and sent as
/// they came) against the value path it replaces for the C ABI: the same requests accepted, the
/// same errors word for word, the same bodies on the wire.
@Suite struct RequestScanTests {
    /// What the request text gives through the C ABI's path.
    static func viaText(_ text: [UInt8]) -> Result<CompletionRequest, AnyLLMError> {
        text.withUnsafeBytes { b -> Result<CompletionRequest, AnyLLMError> in
            do throws(AnyLLMError) { return .success(try CompletionRequest.parse(b)) } catch { return .failure(error) }
        }
    }

    /// What it gave before: the whole text read as values first.
    static func viaValues(_ text: [UInt8]) -> Result<CompletionRequest, AnyLLMError> {
        let root: JSON
        do { root = try JSONReader.parse(text) } catch {
            return .failure(AnyLLMError(ANYLLM_E_INVALID_REQUEST, "invalid request: the request is not valid JSON: \(error)",
                                        param: ""))
        }
        do { return .success(try CompletionRequest.parse(root)) } catch { return .failure(error) }
    }

    static func body(_ r: CompletionRequest) throws -> JSON {
        let http = try Protocols.implementation(r.provider.wire).encode(r, endpoint: try CallPolicy.resolveEndpoint(r))
        return try JSONReader.parse(http.body)
    }

    static let providers = ["openai", "anthropic", "gemini", "mistral", "ollama", "groq"]

    /// Requests of every shape the scan decides on, for each provider (`MODEL` is replaced).
    static let corpus: [String] = [
        #"{"model":"MODEL","messages":"hi","api_key":"k"}"#,
        #"{"model":"MODEL","messages":"","api_key":"k"}"#,
        #"{"model":"MODEL","messages":"caf\u00e9 \"q\" \ud83d\ude00","api_key":"k","stream":true}"#,
        #" { "model" : "MODEL" , "messages" : [ { "role" : "system" , "content" : "be brief" } , { "role":"user","content":"x\ny", "name":"ann" } ] , "api_key":"k" } "#,
        #"{"model":"MODEL","api_key":"k","temperature":0.5,"max_tokens":10,"stop":["a"],"top_k":3,"messages":[{"role":"developer","content":"d"},{"role":"user","content":"東京"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"tool","tool_call_id":"c1","content":"r"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"f","arguments":{"a":1}}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x","cache_control":{"type":"ephemeral"}}]}"#,
        // Content parts: the text path takes text and image_url parts.
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"image_url","image_url":"https://x/y.png"}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":""}}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"image_url","image_url":""}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"detail":"low"}}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x","detail":null}}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x","detail":5}}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x","x":1}}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"text","text":5}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"text"}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"text":"no type"}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"text","type":"image_url","text":"t"}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAA=","format":"wav"}}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"text","text":"t","cache_control":{"type":"ephemeral"}}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":["bare string part"]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"te\u0078t","text":"t"}]}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"assistant","content":[{"type":"text","text":"earlier answer"}]},{"role":"user","content":"and?"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":[{"type":"text","text":"x"}}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"assistant","content":"x","reasoning":{"text":"r"}}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","role":"system","content":"x"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x","content":"y"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"us\u0065r","content":"x"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"r\u006fle":"user","content":"x"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":null}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"assistant","content":null}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x","name":5}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"tool","content":"x","tool_call_id":""}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"q"},{"role":"tool","content":"x"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"q"},{"role":"tool","tool_call_id":5,"content":"x"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"content":"x"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y","name":"bot"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"wizard","content":"x"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x"},7]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[]}"#,
        #"{"model":"MODEL","api_key":"k","messages":null}"#,
        #"{"model":"MODEL","api_key":"k","messages":{"role":"user"}}"#,
        #"{"model":"MODEL","api_key":"k"}"#,
        #"{"model":"MODEL","api_key":"k","messages":"a","messages":"b"}"#,
        #"{"model":"MODEL","api_key":"k","messages":"hi","temperature":9}"#,
        #"{"model":"nope:x","api_key":"k","messages":"hi"}"#,
        #"{"api_key":"k","messages":[{"role":"user","content":"x"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":false}}"#,
        // Not valid JSON: in the messages, and elsewhere.
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"bad \q escape"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"lone \ud800 surrogate"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"low first \udc00"}]}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"short \u12"}]}"#,
        "{\"model\":\"MODEL\",\"api_key\":\"k\",\"messages\":[{\"role\":\"user\",\"content\":\"tab\tinside\"}]}",
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x"}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x"}],}"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x"}]} trailing"#,
        #"{"model":"MODEL","api_key":"k","messages":[{"role":"user","content":"x"}],"temperature":01}"#,
        #"["model"]"#,
        "",
    ]

    static func cases() -> [[UInt8]] {
        var out: [[UInt8]] = []
        for p in providers {
            for t in corpus {
                let parts = t.split(separator: "MODEL", omittingEmptySubsequences: false)
                out.append(Array(parts.joined(separator: "\(p):m").utf8))
            }
        }
        // Large messages (the scan then guesses the wire from the members before them), with the model
        // before or after them, and a "provider" after them that overrides the model's prefix.
        let big = String(repeating: "long text with \\\"escapes\\\" and café ", count: 200)
        let bigMessages = #"[{"role":"system","content":"s"},{"role":"user","content":"\#(big)"}]"#
        for p in providers {
            out.append(Array(#"{"model":"\#(p):m","api_key":"k","messages":\#(bigMessages)}"#.utf8))
            out.append(Array(#"{"messages":\#(bigMessages),"model":"\#(p):m","api_key":"k"}"#.utf8))
            out.append(Array(#"{"model":"m","provider":"\#(p)","api_key":"k","messages":\#(bigMessages)}"#.utf8))
            out.append(Array(#"{"model":"anthropic:m","api_key":"k","messages":\#(bigMessages),"provider":"\#(p)"}"#.utf8))
            out.append(Array(#"{"model":"\#(p):m","api_key":"k","messages":[{"role":"user","content":"\#(big)"},{"role":"tool","content":"x"}]}"#.utf8))
        }
        // Invalid UTF-8 inside message content, and in an extra.
        let bad: [UInt8] = [0xC3, 0x28]
        out.append(Array(#"{"model":"openai:m","api_key":"k","messages":[{"role":"user","content":"a"#.utf8) + bad
                   + Array(#""}]}"#.utf8))
        out.append(Array(#"{"model":"openai:m","api_key":"k","messages":"hi","x":""#.utf8) + bad + Array(#""}"#.utf8))
        return out
    }

    @Test func textAndValuePathsAgree() {
        var textPath = 0
        for text in Self.cases() {
            let label = String(decoding: text, as: UTF8.self)
            switch (Self.viaText(text), Self.viaValues(text)) {
            case (.failure(let a), .failure(let b)):
                #expect(a.status == b.status, "\(label)")
                #expect(a.message == b.message, "\(label)")
                #expect(a.param == b.param, "\(label)")
            case (.success(let a), .success(let b)):
                if a.messagesJSON != nil { textPath += 1 }
                #expect(a.provider.name == b.provider.name && a.model == b.model && a.stream == b.stream, "\(label)")
                #expect(a.params == b.params && a.extras == b.extras && a.apiKey == b.apiKey, "\(label)")
                #expect(a.messages == b.messages, "\(label)")
                switch (Result { try Self.body(a) }, Result { try Self.body(b) }) {
                case (.success(let x), .success(let y)): #expect(x == y, "\(label)")
                case (.failure(let x), .failure(let y)): #expect("\(x)" == "\(y)", "\(label)")
                case (let x, let y): Issue.record("encoders disagree on \(label): \(x) vs \(y)")
                }
            case (let a, let b):
                Issue.record("paths disagree on \(label): \(a) vs \(b)")
            }
        }
        #expect(textPath >= 14)  // the simple OpenAI-wire requests did take the text path
    }

    @Test func simpleMessagesGoOutAsTheCallerWroteThem() throws {
        let text = #"{"model":"openai:m","api_key":"k","messages":[ {"role":"user", "content":"caf\u00e9 \/ \"q\""} ]}"#
        guard case .success(let r) = Self.viaText(Array(text.utf8)) else { Issue.record("refused"); return }
        #expect(r.messagesJSON != nil)
        let http = try OpenAIChat().encode(r, endpoint: try CallPolicy.resolveEndpoint(r))
        let body = String(decoding: http.body, as: UTF8.self)
        #expect(body == #"{"model":"m","messages":[ {"role":"user", "content":"caf\u00e9 \/ \"q\""} ]}"#)
    }

    @Test func otherWiresAndRoleQuirksGetValues() throws {
        for (model, textPath) in [("openai:m", true), ("groq:m", true), ("anthropic:m", false), ("mistral:m", false),
                                  ("gemini:m", false)] {
            for content in ["u", String(repeating: "x", count: 5000)] {  // small, and past the scan's guess
                let text = #"{"model":"\#(model)","api_key":"k","messages":[{"role":"developer","content":"d"},{"role":"user","content":"\#(content)"}]}"#
                guard case .success(let r) = Self.viaText(Array(text.utf8)) else { Issue.record("refused \(model)"); continue }
                #expect((r.messagesJSON != nil) == textPath, "\(model)")
                #expect(r.messages.count == 2, "\(model)")
            }
        }
    }

    /// skipString accepts exactly what string() reads, ends where it ends, and reports escapes.
    @Test(arguments: [
        #""plain""#, #""""#, #""a\"b""#, #""\\""#, #""\/\b\f\n\r\t""#, #""\u00e9\u4eac""#, #""\ud83d\ude00""#,
        #""\ud83d""#, #""\ud83dx""#, #""\ud83d\u0041""#, #""\ude00""#, #""\u12""#, #""\u12g4""#, #""\x""#, #""\"#,
        #""unterminated"#, "\"tab\there\"", "\"nl\nhere\"", "\"café 東京 ok\"", #""long ascii text over several words, \"quoted\", done""#,
    ])
    func skipStringMatchesString(_ literal: String) {
        for extra in [[UInt8](), Array(" tail".utf8)] {
            let bytes = Array(literal.utf8) + extra
            bytes.withUnsafeBytes { b in
                var a = JSONScanner(buf: b), s = JSONScanner(buf: b)
                let read = Result { () throws(JSONParseError) -> String in try a.string() }
                let skipped = Result { () throws(JSONParseError) -> Bool in try s.skipString() }
                switch (read, skipped) {
                case (.success, .success(let escaped)):
                    #expect(a.pos == s.pos, "\(literal)")
                    #expect(escaped == literal.contains("\\"), "\(literal)")
                case (.failure, .failure): break
                default: Issue.record("string() and skipString() disagree on \(literal): \(read) vs \(skipped)")
                }
            }
        }
        // Invalid UTF-8 is refused by both.
        for bad: [UInt8] in [[0xC3, 0x28], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF]] {
            let bytes: [UInt8] = [0x22] + Array("some ascii first".utf8) + bad + [0x22]
            bytes.withUnsafeBytes { b in
                var a = JSONScanner(buf: b), s = JSONScanner(buf: b)
                #expect((try? a.string()) == nil)
                #expect((try? s.skipString()) == nil)
            }
        }
    }
}
