// Server-sent events (the WHATWG event-stream format), decoded incrementally from whatever byte
// pieces the network delivers. Pure and allocation-light: it never looks at the data's meaning.
//
// Handled: LF, CRLF and CR line ends (a CR at the end of one read and its LF at the start of the
// next), several `data:` lines joined by "\n", comments (`:` lines, used as keep-alives),
// `data:` with or without the space, `event:`; `id:` and `retry:` are read and ignored.
// Leniency beyond the spec, because real servers send it: whitespace before a field name is
// skipped (one recorded OpenRouter stream starts with " data:"), and an event still pending when
// the body ends is delivered rather than dropped.

struct SSEEvent: Sendable {
    var event: String?
    var data: [UInt8]
}

struct SSEDecoder: Sendable {
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var eventName: String?
    private var skipLF = false

    init() {}

    /// Feeds the next bytes; complete events are appended to `events`, in order.
    mutating func feed(_ buf: UnsafeRawBufferPointer, into events: inout [SSEEvent]) {
        var i = 0
        let n = buf.count
        if skipLF && n > 0 {
            skipLF = false
            if buf[0] == 0x0A { i = 1 }
        }
        let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self)
        while i < n {
            var j = base.map { ByteScan.lineEnd($0, from: i, to: n) } ?? n
            if j == n {
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[i..<n]))
                return
            }
            if line.isEmpty {
                processLine(UnsafeRawBufferPointer(rebasing: buf[i..<j]), &events)
            } else {
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[i..<j]))
                let l = line
                line.removeAll(keepingCapacity: true)
                l.withUnsafeBytes { processLine($0, &events) }
            }
            if buf[j] == 0x0D {
                if j + 1 < n {
                    if buf[j + 1] == 0x0A { j += 1 }
                } else {
                    skipLF = true
                }
            }
            i = j + 1
        }
    }

    /// The body has ended: a last line without its terminator, and an event without its blank
    /// line, are delivered.
    mutating func finish(into events: inout [SSEEvent]) {
        if !line.isEmpty {
            let l = line
            line.removeAll()
            l.withUnsafeBytes { processLine($0, &events) }
        }
        dispatch(&events)
    }

    private mutating func processLine(_ l: UnsafeRawBufferPointer, _ events: inout [SSEEvent]) {
        var s = 0
        while s < l.count && (l[s] == 0x20 || l[s] == 0x09) { s += 1 }
        if s == l.count {
            // A blank line (or only whitespace) ends the event.
            dispatch(&events)
            return
        }
        if l[s] == UInt8(ascii: ":") { return }  // comment / keep-alive
        var colon = s
        while colon < l.count && l[colon] != UInt8(ascii: ":") { colon += 1 }
        let name = UnsafeRawBufferPointer(rebasing: l[s..<colon])
        var v = colon < l.count ? colon + 1 : l.count
        if v < l.count && l[v] == 0x20 { v += 1 }
        let value = UnsafeRawBufferPointer(rebasing: l[v..<l.count])
        if equals(name, "data") {
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        } else if equals(name, "event") {
            eventName = String(decoding: value, as: UTF8.self)
        }
        // "id" and "retry" need no action: we do not reconnect.
    }

    private mutating func dispatch(_ events: inout [SSEEvent]) {
        guard hasData else {
            eventName = nil
            return
        }
        let ev = SSEEvent(event: eventName, data: data)
        data.removeAll(keepingCapacity: true)
        hasData = false
        eventName = nil
        events.append(ev)
    }

    @inline(__always)
    private func equals(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard b.count == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        for i in 0..<b.count where b[i] != p[i] { return false }
        return true
    }
}
