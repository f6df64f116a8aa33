import Foundation
import Testing

@testable import PolicyListIO

/// The thread pool behind every blocking libresolv/libcurl call.
@Suite("Net: blocking-call thread pool")
struct NetBlockingPoolTests {
    @Test("40 calls that each block for 1 s all run at once: about 1 s, not 40 / cores")
    func growsWithDemand() async {
        let pool = BlockingThreadPool(maxThreads: 256, idleSeconds: 2)
        let clock = ContinuousClock()
        let elapsed = await clock.measure {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                            pool.submit {
                                usleep(1_000_000)
                                continuation.resume()
                            }
                        }
                    }
                }
            }
        }
        print("40 blocking 1 s calls: \(elapsed), \(pool.maximumThreads) threads")
        #expect(elapsed < .milliseconds(2500))
        #expect(pool.maximumThreads >= 40)
        #expect(pool.maximumThreads <= 40)
    }

    @Test("idle threads are reused, and the cap queues work beyond it")
    func capAndReuse() async {
        let pool = BlockingThreadPool(maxThreads: 4, idleSeconds: 5)
        let clock = ContinuousClock()
        let elapsed = await clock.measure {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                            pool.submit {
                                usleep(300_000)
                                continuation.resume()
                            }
                        }
                    }
                }
            }
        }
        #expect(pool.maximumThreads == 4)
        #expect(elapsed >= .milliseconds(550), "8 jobs on 4 threads take two rounds")
    }

    @Test("the deadline answers with the fallback while the call still blocks")
    func deadline() async {
        let clock = ContinuousClock()
        var value = ""
        let elapsed = await clock.measure {
            value = await BlockingWork.run(deadline: .milliseconds(200), fallback: "deadline") {
                usleep(1_500_000)
                return "done"
            }
        }
        #expect(value == "deadline")
        #expect(elapsed < .milliseconds(1000))
    }
}
