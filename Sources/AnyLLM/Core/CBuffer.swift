import Glibc

/// A growable byte buffer in malloc'd memory whose address the C caller may hold: unlike a Swift
/// array's storage, it moves only when it grows, and is freed only by `deinit`. Used for what the
/// library lends to the caller until its next call (anyllm_call_next's chunk batch).
final class CBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>?
    private(set) var count = 0
    private(set) var capacity = 0

    deinit { free(base) }

    func removeAll() { count = 0 }

    func append(_ byte: UInt8) {
        reserve(count + 1)
        base![count] = byte
        count += 1
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    func append(_ src: UnsafeRawBufferPointer) {
        let n = src.count
        if n == 0 { return }
        reserve(count + n)
        memcpy(base! + count, src.baseAddress!, n)
        count += n
    }

    func reserve(_ needed: Int) {
        if needed <= capacity { return }
        var c = max(capacity * 2, 4096)
        while c < needed { c *= 2 }
        guard let p = realloc(base, c) else { fatalError("out of memory") }
        base = p.assumingMemoryBound(to: UInt8.self)
        capacity = c
    }
}
