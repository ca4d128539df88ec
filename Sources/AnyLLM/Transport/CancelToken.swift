import CCurl
import Synchronization

/// Cancellation of one call, from any thread. Cancelling wakes whatever the call is blocked in:
/// the curl multi poll (curl_multi_wakeup is thread-safe) or a retry back-off sleep.
final class CancelToken: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    private let monitor = Monitor()
    private var multi: UnsafeMutableRawPointer?

    var isCancelled: Bool { flag.load(ordering: .acquiring) }

    func cancel() {
        flag.store(true, ordering: .releasing)
        monitor.locked {
            if let m = multi { curl_multi_wakeup(m) }
            monitor.broadcast()
        }
    }

    /// The transfer registers its multi handle while it polls, so that cancel can wake it.
    func attach(_ m: UnsafeMutableRawPointer?) { monitor.locked { multi = m } }

    /// Sleeps up to `seconds`; false when cancelled first.
    func sleep(_ seconds: Double) -> Bool {
        let deadline = monotonicNow() + seconds
        return monitor.locked {
            while !isCancelled && monotonicNow() < deadline { monitor.wait(until: deadline) }
            return !isCancelled
        }
    }
}
