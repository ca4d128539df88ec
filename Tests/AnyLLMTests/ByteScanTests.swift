import Testing
@testable import AnyLLM

/// The word-at-a-time scans must find exactly what a byte-by-byte loop finds, wherever the hit
/// falls in a word and whatever the bytes around it (high bytes, bytes next to the searched ones).
@Suite struct ByteScanTests {
    static func naiveLineEnd(_ b: [UInt8], _ from: Int) -> Int {
        var i = from
        while i < b.count && b[i] != 0x0A && b[i] != 0x0D { i += 1 }
        return i
    }

    static func naiveStringStop(_ b: [UInt8], _ from: Int) -> Int {
        var i = from
        while i < b.count {
            let c = b[i]
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 { return i }
            i += 1
        }
        return i
    }

    static func naiveEscapeStop(_ b: [UInt8], _ from: Int) -> Int {
        var i = from
        while i < b.count && b[i] != 0x22 && b[i] != 0x5C && b[i] >= 0x20 { i += 1 }
        return i
    }

    @Test func agreesWithByteByByteOnRandomBuffers() {
        var rng = SystemRandomNumberGenerator()
        // Bytes chosen to sit next to every searched value and its borrow neighbours.
        let alphabet: [UInt8] = [0x00, 0x01, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x41,
                                 0x5B, 0x5C, 0x5D, 0x7E, 0x7F, 0x80, 0x9F, 0xA0, 0xC3, 0xFF]
        for round in 0..<20_000 {
            // Short buffers, and long ones with long plain runs: past 32 plain bytes the scans go
            // 16 bytes a step (ByteScan.cleanBlocks), and hits must land at every offset of a block.
            let long = round % 2 == 1
            let n = Int.random(in: 0...(long ? 300 : 40), using: &rng)
            let rarity = long ? Int.random(in: 6...120, using: &rng) : 6
            // Mostly plain text with a few special bytes, so hits land at every offset of a word.
            let b: [UInt8] = (0..<n).map { _ in
                Int.random(in: 0..<rarity, using: &rng) == 0 ? alphabet.randomElement(using: &rng)!
                    : UInt8.random(in: 0x23...0x5B, using: &rng)  // printable, no `"` or `\`
            }
            let from = n == 0 ? 0 : Int.random(in: 0...n, using: &rng)
            b.withUnsafeBufferPointer { p in
                guard let base = p.baseAddress else { return }
                let le = ByteScan.lineEnd(base, from: from, to: n)
                let ss = ByteScan.stringStop(base, from: from, to: n)
                #expect(le == Self.naiveLineEnd(b, from), "lineEnd round \(round): \(b) from \(from)")
                #expect(ss == Self.naiveStringStop(b, from), "stringStop round \(round): \(b) from \(from)")
                let es = ByteScan.escapeStop(base, from: from, to: n)
                #expect(es == Self.naiveEscapeStop(b, from), "escapeStop round \(round): \(b) from \(from)")
                // The validating variant: the same stop, and `high` set when a byte at or above 0x80
                // lies before it (it may also be set by one in the word of the stop, never further).
                var high = false
                let vs = ByteScan.escapeStop(base, from: from, to: n, high: &high)
                #expect(vs == es, "escapeStop(high:) round \(round): \(b) from \(from)")
                if b[from..<vs].contains(where: { $0 >= 0x80 }) { #expect(high, "high missed, round \(round)") }
                if !b[from..<min(n, vs + 8)].contains(where: { $0 >= 0x80 }) { #expect(!high, "high set, round \(round)") }
            }
        }
    }

    @Test func everyOffsetOfEveryStopByte() {
        for n in [24, 160] {  // 160: past the 32 plain bytes after which blocks of 16 are skipped
            for stop: UInt8 in [0x00, 0x0A, 0x0D, 0x1F, 0x22, 0x5C, 0x80, 0xFF] {
                for at in 0..<n {
                    var b = [UInt8](repeating: UInt8(ascii: "a"), count: n)
                    b[at] = stop
                    b.withUnsafeBufferPointer { p in
                        let isLine = stop == 0x0A || stop == 0x0D
                        #expect(ByteScan.lineEnd(p.baseAddress!, from: 0, to: n) == (isLine ? at : n))
                        #expect(ByteScan.stringStop(p.baseAddress!, from: 0, to: n) == at)  // all of them stop a string
                        #expect(ByteScan.escapeStop(p.baseAddress!, from: 0, to: n) == (stop < 0x80 ? at : n))
                        var high = false
                        #expect(ByteScan.escapeStop(p.baseAddress!, from: 0, to: n, high: &high) == (stop < 0x80 ? at : n))
                        #expect(high == (stop >= 0x80))
                    }
                }
            }
        }
    }
}
