// Newline-delimited JSON (Ollama's streams): one value per line, split as bytes arrive. CRLF is
// accepted; blank lines are skipped; a last line without its newline is delivered by finish().
struct NDJSONDecoder: Sendable {
    private var line: [UInt8] = []

    mutating func feed(_ bytes: UnsafeRawBufferPointer, into lines: inout [[UInt8]]) {
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0x0A {
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
            flush(into: &lines)
            start = i + 1
        }
        line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<bytes.count]))
    }

    mutating func finish(into lines: inout [[UInt8]]) { flush(into: &lines) }

    private mutating func flush(into lines: inout [[UInt8]]) {
        if line.last == 0x0D { line.removeLast() }
        if line.contains(where: { $0 != 0x20 && $0 != 0x09 }) { lines.append(line) }
        line.removeAll(keepingCapacity: true)
    }
}
