// SSEDecoder (Streaming/SSEDecoder.swift): every way of cutting the input into reads gives the same
// events, and they equal those of a plain whole-body reading of the same rules written here.

func fuzzSSE(_ buf: UnsafeRawBufferPointer) {
    let reference = referenceSSE(Array(buf))
    for plan in readPlans(buf) {
        var d = SSEDecoder()
        var events: [SSEEvent] = []
        for r in plan { d.feed(UnsafeRawBufferPointer(rebasing: buf[r]), into: &events) }
        d.finish(into: &events)
        require(events.count == reference.count, "SSE: \(events.count) events in \(plan.count) reads, reference \(reference.count)")
        for (a, b) in zip(events, reference) {
            require(a.event == b.event && a.data == b.data, "SSE: event differs in \(plan.count) reads")
            // CR and LF always end a line, and data lines are joined with LF only.
            require(!a.data.contains(0x0D), "SSE: CR inside event data")
        }
    }
}

/// The same rules, on the whole body at once: lines end at CRLF, CR or LF; leading blanks of a
/// line are skipped; a blank line dispatches; `:` lines are comments; `data` lines join with LF.
private func referenceSSE(_ b: [UInt8]) -> [SSEEvent] {
    var lines: [ArraySlice<UInt8>] = []
    var start = 0, i = 0
    while i < b.count {
        if b[i] == 0x0A || b[i] == 0x0D {
            lines.append(b[start..<i])
            if b[i] == 0x0D && i + 1 < b.count && b[i + 1] == 0x0A { i += 1 }
            start = i + 1
        }
        i += 1
    }
    if start < b.count { lines.append(b[start..<b.count]) }
    var out: [SSEEvent] = []
    var data: [UInt8] = [], hasData = false, name: String?
    func dispatch() {
        if hasData { out.append(SSEEvent(event: name, data: data)) }
        data = []; hasData = false; name = nil
    }
    for l0 in lines {
        let l = l0.drop { $0 == 0x20 || $0 == 0x09 }
        if l.isEmpty { dispatch(); continue }
        if l.first == UInt8(ascii: ":") { continue }
        let colon = l.firstIndex(of: UInt8(ascii: ":")) ?? l.endIndex
        var value = colon < l.endIndex ? l[(colon + 1)...] : []
        if value.first == 0x20 { value = value.dropFirst() }
        switch Array(l[..<colon]) {
        case Array("data".utf8):
            if hasData { data.append(0x0A) }
            data += value
            hasData = true
        case Array("event".utf8): name = String(decoding: value, as: UTF8.self)
        default: break
        }
    }
    dispatch()
    return out
}
