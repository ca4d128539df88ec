import Glibc

/// A mutex plus condition variable, on pthreads (no Foundation in the library). A class so that
/// the pthread objects never move in memory.
final class Monitor: @unchecked Sendable {
    fileprivate let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = newMonotonicCond()

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_cond_destroy(cond)
        cond.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits (lock held by the caller, inside `locked`) until signalled or `deadline` (monotonic seconds).
    func wait(until deadline: Double?) { waitOn(cond, mutex, until: deadline) }

    func broadcast() { pthread_cond_broadcast(cond) }
}

/// A condition variable of its own, waited on under a Monitor's lock: it lets one waiter among
/// many be woken (DeliveryPool gives each worker one, so a new call wakes one worker, not all).
final class Condition: @unchecked Sendable {
    private let cond = newMonotonicCond()

    deinit {
        pthread_cond_destroy(cond)
        cond.deallocate()
    }

    /// Waits (the monitor's lock held by the caller, inside `locked`) until signalled or `deadline`
    /// (monotonic seconds).
    func wait(on monitor: Monitor, until deadline: Double?) { waitOn(cond, monitor.mutex, until: deadline) }

    func signal() { pthread_cond_signal(cond) }
}

/// A condition variable whose timed waits run on the monotonic clock (immune to wall-clock jumps).
private func newMonotonicCond() -> UnsafeMutablePointer<pthread_cond_t> {
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    var attr = pthread_condattr_t()
    pthread_condattr_init(&attr)
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
    pthread_cond_init(cond, &attr)
    pthread_condattr_destroy(&attr)
    return cond
}

private func waitOn(_ cond: UnsafeMutablePointer<pthread_cond_t>, _ mutex: UnsafeMutablePointer<pthread_mutex_t>,
                    until deadline: Double?) {
    guard let deadline else {
        pthread_cond_wait(cond, mutex)
        return
    }
    // A deadline already past returns at once: pthread_cond_timedwait still slept about 70 µs for
    // one (measured: an event loop's anyllm_call_next with timeout 0, once per empty pull).
    if deadline <= monotonicNow() { return }
    var ts = timespec()
    ts.tv_sec = Int(deadline)
    ts.tv_nsec = Int((deadline - Double(Int(deadline))) * 1e9)
    pthread_cond_timedwait(cond, mutex, &ts)
}

/// Seconds on the monotonic clock.
@inline(__always)
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` on a new detached thread. False when no thread could be made (then `body` does
/// not run: the caller decides what that means).
@discardableResult
func detachThread(_ body: @escaping () -> Void) -> Bool {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
    var tid = pthread_t()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    let ctx = Unmanaged.passRetained(Box(body)).toOpaque()
    let rc = pthread_create(&tid, &attr, { ctx in
        Unmanaged<Box>.fromOpaque(ctx!).takeRetainedValue().body()
        return nil
    }, ctx)
    pthread_attr_destroy(&attr)
    if rc != 0 { Unmanaged<Box>.fromOpaque(ctx).release() }
    return rc == 0
}
