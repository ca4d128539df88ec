import Glibc

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

    init(event: String?, data: [UInt8]) {
        self.event = event
        self.data = data
    }

    init(_ v: SSEEventView) {
        event = v.event.map { String(decoding: $0, as: UTF8.self) }
        data = Array(v.data)
    }
}

/// An event as the decoder hands it over: its bytes are borrowed, valid only during the call.
/// The common event (one `data:` line inside one read) points straight into the network's buffer,
/// so that framing copies nothing.
struct SSEEventView {
    /// The `event:` field's value, when there is one.
    var event: UnsafeRawBufferPointer?
    var data: UnsafeRawBufferPointer

    func eventIs(_ name: StaticString) -> Bool {
        guard let e = event, e.count == name.utf8CodeUnitCount else { return false }
        return e.count == 0 || memcmp(e.baseAddress!, name.utf8Start, e.count) == 0
    }
}

struct SSEDecoder: Sendable {
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    /// The pending event's only data line while it is still in the caller's buffer (not yet in
    /// `data`); copied into `data` before `feed` returns or when a second line arrives.
    nonisolated(unsafe) private var borrowed: UnsafeRawBufferPointer?
    private var hasData = false
    private var eventName: [UInt8] = []
    private var hasEventName = false
    private var skipLF = false

    init() {}

    /// Feeds the next bytes; complete events are appended to `events`, in order.
    mutating func feed(_ buf: UnsafeRawBufferPointer, into events: inout [SSEEvent]) {
        feed(buf) { (v: SSEEventView) in events.append(SSEEvent(v)) }
    }

    /// The body has ended: a last line without its terminator, and an event without its blank
    /// line, are delivered.
    mutating func finish(into events: inout [SSEEvent]) {
        finish { (v: SSEEventView) in events.append(SSEEvent(v)) }
    }

    /// Feeds the next bytes; `onEvent` gets each complete event, in order. When it throws, the
    /// rest of the bytes are dropped (the stream is over).
    mutating func feed<E: Error>(_ buf: UnsafeRawBufferPointer, _ onEvent: (SSEEventView) throws(E) -> Void) throws(E) {
        defer { keepBorrowed() }
        var i = 0
        let n = buf.count
        if skipLF && n > 0 {
            skipLF = false
            if buf[0] == 0x0A { i = 1 }
        }
        guard let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        while i < n {
            var j = ByteScan.lineEnd(base, from: i, to: n)
            if j == n {
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[i..<n]))
                return
            }
            if line.isEmpty {
                try processLine(UnsafeRawBufferPointer(rebasing: buf[i..<j]), stable: true, onEvent)
            } else {
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[i..<j]))
                let l = line
                line.removeAll(keepingCapacity: true)
                try withBytes(l) { (b: UnsafeRawBufferPointer) throws(E) in try processLine(b, stable: false, onEvent) }
            }
            if base[j] == 0x0D {
                if j + 1 < n {
                    if base[j + 1] == 0x0A { j += 1 }
                } else {
                    skipLF = true
                }
            }
            i = j + 1
        }
    }

    mutating func finish<E: Error>(_ onEvent: (SSEEventView) throws(E) -> Void) throws(E) {
        if !line.isEmpty {
            let l = line
            line.removeAll()
            try withBytes(l) { (b: UnsafeRawBufferPointer) throws(E) in try processLine(b, stable: false, onEvent) }
        }
        try dispatch(onEvent)
    }

    /// `stable`: the line lies in the caller's buffer, which outlives this `feed` call (a line
    /// pieced together from two reads does not).
    private mutating func processLine<E: Error>(_ l: UnsafeRawBufferPointer, stable: Bool,
                                                _ onEvent: (SSEEventView) throws(E) -> Void) throws(E) {
        var s = 0
        while s < l.count && (l[s] == 0x20 || l[s] == 0x09) { s += 1 }
        if s == l.count {
            // A blank line (or only whitespace) ends the event.
            try dispatch(onEvent)
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
            if !hasData && stable {
                borrowed = value
            } else {
                keepBorrowed()
                if hasData { data.append(0x0A) }
                data.append(contentsOf: value)
            }
            hasData = true
        } else if equals(name, "event") {
            eventName.removeAll(keepingCapacity: true)
            eventName.append(contentsOf: value)
            hasEventName = true
        }
        // "id" and "retry" need no action: we do not reconnect.
    }

    /// Moves a borrowed data line into `data`.
    private mutating func keepBorrowed() {
        if let b = borrowed {
            data.append(contentsOf: b)
            borrowed = nil
        }
    }

    private mutating func dispatch<E: Error>(_ onEvent: (SSEEventView) throws(E) -> Void) throws(E) {
        guard hasData else {
            hasEventName = false
            return
        }
        hasData = false
        defer {
            data.removeAll(keepingCapacity: true)
            hasEventName = false
        }
        let named = hasEventName
        if let b = borrowed, !named {
            borrowed = nil
            try onEvent(SSEEventView(event: nil, data: b))
        } else if let b = borrowed {
            borrowed = nil
            try withBytes(eventName) { (e: UnsafeRawBufferPointer) throws(E) in
                try onEvent(SSEEventView(event: named ? e : nil, data: b))
            }
        } else {
            let d = data, n = eventName
            try withBytes(d) { (d: UnsafeRawBufferPointer) throws(E) in
                try withBytes(n) { (e: UnsafeRawBufferPointer) throws(E) in
                    try onEvent(SSEEventView(event: named ? e : nil, data: d))
                }
            }
        }
    }

    @inline(__always)
    private func equals(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard b.count == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        for i in 0..<b.count where b[i] != p[i] { return false }
        return true
    }
}

/// `withUnsafeBytes` for a body with a typed error (the standard one only rethrows `any Error`).
@inline(__always)
func withBytes<E: Error>(_ a: [UInt8], _ body: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
    var failure: E?
    a.withUnsafeBytes { b in
        do throws(E) { try body(b) } catch { failure = error }
    }
    if let f = failure { throw f }
}
