// OpenAIChunkSkim (Providers/OpenAIChunkSkim.swift over Core/JSONSkim.swift): the fast path that
// passes a plain content chunk on as received, without building its tree. Whenever it accepts a
// chunk, the full reader must agree: the bytes are JSON, one choice with that index and that
// content, the same system_fingerprint, nothing else the aggregator would have used — so the
// caller's aggregate is the same whichever path read the chunk.
import CAnyLLMTypes

func fuzzSkim(_ buf: UnsafeRawBufferPointer) {
    // An input with a newline is two chunks of one stream: the first teaches a template, and the
    // second is matched against it — a match must read the second chunk exactly as the skim and
    // the full reader do.
    let data = Array(buf)
    let cut = data.firstIndex(of: 0x0A)
    let first = cut.map { Array(data[..<$0]) } ?? data
    var slots: [Range<Int>] = []
    var t = OpenAIChunkSkim.Template()
    first.withUnsafeBytes { b in
        guard let s = OpenAIChunkSkim.skim(b, slots: &slots) else { return }
        _ = checkSkimmed(first, s, "skim")
        t.learn(b, s, slots)
        // A template learned from a chunk accepts that chunk, with the same reading.
        if t.isSet { require(t.match(b) == s, "skim: the template does not match its own chunk") }
    }
    guard let c = cut else { return }
    let second = Array(data[(c + 1)...])
    second.withUnsafeBytes { b in
        guard let m = t.match(b) else { return }
        let text = String(decoding: second.prefix(300), as: UTF8.self)
        guard let s = OpenAIChunkSkim.skim(b) else { return require(false, "template: matched a chunk the skim refuses: \(text)") }
        require(s == m, "template: read \(m), the skim \(s): \(text)")
        _ = checkSkimmed(second, m, "template")
    }
}

/// The full reading of a chunk the skim accepted, after checking that both readings agree.
func checkSkimmed(_ data: [UInt8], _ s: SkimmedDelta, _ context: String) -> JSONObject {
    let text = String(decoding: data.prefix(300), as: UTF8.self)
    guard let full = try? JSONReader.parse(data), let o = full.object else {
        require(false, "\(context): skimmed a chunk the full reader refuses: \(text)")
        return JSONObject()
    }
    let choices = o["choices"]?.array ?? []
    require(choices.count == 1, "\(context): skimmed a chunk with \(choices.count) choices: \(text)")
    require(choices.first?["index"]?.int == s.index, "\(context): skim index \(s.index), full reader \(String(describing: choices.first?["index"])): \(text)")
    let content = data.withUnsafeBytes { s.contentString(in: $0) }
    let fingerprint = data.withUnsafeBytes { s.fingerprintString(in: $0) }
    require(choices.first?["delta"]?["content"]?.string == content, "\(context): skim content differs from the full reader's: \(text)")
    let fp = o["system_fingerprint"]
    require(fp?.string == fingerprint && (fp == nil || fp!.isNull || fp!.string != nil),
            "\(context): skim fingerprint \(fingerprint ?? "nil"), full reader \(String(describing: fp)): \(text)")

    // The aggregate each way. Fields only the first chunk of a stream sets (always read in full) are
    // left out of the full reading, as the skim leaves them.
    var stripped = o
    stripped.members.removeAll { ["id", "created", "model", "service_tier", "object"].contains($0.key) }
    var viaSkim = StreamAggregator(), viaFull = StreamAggregator()
    data.withUnsafeBytes { viaSkim.add(DecodedChunk(skim: s, raw: $0)) }
    viaFull.add(stripped)
    for complete in [true, false] {
        let a = viaSkim.result(complete: complete), b = viaFull.result(complete: complete)
        require(a == b, "\(context): the aggregate differs: skim \(a.text) / full \(b.text) for \(text)")
    }
    return o
}
