@testable import AnyLLM
import Glibc

/// Reads the recorded provider traffic in Tests/fixtures/recorded (copied from ../shared, with
/// its attribution README).
enum Fixtures {
    static let dir: String = {
        var p = #filePath
        while let last = p.last, last != "/" { p.removeLast() }  // .../Tests/AnyLLMTests/
        return p + "../fixtures/recorded/"
    }()

    static func files(_ provider: String) -> [String] {
        guard let d = opendir(dir + provider) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".json") { out.append(dir + provider + "/" + name) }
        }
        return out.sorted()
    }

    static func read(_ path: String) -> JSON {
        guard let f = fopen(path, "rb") else { fatalError("cannot open \(path)") }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buf[0..<n])
        }
        return try! JSONReader.parse(bytes)
    }

    /// Runs a body through a stream decoder in pieces of the given sizes; returns the chunks
    /// (or the error) and the aggregate.
    /// `bytes`: each chunk's bytes as emitted.
    static func stream(_ decoder: any StreamDecoder, _ body: [UInt8], pieces: [Int])
        -> (chunks: [JSONObject], result: JSON, error: AnyLLMError?, bytes: [[UInt8]]) {
        let collector = Collector()
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, body.count), alignment: 1)
        defer { storage.deallocate() }
        storage.copyBytes(from: body)
        var i = 0, k = 0
        while i < body.count {
            let n = max(1, pieces.isEmpty ? body.count : pieces[k % pieces.count])
            let end = min(body.count, i + n)
            if let e = collector.feed(decoder, UnsafeRawBufferPointer(rebasing: storage[i..<end])) {
                return (collector.chunks, collector.agg.result(complete: false), e, collector.bytes)
            }
            i = end
            k += 1
        }
        if let e = collector.finish(decoder) { return (collector.chunks, collector.agg.result(complete: false), e, collector.bytes) }
        return (collector.chunks, collector.agg.result(), nil, collector.bytes)
    }

    final class Collector {
        var chunks: [JSONObject] = []
        var bytes: [[UInt8]] = []
        var agg = StreamAggregator()

        func add(_ c: DecodedChunk) {
            bytes.append(c.ownedBytes)
            // A skimmed chunk has no tree: its bytes are the chunk.
            chunks.append(c.skim == nil ? c.json : (try! JSONReader.parse(c.ownedBytes)).object!)
            agg.add(c)
        }

        func feed(_ d: any StreamDecoder, _ b: UnsafeRawBufferPointer) -> AnyLLMError? {
            do { try d.feed(b, emit: add) } catch { return error }
            return nil
        }

        func finish(_ d: any StreamDecoder) -> AnyLLMError? {
            do { try d.finish(emit: add) } catch { return error }
            return nil
        }
    }

    static func request(_ text: String) -> CompletionRequest {
        try! CompletionRequest.parse(try! JSONReader.parse(text))
    }
}
