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
            let n = Int.random(in: 0...40, using: &rng)
            // Mostly plain text with a few special bytes, so hits land at every offset of a word.
            let b: [UInt8] = (0..<n).map { _ in
                Int.random(in: 0..<6, using: &rng) == 0 ? alphabet.randomElement(using: &rng)!
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
            }
        }
    }

    @Test func everyOffsetOfEveryStopByte() {
        for stop: UInt8 in [0x00, 0x0A, 0x0D, 0x1F, 0x22, 0x5C, 0x80, 0xFF] {
            for at in 0..<24 {
                var b = [UInt8](repeating: UInt8(ascii: "a"), count: 24)
                b[at] = stop
                b.withUnsafeBufferPointer { p in
                    let isLine = stop == 0x0A || stop == 0x0D
                    #expect(ByteScan.lineEnd(p.baseAddress!, from: 0, to: 24) == (isLine ? at : 24))
                    #expect(ByteScan.stringStop(p.baseAddress!, from: 0, to: 24) == at)  // all of them stop a string
                    #expect(ByteScan.escapeStop(p.baseAddress!, from: 0, to: 24) == (stop < 0x80 ? at : 24))
                }
            }
        }
    }
}
