// What every target shares: the target type, the invariant check, deterministic re-splitting of
// an input into reads, and JSON validity checks.
import CAnyLLMTypes

/// One fuzz target: a row of `fuzzTargets` (Targets.swift).
struct FuzzTarget {
    /// The name given in ANYLLM_FUZZ_TARGET and to fuzz/run.sh.
    let name: String
    /// Seed corpus folders under fuzz/.work/seeds/ (made by fuzz/seed.py) that fit this input.
    let seeds: [String]
    /// Dictionaries in fuzz/dict/ (without ".dict"), joined for the run.
    let dicts: [String]
    let run: (UnsafeRawBufferPointer) -> Void

    init(_ name: String, seeds: [String], dicts: [String], _ run: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.name = name
        self.seeds = seeds
        self.dicts = dicts
        self.run = run
    }
}

/// A broken invariant is a crash: libFuzzer saves the input and reports the message.
func require(_ ok: @autoclosure () -> Bool, _ what: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !ok() { fatalError("fuzz invariant broken: \(what())", file: file, line: line) }
}

/// Read boundaries for feeding one input piece by piece. They depend only on the input's bytes
/// (FNV-1a seeds a xorshift generator), so a saved crash input reproduces exactly; sizes are mostly
/// small (1–8 bytes) to split CRLFs, UTF-8 sequences and escapes, sometimes up to 300.
func splitPoints(_ buf: UnsafeRawBufferPointer) -> [Range<Int>] {
    var h: UInt64 = 0xcbf29ce484222325
    for b in buf { h = (h ^ UInt64(b)) &* 0x100000001b3 }
    if h == 0 { h = 1 }
    var out: [Range<Int>] = []
    var i = 0
    while i < buf.count {
        h ^= h << 13; h ^= h >> 7; h ^= h << 17
        let n = h % 4 == 0 ? Int((h >> 8) % 300) + 1 : Int((h >> 8) % 8) + 1
        let end = min(buf.count, i + n)
        out.append(i..<end)
        i = end
    }
    return out
}

/// The whole input as one read, the split reads above, and (small inputs only: it costs one
/// call per byte) one byte per read.
func readPlans(_ buf: UnsafeRawBufferPointer) -> [[Range<Int>]] {
    var plans: [[Range<Int>]] = [[0..<buf.count], splitPoints(buf)]
    if buf.count <= 512 { plans.append((0..<buf.count).map { $0..<($0 + 1) }) }
    return plans
}

func isValidJSON(_ bytes: [UInt8]) -> Bool { (try? JSONReader.parse(bytes)) != nil }

/// Statuses a decoder may report. ANYLLM_OK, CANCELLED and INTERNAL never come from decoding.
let decodeStatuses: Set<UInt32> = Set(([
    ANYLLM_E_INVALID_REQUEST, ANYLLM_E_UNSUPPORTED_PROVIDER, ANYLLM_E_UNSUPPORTED_PARAMETER, ANYLLM_E_MISSING_API_KEY,
    ANYLLM_E_AUTHENTICATION, ANYLLM_E_PERMISSION, ANYLLM_E_NOT_FOUND, ANYLLM_E_RATE_LIMIT, ANYLLM_E_CONTEXT_LENGTH,
    ANYLLM_E_CONTENT_FILTER, ANYLLM_E_INSUFFICIENT_FUNDS, ANYLLM_E_PROVIDER, ANYLLM_E_TIMEOUT, ANYLLM_E_CONNECTION,
] as [anyllm_status]).map { UInt32($0.rawValue) })

/// A fake key: errors must never carry it (the dictionaries offer it to the mutator).
let fuzzSecret = "sk-fuzz-SECRET-0123456789"

/// What the caller would receive for this error: valid JSON, a known type, no secret.
func checkError(_ e: AnyLLMError, allowed: Set<UInt32> = decodeStatuses, _ context: String) {
    require(allowed.contains(UInt32(e.status.rawValue)), "\(context): unexpected status \(e.status.typeName): \(e.message)")
    if let r = e.retryAfter { require(r.isFinite && r >= 0, "\(context): retry_after \(r)") }
    let out = e.json(redactor: Redactor(secrets: [fuzzSecret])).serialized
    require(isValidJSON(out), "\(context): error JSON does not parse: \(String(decoding: out, as: UTF8.self))")
    require(!contains(out, Array(fuzzSecret.utf8)), "\(context): the key appears in the error JSON")
}

func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, hay.count >= needle.count else { return false }
    for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle {
        return true
    }
    return false
}

/// A parsed request for decoders that need one (model names, structured output).
func fixedRequest(_ text: String) -> CompletionRequest {
    do { return try CompletionRequest.parse(try JSONReader.parse(text)) } catch { fatalError("bad fixed request \(text): \(error)") }
}
