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

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "01", "1.", "-", "tru", "\"abc", "\"\\x\"", "{\"a\" 1}", "[1 2]",
        "\"\\ud800\"", "\"\\udc00\"", "nul", "{} x", "\"a\u{01}\"",
    ])
    func rejectsInvalid(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONReader.parse(text) }
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
