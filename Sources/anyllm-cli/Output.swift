import Glibc

// Unbuffered output on file descriptors: every piece of an answer reaches the terminal (or the
// pipe) as soon as it is written, from whichever thread delivers it.

enum Out {
    static let stdoutFD: Int32 = 1
    static let stderrFD: Int32 = 2

    /// Writes all of `bytes`; false when the descriptor refuses them (closed pipe, full disk).
    @discardableResult
    static func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return false
            }
            off += n
        }
        return true
    }

    @discardableResult
    static func write(_ fd: Int32, _ s: String) -> Bool { write(fd, Array(s.utf8)) }

    static func isTTY(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// ANSI styling only on a terminal, and never when NO_COLOR is set (no-color.org).
    static func colors(_ fd: Int32) -> Bool {
        if let v = getenv("NO_COLOR"), v.pointee != 0 { return false }
        if let t = getenv("TERM"), String(cString: t) == "dumb" { return false }
        return isTTY(fd)
    }

    /// The message on stderr, prefixed with the program name, as one line.
    static func error(_ message: String) {
        write(stderrFD, "anyllm: " + oneLine(message) + "\n")
    }

    /// Newlines and runs of white space become one space; very long texts are cut.
    static func oneLine(_ s: String, limit: Int = 600) -> String {
        var out = ""
        var space = false
        for ch in s {
            if ch.isWhitespace {
                space = !out.isEmpty
                continue
            }
            if space { out.append(" "); space = false }
            out.append(ch)
        }
        if out.count > limit { out = String(out.prefix(limit)) + "…" }
        return out
    }

    /// Reads a descriptor to its end; nil when it cannot be read.
    static func readAll(_ fd: Int32) -> [UInt8]? {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { return data }
            data.append(contentsOf: buf[0..<n])
        }
    }
}

func environment(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    let s = String(cString: v)
    return s.isEmpty ? nil : s
}
