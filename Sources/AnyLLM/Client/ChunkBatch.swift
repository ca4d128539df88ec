// The chunks decoded from one network read, as the delivery side will hand them out: their bytes
// back to back in one buffer, each followed by a NUL, so that on_chunk gets a pointer into the
// batch (no copy, no allocation per chunk), with what the aggregator needs of each.

final class ChunkBatch {
    struct Entry {
        /// The chunk's bytes in `bytes` (a NUL follows them).
        var start: Int
        var count: Int
        /// The chunk's tree in `trees` (a chunk read in full), or -1 (skimmed: see `skim`).
        var tree: Int
        var skim: SkimmedDelta?
    }

    /// malloc'd and appended with memcpy.
    let bytes = CBuffer()
    // Unchecked exclusivity: written for every chunk by one thread, then read by one thread
    // (handed over under the call's lock); the runtime's access tracking cost more than the copy.
    @exclusivity(unchecked) private(set) var entries: [Entry] = []
    @exclusivity(unchecked) private(set) var trees: [JSONObject] = []

    init() {}

    // Recycling. One inline engine step can read a whole stream the server already sent, so a
    // stream's batches (tens of KB each) are all alive at once and freed together after delivery;
    // malloc then gave the memory back to the kernel and took it again for the next stream: page
    // faults were half a 1,000-chunk stream's time. Delivered batches are kept for reuse instead.
    private static let pool = Monitor()
    nonisolated(unsafe) private static var idle: [ChunkBatch] = []
    /// Idle batches kept, and the largest buffer kept with one.
    static let maxIdle = 32
    static let maxKeptBytes = 256 << 10

    /// An empty batch: a recycled one when there is one.
    static func make() -> ChunkBatch {
        pool.locked { idle.popLast() } ?? ChunkBatch()
    }

    /// Gives a delivered batch back for reuse; nobody may use it afterwards.
    func recycle() {
        if bytes.capacity > Self.maxKeptBytes { return }
        bytes.removeAll()
        entries.removeAll(keepingCapacity: true)
        trees.removeAll()
        Self.pool.locked { if Self.idle.count < Self.maxIdle { Self.idle.append(self) } }
    }

    /// Room for the chunks of a read of `n` bytes (they are never longer than the read plus what
    /// was left from the previous one), so that the buffer is not copied as it grows.
    func reserve(_ n: Int) {
        bytes.reserve(bytes.count + n)
    }

    /// All the chunks' bytes (each followed by its NUL).
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(start: bytes.base, count: bytes.count))
    }

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    func append(_ c: DecodedChunk) {
        let start = bytes.count
        c.withBytes { bytes.append($0) }
        let n = bytes.count - start
        bytes.append(0)
        var e = Entry(start: start, count: n, tree: -1, skim: c.skim)
        if c.skim == nil {
            e.tree = trees.count
            trees.append(c.json)
        }
        entries.append(e)
    }
}

extension StreamAggregator {
    /// Adds entry `e` of a batch whose bytes are `all`.
    @inline(__always)
    mutating func add(_ e: ChunkBatch.Entry, of batch: ChunkBatch, in all: UnsafeRawBufferPointer) {
        if let s = e.skim {
            add(skim: s, in: UnsafeRawBufferPointer(rebasing: all[e.start..<(e.start + e.count)]))
        } else {
            add(batch.trees[e.tree])
        }
    }
}
