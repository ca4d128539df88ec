// The libFuzzer entry points. One binary holds every target (the library sources are compiled
// once, under ASan, which is most of the build time); ANYLLM_FUZZ_TARGET picks the target.
// fuzz/run.sh sets it; by hand: ANYLLM_FUZZ_TARGET=sse fuzz/.work/anyllm-fuzz CORPUS_DIR
import Glibc

nonisolated(unsafe) var selectedTarget: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    let name = getenv("ANYLLM_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    if name == "list" {
        // For fuzz/run.sh: one line per target, "name dict+dict… seed-folder…".
        for t in fuzzTargets { print(([t.name, t.dicts.joined(separator: "+")] + t.seeds).joined(separator: " ")) }
        exit(0)
    }
    guard let t = fuzzTargets.first(where: { $0.name == name }) else {
        let known = fuzzTargets.map(\.name).joined(separator: " ")
        fputs("set ANYLLM_FUZZ_TARGET to one of: \(known)\n", stderr)
        exit(2)
    }
    selectedTarget = t
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
