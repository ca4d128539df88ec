// A streamed top-level JSON array (`[{...},\r\n{...}]`, Gemini's streamGenerateContent without
// alt=sse) split into its elements as they complete, whatever the read boundaries. Tracks only
// nesting depth and string/escape state; each element is then parsed by the JSON reader.
struct JSONArrayStream: Sendable {
    private var buffer: [UInt8] = []
    private var started = false
    private(set) var finished = false
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// Bytes that are not whitespace, ',' or an array bracket, outside any element (malformed input).
    private(set) var stray = false

    /// Appends the elements completed by `bytes` to `elements` (each as its own bytes).
    mutating func feed(_ bytes: UnsafeRawBufferPointer, into elements: inout [[UInt8]]) {
        for c in bytes {
            if finished { if !isSpace(c) { stray = true }; continue }
            if !started {
                if c == UInt8(ascii: "[") { started = true } else if !isSpace(c) { stray = true }
                continue
            }
            if depth == 0 {
                switch c {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth = 1
                    buffer = [c]
                case UInt8(ascii: "]"): finished = true
                case UInt8(ascii: ","): break
                default: if !isSpace(c) { stray = true }
                }
                continue
            }
            buffer.append(c)
            if inString {
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch c {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 {
                    elements.append(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            default: break
            }
        }
    }

    /// True when the body ended inside an element or before the closing bracket.
    var truncated: Bool { !finished }

    private func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
}
