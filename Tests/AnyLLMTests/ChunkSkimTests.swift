import Testing
@testable import AnyLLM

/// The skim (fast path for plain content chunks) must agree with the full reader on every chunk it
/// accepts, and hand every other chunk — including invalid JSON — to the full reader.
@Suite struct ChunkSkimTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test(arguments: [
        (#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}],"usage":null}"#, 0, "Hel", "fp_1"),
        (#" { "choices" : [ { "delta" : { "content" : "a\nb\"c\u00e9\ud83d\ude00" , "refusal" : null } , "index" : 2 } ] } "#, 2, "a\nb\"cé😀", nil),
        (#"{"choices":[{"index":0,"delta":{"content":"","role":null}}],"obfuscation":"x","extra":{"deep":[1,2.5e3,true,false,null,"s"]}}"#, 0, "", nil),
        (#"{"choices":[{"index":0,"delta":{"content":"日本語"}}],"system_fingerprint":null}"#, 0, "日本語", nil),
    ])
    func plainChunks(_ text: String, _ index: Int, _ content: String, _ fp: String?) throws {
        let b = Self.bytes(text)
        let s = try #require(OpenAIChunkSkim.skim(b))
        #expect(s.index == index)
        #expect(b.withUnsafeBytes { s.contentString(in: $0) } == content)
        #expect(b.withUnsafeBytes { s.fingerprintString(in: $0) } == fp)
        // Agrees with the full reader.
        let full = try JSONReader.parse(text)
        #expect(full["choices"]?.array?.first?["delta"]?["content"]?.string == content)
    }

    @Test(arguments: [
        // Needs the full reader: role, tool calls, reasoning, refusal, finish, logprobs, usage, error,
        // several or no choices, null content, a delta without content, non-integer index.
        #"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
        #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x","reasoning_content":"think"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x","refusal":"no"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"},"logprobs":{"content":[]}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":1}}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"}}],"error":{"message":"boom"}}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"}},{"index":1,"delta":{"content":"y"}}]}"#,
        #"{"choices":[]}"#,
        #"{"choices":[{"index":0,"delta":{"content":null}}]}"#,
        #"{"choices":[{"index":0,"delta":{}}]}"#,
        #"{"choices":[{"index":0.5,"delta":{"content":"x"}}]}"#,
        #"{"choices":[{"index":"0","delta":{"content":"x"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":["typed","parts"]}}]}"#,
        #"[1]"#,
        // Found by fuzzing (fuzz/targets/FuzzSkim.swift): repeated keys (the full reader takes the first
        // occurrence, the skim took the last) and escaped keys (the full reader decodes them).
        #"{"choices":[{"index":0,"delta":{"content":"X"}}],"choices":[{"index":0,"delta":{"content":"Y"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"X","content":"Y"}}]}"#,
        #"{"choices":[{"index":0,"index":1,"delta":{"content":"X"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"X"},"delta":{"content":"Y"}}]}"#,
        #"{"system_fingerprint":"a","choices":[{"index":0,"delta":{"content":"X"}}],"system_fingerprint":"b"}"#,
        #"{"cho\u0069ces":[{"index":0,"delta":{"content":"X"}}],"choices":[{"index":0,"delta":{"content":"Y"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"c\u006fntent":"X","content":"Y"}}]}"#,
        // Invalid JSON: never accepted (the full reader reports it).
        #"{"choices":[{"index":0,"delta":{"content":"x"}}]"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"}}]}}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"}}],}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x\q"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"}}],"n":01}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"}}],"n":tru}"#,
        #"{"choices":[{"index":0,"delta":{"content":"\ud800"}}]}"#,
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tab\there\"}}]}",
    ])
    func needsFullReader(_ text: String) {
        #expect(OpenAIChunkSkim.skim(Self.bytes(text)) == nil)
    }

    @Test func invalidUTF8IsNeverSkimmed() {
        for bad: [UInt8] in [[0xC3], [0xE2, 0x82], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF]] {
            for inKey in [false, true] {
                var b = Self.bytes(inKey ? #"{"choices":[{"index":0,"delta":{"content":"x"}}],"k"# : #"{"choices":[{"index":0,"delta":{"content":"x"#)
                b += bad
                b += Self.bytes(inKey ? #"":1}"# : #""}}]}"#)
                #expect(OpenAIChunkSkim.skim(b) == nil)
                #expect((try? JSONReader.parse(b)) == nil)
            }
        }
        // Valid multi-byte sequences of every length pass.
        for s in ["é", "€", "😀", "\u{10FFFF}", "\u{D7FF}", "\u{E000}"] {
            let b = Array(s.utf8)
            #expect(b.withUnsafeBytes { isValidUTF8($0) })
        }
    }

    /// Every recorded OpenAI stream aggregates to the same result through the decoder (which skims)
    /// as through the full reader chunk by chunk.
    @Test func recordedStreamsAggregateTheSame() throws {
        var streams = 0, skimmed = 0
        for f in Fixtures.files("openai") {
            let fx = Fixtures.read(f)
            guard fx["stream"] == .bool(true), fx["response"]?["status"]?.int == 200,
                  fx["request"]?["uri"]?.string?.hasSuffix("/chat/completions") == true,
                  let text = fx["response"]?["body_text"]?.string else { continue }
            let body = Array(text.utf8)
            var fast = StreamAggregator(), slow = StreamAggregator()
            let d = OpenAISSEDecoder(provider: "openai")
            var sse = SSEDecoder()
            var events: [SSEEvent] = []
            body.withUnsafeBytes { sse.feed($0, into: &events) }
            sse.finish(into: &events)
            for e in events where e.event != "error" {
                guard let v = try? JSONReader.parse(e.data), let o = v.object else { continue }
                slow.add(OpenAIChat.normalizeReasoning(o))
            }
            try body.withUnsafeBytes { b in
                try d.feed(b) { (c: DecodedChunk) throws(AnyLLMError) in
                    if c.skim != nil { skimmed += 1 }
                    fast.add(c)
                }
            }
            try? d.finish { (c: DecodedChunk) throws(AnyLLMError) in fast.add(c) }
            #expect(fast.result().serialized == slow.result().serialized)
            streams += 1
        }
        #expect(streams > 5)
        #expect(skimmed > 10)  // the recordings are short: 24 of their chunks are plain
    }
}
