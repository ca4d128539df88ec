// Compact JSON serialisation into a byte buffer. Non-ASCII text is written as raw UTF-8 (what
// every provider accepts and the smallest form); only what RFC 8259 requires is escaped.

struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func write(_ v: JSON) {
        switch v {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .number(let n): bytes.append(contentsOf: n.utf8)
        case .string(let s): writeString(s)
        case .array(let a):
            bytes.append(UInt8(ascii: "["))
            for (i, x) in a.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(x)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let o): writeObject(o, verbatim: nil)
        }
    }

    /// An object; the member named `verbatim.key`, if any, is written as `verbatim.text`, JSON
    /// text the caller has already validated (a request's messages passed through as they came).
    mutating func writeObject(_ o: JSONObject, verbatim: (key: String, text: [UInt8])?) {
        bytes.append(UInt8(ascii: "{"))
        for (i, m) in o.members.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            writeString(m.key)
            bytes.append(UInt8(ascii: ":"))
            if let v = verbatim, m.key == v.key { bytes.append(contentsOf: v.text) } else { write(m.value) }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    @inline(__always) mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func writeString(_ s: String) {
        var str = s
        str.withUTF8 { u in
            bytes.append(UInt8(ascii: "\""))
            // Runs of bytes that need no escape are found 8 bytes a step and appended at once.
            guard let base = u.baseAddress else {
                bytes.append(UInt8(ascii: "\""))
                return
            }
            let n = u.count
            var run = 0
            var i = ByteScan.escapeStop(base, from: 0, to: n)
            while i < n {
                let c = u[i]
                if run < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<i])) }
                run = i + 1
                switch c {
                case 0x22: bytes.append(0x5C); bytes.append(0x22)
                case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
                case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(0x5C); bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(0x5C); bytes.append(UInt8(ascii: "f"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    let h = hex.utf8Start
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, h[Int(c >> 4)], h[Int(c & 0xF)]])
                }
                i = ByteScan.escapeStop(base, from: i + 1, to: n)
            }
            if run < u.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<u.count])) }
            bytes.append(UInt8(ascii: "\""))
        }
    }
}

extension JSON {
    /// Compact serialisation as UTF-8 bytes.
    var serialized: [UInt8] {
        var w = JSONWriter()
        w.write(self)
        return w.bytes
    }

    /// Compact serialisation as a String.
    var text: String { String(decoding: serialized, as: UTF8.self) }
}
