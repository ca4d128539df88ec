// OpenAIChunkSkim (Providers/OpenAIChunkSkim.swift over Core/JSONSkim.swift): the fast path that
// passes a plain content chunk on as received, without building its tree. Whenever it accepts a
// chunk, the full reader must agree: the bytes are JSON, one choice with that index and that
// content, the same system_fingerprint, nothing else the aggregator would have used — so the
// caller's aggregate is the same whichever path read the chunk.
import CAnyLLMTypes

func fuzzSkim(_ buf: UnsafeRawBufferPointer) {
    let data = Array(buf)
    guard let s = OpenAIChunkSkim.skim(data) else { return }
    _ = checkSkimmed(data, s, "skim")
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
    require(choices.first?["delta"]?["content"]?.string == s.content, "\(context): skim content differs from the full reader's: \(text)")
    let fp = o["system_fingerprint"]
    require(fp?.string == s.fingerprint && (fp == nil || fp!.isNull || fp!.string != nil),
            "\(context): skim fingerprint \(s.fingerprint ?? "nil"), full reader \(String(describing: fp)): \(text)")

    // The aggregate each way. Fields only the first chunk of a stream sets (always read in full) are
    // left out of the full reading, as the skim leaves them.
    var stripped = o
    stripped.members.removeAll { ["id", "created", "model", "service_tier", "object"].contains($0.key) }
    var viaSkim = StreamAggregator(), viaFull = StreamAggregator()
    viaSkim.add(DecodedChunk(skim: s, bytes: data))
    viaFull.add(stripped)
    for complete in [true, false] {
        let a = viaSkim.result(complete: complete), b = viaFull.result(complete: complete)
        require(a == b, "\(context): the aggregate differs: skim \(a.text) / full \(b.text) for \(text)")
    }
    return o
}
