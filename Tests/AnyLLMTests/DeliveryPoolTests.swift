import Glibc
import Testing
@testable import AnyLLM

/// The delivery pool hands each scheduled call to one worker: every call is delivered, a call
/// whose callback blocks never holds up the others (the pool grows), and a burst of calls while
/// workers idle does not make a thread per call.
@Suite struct DeliveryPoolTests {
    /// A stand-in for a Call: counts its deliveries; blocks in drain() until released if asked to.
    final class Job: Deliverable, @unchecked Sendable {
        let monitor = Monitor()
        var drained = 0
        var blockUntilReleased: Bool
        var released = false
        init(blocking: Bool = false) { blockUntilReleased = blocking }

        func drain() {
            monitor.locked {
                drained += 1
                monitor.broadcast()
                while blockUntilReleased && !released { monitor.wait(until: nil) }
            }
        }

        func release() { monitor.locked { released = true; monitor.broadcast() } }

        /// Waits up to `seconds` for `n` deliveries.
        func waitDrained(_ n: Int, seconds: Double = 5) -> Bool {
            let end = monotonicNow() + seconds
            return monitor.locked {
                while drained < n && monotonicNow() < end { monitor.wait(until: min(end, monotonicNow() + 0.05)) }
                return drained >= n
            }
        }
    }

    @Test func blockedCallbacksDoNotStarveOtherCalls() {
        let pool = DeliveryPool(minWorkers: 1, maxWorkers: 16)
        // Four callbacks that block, scheduled at once: each needs a worker of its own.
        let blocked = (0..<4).map { _ in Job(blocking: true) }
        for j in blocked { pool.schedule(j) }
        for (i, j) in blocked.enumerated() { #expect(j.waitDrained(1), "blocked job \(i) never ran") }
        // With every worker stuck, a new call still gets delivered.
        let fast = Job()
        pool.schedule(fast)
        #expect(fast.waitDrained(1), "a call scheduled beside blocked callbacks was not delivered")
        #expect(pool.workerCount >= 5)
        for j in blocked { j.release() }
    }

    @Test func everyCallIsDeliveredUnderABurst() {
        let pool = DeliveryPool(minWorkers: 2, maxWorkers: 64)
        let jobs = (0..<2_000).map { _ in Job() }
        // Scheduled from four threads at once, as several engines would.
        let done = Monitor()
        var finished = 0
        for t in 0..<4 {
            detachThread {
                for k in stride(from: t, to: jobs.count, by: 4) { pool.schedule(jobs[k]) }
                done.locked { finished += 1; done.broadcast() }
            }
        }
        done.locked { while finished < 4 { done.wait(until: nil) } }
        for (i, j) in jobs.enumerated() { #expect(j.waitDrained(1), "job \(i) was never delivered") }
        #expect(jobs.allSatisfy { $0.drained == 1 }, "a job was delivered twice")
        // Fast callbacks are taken by the workers already there: far fewer threads than calls.
        #expect(pool.workerCount <= 64)
    }

    @Test func aSecondScheduleAfterIdlingReusesAWorker() {
        let pool = DeliveryPool(minWorkers: 1, maxWorkers: 8)
        for _ in 0..<50 {
            let j = Job()
            pool.schedule(j)
            #expect(j.waitDrained(1))
            usleep(1_000)  // the worker is idle again before the next call
        }
        // One call at a time, each after the last was delivered: the idle worker takes each.
        #expect(pool.workerCount <= 2)
    }
}
