// JSONReader and JSONWriter (Core/JSONReader.swift, JSONWriter.swift): whatever parses writes back
// as JSON that parses to the same value (numbers keep their text, keys their order), and writing
// is stable; whatever fails fails with an offset inside the input.

func fuzzJSON(_ buf: UnsafeRawBufferPointer) {
    let v: JSON
    do { v = try JSONReader.parse(buf) } catch {
        require(error.offset >= 0 && error.offset <= buf.count, "JSON: error offset \(error.offset) outside 0...\(buf.count)")
        return
    }
    let out = v.serialized
    guard let back = try? JSONReader.parse(out) else {
        require(false, "JSON: the writer's output does not parse: \(String(decoding: out, as: UTF8.self))")
        return
    }
    require(back == v, "JSON: the value changed through write + parse")
    require(back.serialized == out, "JSON: writing is not stable")
}
