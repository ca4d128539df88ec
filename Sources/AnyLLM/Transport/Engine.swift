import CCurl
import CCurlShim
import Glibc
import Synchronization

/// The I/O engine of one client: one thread driving one curl multi handle for every call of the
/// client. Connections, TLS sessions and DNS answers are reused across calls through the multi
/// handle's caches; HTTP/2 streams are multiplexed where the server offers it.
///
/// An engine is either threaded (its own I/O thread, shared by every call of the client) or
/// inline: no thread of its own, driven by the one thread that runs a blocking call on it
/// (`step`). Blocking calls use inline engines so that the request, the I/O, the decoding and the
/// callbacks all happen on the caller's thread, with no hand-over between threads; each inline
/// engine keeps its connections for the next blocking call that takes it (see Client).
///
/// Thread rules: `submit`, `cancel(owner:)` and `shutdown` may be called from any thread; they
/// hand work to the driving thread and wake it (curl_multi_wakeup). Transfer completions and
/// timers run on the driving thread, where `after` may schedule more.
final class Engine: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    /// No thread of its own: `step` is called by the thread running a blocking call.
    let isInline: Bool
    private let monitor = Monitor()
    // Shared with other threads (under monitor).
    private var incoming: [EasyTransfer] = []
    private var cancelled: [UInt64] = []
    private var stopping = false
    /// The engine thread is in (or about to enter) curl_multi_poll with nothing to do: the next
    /// submit or cancel wakes it. While it works, they only queue: it takes them at its next turn,
    /// and the wake-up (a write to curl's socket pair, read back by the poll) is saved. Set under
    /// the monitor, with the check that nothing is queued; cleared when the poll returns.
    private let sleeping = Atomic<Bool>(false)
    // Engine thread only.
    private var active: [UnsafeMutableRawPointer: EasyTransfer] = [:]
    private var timers: [(deadline: Double, owner: UInt64, action: () -> Void)] = []
    private var thread = pthread_t()
    private var nextReadCheck = 0.0

    /// Owner ids: unique for the life of the process (an object's address is not: a freed call's
    /// address is reused, and a late cancel must never reach the call that took it over).
    private static let ownerCounter = Atomic<UInt64>(0)
    static func newOwnerID() -> UInt64 { ownerCounter.add(1, ordering: .relaxed).newValue }

    /// Idle connections kept per client for reuse.
    static let idleConnections = 256

    /// How often idle transfers are checked against their read timeout.
    static let readCheckInterval = 0.05

    init?(maxConnectionsPerHost: Int, inline: Bool = false) {
        guard let m = curl_multi_init() else { return nil }
        multi = m
        isInline = inline
        // Keep idle connections for reuse regardless of how few calls are in flight: curl's default
        // cache size follows the number of handles added, so a caller with one call at a time
        // reconnected thousands of times per benchmark run.
        _ = ccurl_multi_setopt_long(m, CURLMOPT_MAXCONNECTS, Self.idleConnections)
        if maxConnectionsPerHost > 0 {
            _ = ccurl_multi_setopt_long(m, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        }
        if inline { return }
        let ctx = Unmanaged.passRetained(self).toOpaque()
        guard pthread_create(&thread, nil, { ctx in
            let e = Unmanaged<Engine>.fromOpaque(ctx!).takeRetainedValue()
            e.loop()
            return nil
        }, ctx) == 0 else {
            Unmanaged<Engine>.fromOpaque(ctx).release()
            curl_multi_cleanup(m)
            return nil
        }
    }

    func submit(_ t: EasyTransfer) {
        let (ok, wake) = monitor.locked { () -> (Bool, Bool) in
            if stopping { return (false, false) }
            incoming.append(t)
            return (true, takeSleeping())
        }
        // (An inline engine is submitted to by the thread that drives it, which is not asleep.)
        if !ok { t.complete(.failure(.cancelled)) } else if wake { curl_multi_wakeup(multi) }
    }

    /// Under the monitor: whether the engine thread must be woken; it is then no longer asleep.
    private func takeSleeping() -> Bool { sleeping.exchange(false, ordering: .relaxed) }

    /// Cancels the owner's transfer (if running) and fires its pending timers at once.
    func cancel(owner: UInt64) {
        if monitor.locked({ () -> Bool in
            cancelled.append(owner)
            return takeSleeping()
        }) { curl_multi_wakeup(multi) }
    }

    /// Engine thread only: runs `action` after `seconds` (a retry back-off), or at once when the
    /// owner is cancelled or the engine shuts down.
    func after(_ seconds: Double, owner: UInt64, _ action: @escaping () -> Void) {
        timers.append((monotonicNow() + seconds, owner, action))
    }

    /// Cancels everything, waits for the engine thread to finish and frees the multi handle.
    /// An inline engine is shut down by (or after) the last thread that drove it.
    func shutdown() {
        monitor.locked { stopping = true }
        if isInline {
            while step() {}
        } else {
            curl_multi_wakeup(multi)
            pthread_join(thread, nil)
        }
        curl_multi_cleanup(multi)
    }

    /// True on the engine's own I/O thread (never for an inline engine).
    var isCurrentThread: Bool { !isInline && pthread_equal(thread, pthread_self()) != 0 }

    private func loop() {
        while step() {}
    }

    /// One turn of the engine: takes new transfers and cancels, lets curl work, completes finished
    /// transfers, fires due timers, checks read timeouts, and waits for sockets or the next
    /// deadline. A threaded engine waits after the work; an inline one before it (unless it was
    /// just given something to do), so that its driving thread delivers what the work produced
    /// at once. False once stopping and nothing is left.
    /// `maxWait`: the longest an inline engine may sleep waiting for sockets, in seconds (a pulling
    /// caller's time limit).
    func step(maxWait: Double = .infinity) -> Bool {
        let (newOnes, cancels, stop, idle) = monitor.locked { () -> ([EasyTransfer], [UInt64], Bool, Bool) in
            // An inline engine given nothing new sleeps first; a submit or cancel then wakes it.
            let idle = isInline && incoming.isEmpty && cancelled.isEmpty && !stopping
            sleeping.store(idle, ordering: .relaxed)
            defer { incoming.removeAll(); cancelled.removeAll() }
            return (incoming, cancelled, stopping, idle)
        }
        for t in newOnes {
            active[t.easy] = t
            curl_multi_add_handle(multi, t.easy)
        }
        if !cancels.isEmpty { cancelOwners(Set(cancels)) }
        if stop {
            cancelOwners(nil)
            if active.isEmpty && timers.isEmpty && monitor.locked({ incoming.isEmpty }) { return false }
        }
        if idle {
            waitForWork(cap: maxWait)
            sleeping.store(false, ordering: .relaxed)
        }
        work()
        if !isInline { sleepIfIdle() }
        return true
    }

    private func work() {
        var running: Int32 = 0
        curl_multi_perform(multi, &running)
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
            let code = msg.pointee.data.result
            guard let t = active.removeValue(forKey: easy) else { continue }
            curl_multi_remove_handle(multi, easy)
            if let e = t.sinkError { t.complete(.failure(.sink(e))) }
            else if code == CURLE_OK { t.complete(.success(t.head)) }
            else { t.complete(.failure(t.failure(code))) }
        }
        let now = monotonicNow()
        fireTimers(now: now, owners: nil)
        if now >= nextReadCheck {
            nextReadCheck = now + Self.readCheckInterval
            for (easy, t) in active where now - t.lastActivity >= t.options.readTimeout {
                // The read clock starts when the request starts going out: a transfer still
                // queued for a connection (max_connections_per_host) or still connecting is
                // governed by the connect and total timeouts instead.
                var pretransfer = 0.0
                _ = ccurl_getinfo_double(easy, CURLINFO_PRETRANSFER_TIME, &pretransfer)
                if pretransfer == 0 {
                    t.lastActivity = now
                    continue
                }
                active.removeValue(forKey: easy)
                curl_multi_remove_handle(multi, easy)
                t.complete(.failure(.timeout(kind: "read", seconds: t.options.readTimeout)))
            }
        }
    }

    /// Waits for work unless some came in meanwhile; from the moment it decides to sleep, a submit
    /// or cancel wakes it.
    private func sleepIfIdle() {
        let idle = monitor.locked { () -> Bool in
            let idle = incoming.isEmpty && cancelled.isEmpty && !stopping
            sleeping.store(idle, ordering: .relaxed)
            return idle
        }
        if idle {
            waitForWork()
            sleeping.store(false, ordering: .relaxed)
        }
    }

    /// Sleeps until a socket is ready, a wakeup arrives, a timer is due or the read-timeout check.
    private func waitForWork(cap: Double = .infinity) {
        var wait = min(1000.0, max(0, cap * 1000))
        if !active.isEmpty { wait = min(wait, Self.readCheckInterval * 1000) }
        if let next = timers.map(\.deadline).min() { wait = min(wait, max(0, (next - monotonicNow()) * 1000)) }
        curl_multi_poll(multi, nil, 0, Int32(wait.rounded(.up)), nil)
    }

    /// Cancels the transfers and fires the timers of these owners (nil: all).
    private func cancelOwners(_ owners: Set<UInt64>?) {
        for (easy, t) in active where owners?.contains(t.owner) ?? true {
            active.removeValue(forKey: easy)
            curl_multi_remove_handle(multi, easy)
            t.complete(.failure(.cancelled))
        }
        fireTimers(now: .infinity, owners: owners)
    }

    private func fireTimers(now: Double, owners: Set<UInt64>?) {
        guard !timers.isEmpty else { return }
        var due: [() -> Void] = []
        timers.removeAll { t in
            let fire = t.deadline <= now && (owners?.contains(t.owner) ?? true)
            if fire { due.append(t.action) }
            return fire
        }
        for a in due { a() }
    }
}
