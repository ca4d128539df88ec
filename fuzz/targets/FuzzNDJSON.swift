// NDJSONDecoder (Streaming/NDJSONDecoder.swift): every way of cutting the input into reads gives
// the lines of a plain split on LF (one trailing CR dropped, blank lines skipped).

func fuzzNDJSON(_ buf: UnsafeRawBufferPointer) {
    var reference: [[UInt8]] = []
    for var l in Array(buf).split(separator: 0x0A, omittingEmptySubsequences: false) {
        if l.last == 0x0D { l = l.dropLast() }
        if l.contains(where: { $0 != 0x20 && $0 != 0x09 }) { reference.append(Array(l)) }
    }
    for plan in readPlans(buf) {
        var d = NDJSONDecoder()
        var lines: [[UInt8]] = []
        for r in plan { d.feed(UnsafeRawBufferPointer(rebasing: buf[r]), into: &lines) }
        d.finish(into: &lines)
        require(lines == reference, "NDJSON: lines differ from the plain split in \(plan.count) reads")
    }
}
