// JSONArrayStream (Streaming/JSONArrayStream.swift): every way of cutting the input into reads
// gives the same elements and flags; when the whole input is a JSON array of objects/arrays (what
// Gemini sends), the elements are exactly that array's, in order, and nothing is stray.

func fuzzJSONArray(_ buf: UnsafeRawBufferPointer) {
    var first: (elements: [[UInt8]], stray: Bool, finished: Bool)?
    for plan in readPlans(buf) {
        var s = JSONArrayStream()
        var elements: [[UInt8]] = []
        for r in plan { s.feed(UnsafeRawBufferPointer(rebasing: buf[r]), into: &elements) }
        for e in elements {
            require(e.first == UInt8(ascii: "{") || e.first == UInt8(ascii: "["), "JSON array: element starts with \(e.first ?? 0)")
        }
        if let f = first {
            require(f.elements == elements && f.stray == s.stray && f.finished == s.finished,
                    "JSON array: result differs in \(plan.count) reads")
        } else {
            first = (elements, s.stray, s.finished)
        }
    }
    guard let whole = try? JSONReader.parse(buf), let items = whole.array,
          items.allSatisfy({ $0.object != nil || $0.array != nil }) else { return }
    let f = first!
    require(!f.stray && f.finished, "JSON array: a valid array was flagged stray or unfinished")
    require(f.elements.count == items.count, "JSON array: \(f.elements.count) elements, the array has \(items.count)")
    for (e, item) in zip(f.elements, items) {
        require((try? JSONReader.parse(e)) == item, "JSON array: an element differs from the parsed array's")
    }
}
