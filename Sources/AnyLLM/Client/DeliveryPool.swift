import Glibc

/// The threads that run non-blocking calls' callbacks, so that a slow on_chunk in one call never
/// holds up the engine's I/O or another call's callbacks (only its own). A call is handed to one
/// worker at a time, which keeps its callbacks in order and never concurrent.
final class DeliveryPool: @unchecked Sendable {
    static let shared = DeliveryPool(workers: 4)

    private let monitor = Monitor()
    private var ready: [Call] = []
    private var head = 0

    init(workers: Int) {
        for _ in 0..<workers {
            var tid = pthread_t()
            var attr = pthread_attr_t()
            pthread_attr_init(&attr)
            pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
            let ctx = Unmanaged.passRetained(self).toOpaque()
            pthread_create(&tid, &attr, { ctx in
                let pool = Unmanaged<DeliveryPool>.fromOpaque(ctx!).takeRetainedValue()
                pool.work()
                return nil
            }, ctx)
            pthread_attr_destroy(&attr)
        }
    }

    func schedule(_ c: Call) {
        monitor.locked {
            ready.append(c)
            monitor.broadcast()
        }
    }

    private func work() {
        while true {
            let c: Call = monitor.locked {
                while head == ready.count { monitor.wait(until: nil) }
                let c = ready[head]
                head += 1
                if head > 64 && head * 2 > ready.count {
                    ready.removeFirst(head)
                    head = 0
                }
                return c
            }
            c.drain()
        }
    }
}
