import CAnyLLMTypes
import Glibc

let anyllmVersion = "0.1.0"

/// Helpers of the C ABI layer: C strings in and out, handle conversion. No logic.
enum CABI {
    nonisolated(unsafe) static let versionCString: UnsafeMutablePointer<CChar> = strdup(anyllmVersion)!

    /// A malloc'd, NUL-terminated copy for the caller to free with anyllm_string_free.
    static func cString(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
        let p = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
        bytes.withUnsafeBytes { b in
            if let base = b.baseAddress { memcpy(p, base, bytes.count) }
        }
        p[bytes.count] = 0
        return p
    }

    static func store(_ bytes: [UInt8], _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        out?.pointee = cString(bytes)
    }

    static func errorJSON(_ status: anyllm_status, _ message: String, param: String? = nil) -> [UInt8] {
        AnyLLMError(status, message, param: param).json(redactor: Redactor(secrets: [])).serialized
    }

    static func client(_ p: OpaquePointer?) -> Client {
        guard let p else { return Client.shared }
        return Unmanaged<Client>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    }

    static func call(_ p: OpaquePointer) -> Call {
        Unmanaged<Call>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    }

    /// The bytes of a C string argument (not including the NUL).
    static func bytes(_ s: UnsafePointer<CChar>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: s, count: strlen(s))
    }
}
