import Testing
@testable import AnyLLM

@Suite struct JSONTests {
    @Test func roundTripKeepsOrderAndNumbers() throws {
        let text = #"{"z":1,"a":[true,false,null],"n":12345678901234567890,"f":0.1,"e":-1.5e-3,"s":"x"}"#
        let v = try JSONReader.parse(text)
        #expect(v.text == text)
        #expect(v.object?.keys == ["z", "a", "n", "f", "e", "s"])
        #expect(v["n"] == .number("12345678901234567890"))
    }

    @Test func escapesAndUnicode() throws {
        let v = try JSONReader.parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\udc4b\u0001""#)
        #expect(v.string == "a\"b\\c/d\n\té👋\u{01}")
        #expect(JSON.string("a\"b\n\u{01}é").text == #""a\"b\n\u0001é""#)
    }

    /// Strings with the bytes that need escapes at every offset of a word (the writer skips plain
    /// runs 8 bytes a step) read back as written.
    @Test func writtenStringsReadBack() throws {
        let specials: [Character] = ["\"", "\\", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "\u{7F}", "é", "👋", "/"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            let n = Int.random(in: 0...40, using: &rng)
            let s = String((0..<n).map { _ in
                Int.random(in: 0..<5, using: &rng) == 0 ? specials.randomElement(using: &rng)! : Character(UnicodeScalar(UInt8.random(in: 0x23...0x5B, using: &rng)))
            })
            let text = JSON.string(s).serialized
            #expect(try JSONReader.parse(text).string == s)
            #expect(!text.dropFirst().dropLast().contains { $0 < 0x20 })  // no raw control byte written
        }
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "01", "1.", "-", "tru", "\"abc", "\"\\x\"", "{\"a\" 1}", "[1 2]",
        "\"\\ud800\"", "\"\\udc00\"", "nul", "{} x", "\"a\u{01}\"",
    ])
    func rejectsInvalid(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONReader.parse(text) }
    }

    /// Whitespace runs of every length up to 20, at every distance from the end of the buffer
    /// (spaces go 8 bytes a step): the reader and the skim accept exactly JSON's four whitespace
    /// bytes and stop at the first other one, a control byte or a space-like byte (0x21 is one
    /// bit from a space) included.
    @Test func whitespaceRunsOfEveryLength() throws {
        let ws: [UInt8] = [0x20, 0x0A, 0x0D, 0x09]
        var rng = SystemRandomNumberGenerator()
        for n in 0...20 {
            for _ in 0..<20 {
                let run = (0..<n).map { _ in Int.random(in: 0..<3, using: &rng) == 0 ? ws.randomElement(using: &rng)! : 0x20 }
                for tail in 0...9 {  // spaces after the value, up to the end of the buffer
                    let text = Array("[1,".utf8) + run + Array("2".utf8) + run + Array("]".utf8) + [UInt8](repeating: 0x20, count: tail)
                    #expect(try JSONReader.parse(text) == .array([.number("1"), .number("2")]))
                    text.withUnsafeBytes { b in
                        var s = JSONScanner(buf: b)
                        #expect((try? s.skipValue(depth: 0)) != nil)
                        s.skipSpace()
                        #expect(s.atEnd)
                    }
                }
                for bad: UInt8 in [0x00, 0x01, 0x0B, 0x0C, 0x1F, 0x21, 0xA0] {
                    var text = Array("[1,".utf8) + run
                    text.insert(bad, at: 3 + (n == 0 ? 0 : Int.random(in: 0...n, using: &rng)))
                    text += Array("2]".utf8)
                    #expect(throws: JSONParseError.self) { try JSONReader.parse(text) }
                }
            }
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONReader.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONReader.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        #expect(throws: JSONParseError.self) { try JSONReader.parse(deep) }
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONReader.parse(ok)) != nil)
    }

    @Test func intAccessor() throws {
        #expect(try JSONReader.parse("3").int == 3)
        #expect(try JSONReader.parse("3.0").int == 3)
        #expect(try JSONReader.parse("3.5").int == nil)
        #expect(try JSONReader.parse("\"3\"").int == nil)
    }
}
