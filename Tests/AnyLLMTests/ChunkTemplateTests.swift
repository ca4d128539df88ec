import Testing
@testable import AnyLLM

/// The skim's template (Providers/OpenAIChunkSkim.swift): after one plain chunk, the next chunk
/// of the same shape is matched by comparing bytes and scanning only its text (and the padding
/// strings nobody reads). A match must read the chunk exactly as the walk and the full reader do;
/// anything else must be left to them.
@Suite struct ChunkTemplateTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static let plain = #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"abc"}"#

    static func learned(_ text: String) throws -> OpenAIChunkSkim.Template {
        var t = OpenAIChunkSkim.Template()
        var slots: [Range<Int>] = []
        let b = bytes(text)
        let s = try #require(b.withUnsafeBytes { OpenAIChunkSkim.skim($0, slots: &slots) })
        b.withUnsafeBytes { t.learn($0, s, slots) }
        return t
    }

    static func variant(content: String, padding: String = "abc") -> String {
        plain.replacing(#""content":"Hel""#, with: #""content":""# + content + #"""#)
            .replacing(#""obfuscation":"abc""#, with: #""obfuscation":""# + padding + #"""#)
    }

    @Test(arguments: [
        ("lo", "lo"), ("", ""), (#"a\"b\n\u00e9"#, "a\"b\né"), ("日本語 😀", "日本語 😀"),
        // Quotes inside the text cannot fake the structure after it.
        (#"x\",\"refusal\":\"no"#, #"x","refusal":"no"#),
    ])
    func matchesTheNextChunk(_ raw: String, _ text: String) throws {
        var t = try Self.learned(Self.plain)
        let b = Self.bytes(Self.variant(content: raw, padding: "zq9XW"))
        let m = try #require(b.withUnsafeBytes { t.match($0) })
        #expect(b.withUnsafeBytes { m.contentString(in: $0) } == text)
        #expect(b.withUnsafeBytes { m.fingerprintString(in: $0) } == "fp_1")
        #expect(m.index == 0)
        #expect(b.withUnsafeBytes { OpenAIChunkSkim.skim($0) } == m)
    }

    @Test(arguments: [
        // Anything else that differs, or a text or padding that is not a valid string.
        plain.replacing("fp_1", with: "fp_2"),
        plain.replacing(#""index":0"#, with: #""index":1"#),
        plain.replacing(#""finish_reason":null"#, with: #""finish_reason":"stop""#),
        plain.replacing(#""content":"Hel""#, with: #""content":"x","refusal":"no""#),
        plain.replacing(#""obfuscation":"abc""#, with: #""obfuscation":1"#),
        plain + " ",
        String(plain.dropLast()),
        String(plain.prefix(120)),
        variant(content: #"x\q"#),
        variant(content: #"\ud800"#),
        variant(content: "tab\there"),
        variant(content: "x", padding: #"a\q"#),
        variant(content: "x", padding: "new\nline"),
    ])
    func refusesOtherChunks(_ text: String) throws {
        var t = try Self.learned(Self.plain)
        #expect(Self.bytes(text).withUnsafeBytes { t.match($0) } == nil)
    }

    @Test func refusesInvalidUTF8() throws {
        var t = try Self.learned(Self.plain)
        for bad: [UInt8] in [[0xC3], [0xE2, 0x82], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xFF]] {
            for inPadding in [false, true] {
                let parts = Self.plain.split(separator: inPadding ? "abc" : "Hel", omittingEmptySubsequences: false).map(String.init)
                let b = Self.bytes(parts[0]) + bad + Self.bytes(parts[1])
                #expect(b.withUnsafeBytes { t.match($0) } == nil)
            }
        }
    }

    /// Every byte of the learned chunk replaced by a quote or a backslash, dropped, or doubled in
    /// turn: whenever the template still matches, the walk and the full reader read the chunk the
    /// same way.
    @Test func agreesWithTheWalkUnderMutation() throws {
        var t = try Self.learned(Self.plain)
        let base = Self.bytes(Self.plain)
        var matched = 0, tried = 0
        for i in 0..<base.count {
            for kind in 0..<4 {
                var b = base
                switch kind {
                case 0: b[i] = UInt8(ascii: "\"")
                case 1: b[i] = UInt8(ascii: "\\")
                case 2: b.remove(at: i)
                default: b.insert(b[i], at: i)
                }
                tried += 1
                guard let m = b.withUnsafeBytes({ t.match($0) }) else { continue }
                matched += 1
                #expect(b.withUnsafeBytes { OpenAIChunkSkim.skim($0) } == m)
                let full = try JSONReader.parse(b)
                #expect(full["choices"]?.array?.first?["delta"]?["content"]?.string == b.withUnsafeBytes { m.contentString(in: $0) })
            }
        }
        #expect(tried > 800)
        #expect(matched > 10)  // changes inside the text and the padding
    }

    /// A stream through the decoder: the template serves the chunks after the first plain one, and
    /// the aggregate is the same as the full reader's.
    @Test func decoderAggregatesTheSame() throws {
        var body = "data: " + #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"# + "\n\n"
        var expected = ""
        for i in 0..<50 {
            let text = i % 7 == 3 ? #"q\"\u00e9\n"# : "w\(i) "
            expected += i % 7 == 3 ? "q\"é\n" : "w\(i) "
            body += "data: " + Self.variant(content: text, padding: String(repeating: "x", count: i % 5)) + "\n\n"
        }
        body += "data: " + #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"# + "\n\ndata: [DONE]\n\n"
        let raw = Self.bytes(body)
        for piece in [1, 7, 64, raw.count] {
            let d = OpenAISSEDecoder(provider: "openai")
            var agg = StreamAggregator()
            var skimmed = 0
            var i = 0
            while i < raw.count {
                let e = min(i + piece, raw.count)
                try Array(raw[i..<e]).withUnsafeBytes { b in
                    try d.feed(b) { (c: DecodedChunk) throws(AnyLLMError) in
                        if c.skim != nil { skimmed += 1 }
                        agg.add(c)
                    }
                }
                i = e
            }
            try d.finish { (c: DecodedChunk) throws(AnyLLMError) in agg.add(c) }
            let r = agg.result()
            #expect(r["choices"]?.array?.first?["message"]?["content"]?.string == expected)
            #expect(r["system_fingerprint"]?.string == "fp_1")
            #expect(skimmed == 50)
        }
    }
}
