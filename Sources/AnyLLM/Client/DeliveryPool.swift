import Glibc

/// The threads that run non-blocking calls' callbacks, so that a slow on_chunk never holds up the
/// engine's I/O. A call is handed to one worker at a time, which keeps its callbacks in order and
/// never concurrent. The pool grows when every worker is busy (callbacks that sleep or block must
/// not starve other calls' delivery) and shrinks back to `minWorkers` after idling.
final class DeliveryPool: @unchecked Sendable {
    static let shared = DeliveryPool(minWorkers: 2, maxWorkers: 256)

    private let minWorkers: Int
    private let maxWorkers: Int
    private let monitor = Monitor()
    private var ready: [Call] = []
    private var head = 0
    private var workers = 0
    private var idle = 0
    /// Seconds an extra worker waits for work before it exits.
    static let idleExit = 5.0

    init(minWorkers: Int, maxWorkers: Int) {
        self.minWorkers = minWorkers
        self.maxWorkers = maxWorkers
    }

    func schedule(_ c: Call) {
        let spawn: Bool = monitor.locked {
            ready.append(c)
            let waiting = ready.count - head
            if idle >= waiting {
                monitor.broadcast()
                return false
            }
            guard workers < maxWorkers else { return false }
            workers += 1
            return true
        }
        if spawn { startWorker() }
    }

    private func startWorker() {
        if !detachThread({ self.work() }) { monitor.locked { workers -= 1 } }
    }

    private func work() {
        while true {
            let next: Call? = monitor.locked {
                idle += 1
                defer { idle -= 1 }
                while head == ready.count {
                    let deadline = monotonicNow() + Self.idleExit
                    monitor.wait(until: deadline)
                    if head == ready.count && monotonicNow() >= deadline && workers > minWorkers {
                        workers -= 1
                        return nil
                    }
                }
                let c = ready[head]
                head += 1
                if head > 64 && head * 2 > ready.count {
                    ready.removeFirst(head)
                    head = 0
                }
                return c
            }
            guard let c = next else { return }
            c.drain()
        }
    }
}
