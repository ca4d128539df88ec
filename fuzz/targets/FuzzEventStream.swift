// EventStreamDecoder (Streaming/EventStream.swift), the AWS binary framing under Bedrock's
// ConverseStream. Mutated bytes almost never keep both CRC32s right, so most inputs would stop at
// the first prelude; the target therefore also reads the input with its CRCs recomputed
// (`repairingCRCs`), which lets the mutator reach the header and payload parsing. Invariants:
// - every way of cutting the input into reads gives the same messages and the same error;
// - a well-formed stream with one bit flipped anywhere is an error, never other messages;
// - a decoded message's headers and payload lie inside its frame (sizes add up).

func fuzzEventStream(_ buf: UnsafeRawBufferPointer) {
    _ = decodeEventStreamEveryWay(Array(buf), "raw")
    let repaired = repairingCRCs(Array(buf))
    let (messages, error) = decodeEventStreamEveryWay(repaired, "repaired")
    guard error == nil, !messages.isEmpty else { return }
    // One flipped bit (its place chosen from the input, so a saved input reproduces). CRC32 catches
    // every single-bit error, and a changed length either fails the prelude CRC or leaves the body short.
    var h: UInt64 = 0xcbf29ce484222325
    for b in repaired { h = (h ^ UInt64(b)) &* 0x100000001b3 }
    var flipped = repaired
    let bit = Int(h % UInt64(repaired.count * 8))
    flipped[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
    let (_, flipError) = decodeEventStream(flipped, [0..<flipped.count])
    require(flipError != nil, "event stream: bit \(bit) flipped and no error")
}

/// Messages and the error (its description) of one reading, cut as `plan` says.
private func decodeEventStream(_ b: [UInt8], _ plan: [Range<Int>]) -> ([EventStreamMessage], String?) {
    var d = EventStreamDecoder()
    var out: [EventStreamMessage] = []
    // Typed throws inside withUnsafeBytes' closure crashes swift-frontend 6.3.1 (IRGen): the error
    // is carried out of the closure as a value instead.
    for r in plan {
        let failure: EventStreamError? = b.withUnsafeBytes { p in
            do throws(EventStreamError) { try d.feed(UnsafeRawBufferPointer(rebasing: p[r]), into: &out) } catch { return error }
            return nil
        }
        if let failure { return (out, failure.description) }
    }
    do throws(EventStreamError) { try d.finish() } catch { return (out, error.description) }
    return (out, nil)
}

private func decodeEventStreamEveryWay(_ b: [UInt8], _ what: String) -> ([EventStreamMessage], String?) {
    let plans = b.withUnsafeBytes { readPlans($0) }
    let first = decodeEventStream(b, plans[0])
    var framed = 0
    for m in first.0 {
        // 12 prelude + headers + payload + 4 CRC: what the decoder kept must fit the bytes it read.
        framed += 16 + m.payload.count
        for h in m.headers { require(!h.name.isEmpty, "event stream (\(what)): a header without a name") }
    }
    require(framed <= b.count, "event stream (\(what)): \(framed) bytes of messages from \(b.count) bytes")
    for plan in plans.dropFirst() {
        let o = decodeEventStream(b, plan)
        require(o.1 == first.1, "event stream (\(what)): error \(o.1 ?? "none") in \(plan.count) reads, \(first.1 ?? "none") in one")
        require(o.0.count == first.0.count, "event stream (\(what)): \(o.0.count) messages in \(plan.count) reads, \(first.0.count) in one")
        for (a, c) in zip(o.0, first.0) {
            require(a.payload == c.payload && a.headers.map(\.name) == c.headers.map(\.name)
                        && a.headers.map(\.value) == c.headers.map(\.value),
                    "event stream (\(what)): a message differs in \(plan.count) reads")
        }
    }
    return first
}

/// The input with each frame's prelude and message CRC32 recomputed, walking frames by their
/// declared total length while it fits; the rest is left as it is.
func repairingCRCs(_ input: [UInt8]) -> [UInt8] {
    var b = input
    var at = 0
    func u32(_ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
    func put(_ v: UInt32, _ i: Int) {
        b[i] = UInt8(v >> 24); b[i + 1] = UInt8((v >> 16) & 0xFF); b[i + 2] = UInt8((v >> 8) & 0xFF); b[i + 3] = UInt8(v & 0xFF)
    }
    while b.count - at >= 16 {
        let total = u32(at)
        guard total >= 16, total <= b.count - at else { break }
        put(CRC32.checksum(b[at..<(at + 8)]), at + 8)
        put(CRC32.checksum(b[at..<(at + total - 4)]), at + total - 4)
        at += total
    }
    return b
}
