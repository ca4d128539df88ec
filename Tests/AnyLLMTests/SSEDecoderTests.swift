import Testing
@testable import AnyLLM

@Suite struct SSEDecoderTests {
    /// Feeds `body` in the given piece sizes and returns the events' data as strings.
    static func decode(_ body: [UInt8], pieces: [Int]) -> [String] {
        var d = SSEDecoder()
        var events: [SSEEvent] = []
        var i = 0, k = 0
        while i < body.count {
            let n = max(1, pieces.isEmpty ? body.count : pieces[k % pieces.count])
            let end = min(body.count, i + n)
            Array(body[i..<end]).withUnsafeBytes { d.feed($0, into: &events) }
            i = end
            k += 1
        }
        d.finish(into: &events)
        return events.map { String(decoding: $0.data, as: UTF8.self) }
    }

    static let expected = [#"{"a":1}"#, "line1\nline2", "[DONE]"]

    static func body(_ nl: String) -> [UInt8] {
        Array((": keep-alive\(nl)\(nl)data: {\"a\":1}\(nl)\(nl)event: x\(nl)id: 7\(nl)retry: 10\(nl)data:line1\(nl)data: line2\(nl)\(nl)\(nl)data: [DONE]\(nl)\(nl)").utf8)
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func wholeBody(_ nl: String) {
        #expect(Self.decode(Self.body(nl), pieces: []) == Self.expected)
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func byteByByte(_ nl: String) {
        #expect(Self.decode(Self.body(nl), pieces: [1]) == Self.expected)
    }

    @Test func randomSplits() {
        var rng = SystemRandomNumberGenerator()
        for nl in ["\n", "\r\n", "\r"] {
            for _ in 0..<200 {
                let pieces = (0..<8).map { _ in Int.random(in: 1...7, using: &rng) }
                #expect(Self.decode(Self.body(nl), pieces: pieces) == Self.expected)
            }
        }
    }

    @Test func utf8SplitAcrossReads() {
        let text = "data: {\"c\":\"héllo 你好 👋\"}\n\n"
        let got = Self.decode(Array(text.utf8), pieces: [1])
        #expect(got == [#"{"c":"héllo 你好 👋"}"#])
    }

    @Test func leadingSpaceBeforeFieldAndMissingFinalBlankLine() {
        let got = Self.decode(Array(" data: {\"x\":1}\n\ndata: [DONE]".utf8), pieces: [3])
        #expect(got == [#"{"x":1}"#, "[DONE]"])
    }

    @Test func eventNameIsReported() {
        var d = SSEDecoder()
        var events: [SSEEvent] = []
        Array("event: error\ndata: {}\n\ndata: 1\n\n".utf8).withUnsafeBytes { d.feed($0, into: &events) }
        #expect(events.map(\.event) == ["error", nil])
    }
}
