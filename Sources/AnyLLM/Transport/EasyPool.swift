import CCurl
import Glibc

/// Idle curl easy handles, reset and kept for the next transfer instead of freed: a new handle
/// is a large zeroed allocation plus the initialisation of every option, which was an eighth of
/// a non-streamed call's instructions. A handle holds no connection (those live in the engines'
/// multi handles), and `curl_easy_reset` returns every option to its default, so a reused handle
/// starts like a new one. Process-wide and lock-protected: engines on any thread share it.
enum EasyPool {
    private static let monitor = Monitor()
    nonisolated(unsafe) private static var idle: [UnsafeMutableRawPointer] = []
    /// More idle handles than this are freed (enough for a burst of concurrent calls).
    static let maxIdle = 64

    static func take() -> UnsafeMutableRawPointer? {
        if let e = monitor.locked({ idle.popLast() }) { return e }
        return curl_easy_init()
    }

    /// Takes back a handle that is no longer in any multi handle.
    static func put(_ easy: UnsafeMutableRawPointer) {
        curl_easy_reset(easy)
        let kept: Bool = monitor.locked {
            if idle.count >= maxIdle { return false }
            idle.append(easy)
            return true
        }
        if !kept { curl_easy_cleanup(easy) }
    }
}
