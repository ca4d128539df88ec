import Glibc

/// What the pool runs: a call with callbacks to deliver (Call), or a test's stand-in.
protocol Deliverable: AnyObject {
    /// Delivers everything queued for it, then returns the worker to the pool.
    func drain()
}

/// The threads that run non-blocking calls' callbacks, so that a slow on_chunk never holds up the
/// engine's I/O. A call is handed to one worker at a time, which keeps its callbacks in order and
/// never concurrent. The pool grows when every worker is busy (callbacks that sleep or block must
/// not starve other calls' delivery) and shrinks back to `minWorkers` after idling.
///
/// A call scheduled while some worker idles is handed to that one worker (the one that idled
/// last, whose stack is warm) and only it is woken. Waking every idle worker for each call, as a
/// shared condition variable's broadcast does, had dozens of threads fighting for the pool's lock
/// per call under load: most of the non-blocking API's CPU time at 64 calls in flight.
final class DeliveryPool: @unchecked Sendable {
    static let shared = DeliveryPool(minWorkers: 2, maxWorkers: 256)

    /// An idle worker's mailbox: the call handed to it, and the condition it sleeps on.
    private final class Worker {
        let wake = Condition()
        var assigned: (any Deliverable)?
    }

    private let minWorkers: Int
    private let maxWorkers: Int
    private let monitor = Monitor()
    /// Calls no idle worker was free for, oldest first (`head` is the next to take).
    private var ready: [any Deliverable] = []
    private var head = 0
    /// Idle workers, the most recently idled last.
    private var idle: [Worker] = []
    private var workers = 0
    /// Seconds an extra worker waits for work before it exits.
    static let idleExit = 5.0

    init(minWorkers: Int, maxWorkers: Int) {
        self.minWorkers = minWorkers
        self.maxWorkers = maxWorkers
    }

    /// The number of worker threads (idle or busy).
    var workerCount: Int { monitor.locked { workers } }

    func schedule(_ c: any Deliverable) {
        enum Next { case woken(Worker), spawn, queued }
        let next: Next = monitor.locked {
            if let w = idle.popLast() {
                w.assigned = c
                return .woken(w)
            }
            ready.append(c)
            guard workers < maxWorkers else { return .queued }
            workers += 1
            return .spawn
        }
        switch next {
        case .woken(let w): w.wake.signal()  // after unlocking: the worker needs the lock to go on
        case .spawn: startWorker()
        case .queued: break
        }
    }

    private func startWorker() {
        if !detachThread({ self.work() }) { monitor.locked { workers -= 1 } }
    }

    private func work() {
        let me = Worker()
        while let c = take(me) { c.drain() }
    }

    /// The next call for this worker: a queued one, or one handed to it while it idles. nil: the
    /// worker has idled `idleExit` seconds while the pool has more than `minWorkers`, and exits.
    private func take(_ me: Worker) -> (any Deliverable)? {
        monitor.locked {
            if head < ready.count {
                let c = ready[head]
                head += 1
                if head == ready.count {
                    ready.removeAll(keepingCapacity: true)
                    head = 0
                } else if head > 64 && head * 2 > ready.count {
                    ready.removeFirst(head)
                    head = 0
                }
                return c
            }
            idle.append(me)
            var deadline = monotonicNow() + Self.idleExit
            while me.assigned == nil {
                me.wake.wait(on: monitor, until: deadline)
                guard me.assigned == nil, monotonicNow() >= deadline else { continue }
                if workers > minWorkers {
                    idle.removeAll { $0 === me }
                    workers -= 1
                    return nil
                }
                deadline = monotonicNow() + Self.idleExit
            }
            defer { me.assigned = nil }
            return me.assigned
        }
    }
}
