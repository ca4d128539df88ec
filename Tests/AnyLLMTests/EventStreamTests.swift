import Testing
@testable import AnyLLM

/// The event-stream frame decoder: hand-built frames, every split point, corrupt and cut frames.
@Suite struct EventStreamTests {
    static func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// One frame with string headers (type 7), laid out by hand from the format description.
    static func frame(_ headers: [(String, String)], _ payload: String, rawHeaders: [UInt8] = []) -> [UInt8] {
        var h: [UInt8] = []
        for (n, v) in headers {
            h.append(UInt8(n.utf8.count)); h += Array(n.utf8); h.append(7)
            h += [UInt8(v.utf8.count >> 8), UInt8(v.utf8.count & 0xFF)]; h += Array(v.utf8)
        }
        h += rawHeaders
        let total = UInt32(12 + h.count + payload.utf8.count + 4)
        var f = be(total) + be(UInt32(h.count))
        f += be(CRC32.checksum(f))
        f += h + Array(payload.utf8)
        f += be(CRC32.checksum(f))
        return f
    }

    static func feed(_ d: inout EventStreamDecoder, _ part: [UInt8], _ out: inout [EventStreamMessage]) -> EventStreamError? {
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, part.count), alignment: 1)
        defer { buf.deallocate() }
        buf.copyBytes(from: part)
        do { try d.feed(UnsafeRawBufferPointer(rebasing: buf[0..<part.count]), into: &out) } catch { return error }
        return nil
    }

    static func decode(_ bytes: [UInt8], split: Int? = nil) -> (msgs: [EventStreamMessage], error: EventStreamError?) {
        var d = EventStreamDecoder()
        var out: [EventStreamMessage] = []
        let cut = split ?? bytes.count
        for part in [Array(bytes[0..<cut]), Array(bytes[cut...])] {
            if let e = Self.feed(&d, part, &out) { return (out, e) }
        }
        do { try d.finish() } catch { return (out, error) }
        return (out, nil)
    }

    @Test func crc32CheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF43926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func oneFrame() {
        let f = Self.frame([(":event-type", "contentBlockDelta"), (":content-type", "application/json"), (":message-type", "event")],
                           #"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#)
        let (msgs, err) = Self.decode(f)
        #expect(err == nil)
        #expect(msgs.count == 1)
        #expect(msgs.first?.string(":event-type") == "contentBlockDelta")
        #expect(msgs.first?.string(":message-type") == "event")
        #expect(msgs.first.map { String(decoding: $0.payload, as: UTF8.self) } == #"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#)
    }

    @Test func everySplitPoint() {
        let a = Self.frame([(":event-type", "messageStart")], #"{"role":"assistant"}"#)
        let b = Self.frame([(":event-type", "messageStop")], #"{"stopReason":"end_turn"}"#)
        let both = a + b
        for cut in 0...both.count {
            let (msgs, err) = Self.decode(both, split: cut)
            #expect(err == nil, "split at \(cut)")
            #expect(msgs.map { $0.string(":event-type") ?? "" } == ["messageStart", "messageStop"], "split at \(cut)")
        }
        // One byte per feed.
        var d = EventStreamDecoder()
        var out: [EventStreamMessage] = []
        for byte in both { #expect(Self.feed(&d, [byte], &out) == nil) }
        #expect(out.count == 2)
    }

    @Test func allHeaderValueTypes() {
        var raw: [UInt8] = []
        func name(_ n: String, _ type: UInt8) { raw.append(UInt8(n.utf8.count)); raw += Array(n.utf8); raw.append(type) }
        name("t", 0); name("f", 1)
        name("b", 2); raw.append(0xFF)
        name("s", 3); raw += [0x01, 0x02]
        name("i", 4); raw += Self.be(0xFFFF_FFFE)
        name("l", 5); raw += [0, 0, 0, 0] + Self.be(42)
        name("y", 6); raw += [0, 3, 1, 2, 3]
        name("d", 8); raw += [0, 0, 0, 0] + Self.be(1000)
        name("u", 9); raw += Array(0..<16)
        let (msgs, err) = Self.decode(Self.frame([], "{}", rawHeaders: raw))
        #expect(err == nil)
        let h = msgs.first?.headers ?? []
        #expect(h.map(\.name) == ["t", "f", "b", "s", "i", "l", "y", "d", "u"])
        #expect(h.map(\.value) == [.bool(true), .bool(false), .byte(-1), .short(0x0102), .int(-2), .long(42), .bytes([1, 2, 3]),
                                   .timestamp(1000), .uuid(Array(0..<16))])
    }

    @Test func badPreludeCRC() {
        var f = Self.frame([(":event-type", "messageStart")], "{}")
        f[9] ^= 0x01
        #expect(Self.decode(f).error == .preludeCRC)
        // A corrupt length is caught by the prelude CRC before it is trusted.
        var g = Self.frame([(":event-type", "messageStart")], "{}")
        g[2] = 0x7F
        #expect(Self.decode(g).error == .preludeCRC)
    }

    @Test func badMessageCRC() {
        let good = Self.frame([(":event-type", "messageStart")], #"{"role":"assistant"}"#)
        var bad = Self.frame([(":event-type", "contentBlockDelta")], #"{"delta":{"text":"x"}}"#)
        bad[bad.count - 8] ^= 0x20  // a payload byte
        let (msgs, err) = Self.decode(good + bad)
        #expect(err == .messageCRC)
        #expect(msgs.count == 1, "the frame before the corrupt one is delivered")
    }

    @Test func truncatedAtEnd() {
        let f = Self.frame([(":event-type", "messageStart")], "{}")
        for keep in [1, 11, 12, f.count - 1] {
            #expect(Self.decode(Array(f[0..<keep])).error == .truncated(keep), "kept \(keep)")
        }
    }

    @Test func impossibleLengthsAndHeaders() {
        // A prelude whose CRC is right but whose lengths cannot be: total < 16, headers longer than the frame.
        var p = Self.be(8) + Self.be(0)
        p += Self.be(CRC32.checksum(p))
        #expect(Self.decode(p + [0, 0, 0, 0]).error == .badLength(8))
        // An unknown header value type.
        #expect(Self.decode(Self.frame([], "{}", rawHeaders: [1, 0x78, 42])).error == .badHeader("unknown value type 42 for x"))
        // A string header running past the header block.
        #expect(Self.decode(Self.frame([], "{}", rawHeaders: [1, 0x78, 7, 0, 200, 0x41])).error == .badHeader("runs past the header block"))
    }
}
