import Foundation
import Synchronization
import Testing

@testable import PolicyListIO

/// The thread pool behind every blocking libresolv/libcurl call. Times are taken on the pool's own threads,
/// so a busy cooperative pool (other tests) cannot blur them.
@Suite("Net: blocking-call thread pool")
struct NetBlockingPoolTests {
    /// Submits `count` jobs back to back, each sleeping `sleep`, and returns when every one has finished:
    /// the instant each job started, relative to the first submission.
    static func starts(pool: BlockingThreadPool, count: Int, sleep: useconds_t) async -> [Duration] {
        let origin = ContinuousClock.now
        let started = Mutex<[Duration]>([])
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let remaining = Atomic<Int>(count)
            for _ in 0..<count {
                pool.submit {
                    started.withLock { $0.append(ContinuousClock.now - origin) }
                    usleep(sleep)
                    if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                        continuation.resume()
                    }
                }
            }
        }
        return started.withLock { $0.sorted() }
    }

    @Test("40 calls that each block for 1 s all start at once, on 40 threads")
    func growsWithDemand() async throws {
        let pool = BlockingThreadPool(maxThreads: 256, idleSeconds: 2)
        let starts = await Self.starts(pool: pool, count: 40, sleep: 1_000_000)
        let spread = try #require(starts.last) - (starts.first ?? .zero)
        print("40 blocking 1 s calls: all started within \(spread), \(pool.maximumThreads) threads")
        #expect(spread < .milliseconds(500), "a Dispatch queue on Linux would start them a second apart")
        #expect(pool.maximumThreads == 40)
    }

    @Test("idle threads are reused, and the cap queues work beyond it")
    func capAndReuse() async throws {
        let pool = BlockingThreadPool(maxThreads: 4, idleSeconds: 5)
        let starts = await Self.starts(pool: pool, count: 8, sleep: 300_000)
        #expect(pool.maximumThreads == 4)
        #expect(starts[3] < .milliseconds(250), "the first four start at once")
        #expect(starts[4] >= .milliseconds(250), "the next four wait for a free thread")
        let again = await Self.starts(pool: pool, count: 4, sleep: 10_000)
        #expect(again.count == 4)
        #expect(pool.maximumThreads == 4, "no new thread for work the idle ones can take")
    }

    @Test("the deadline answers with the fallback while the call still blocks")
    func deadline() async {
        let value = await BlockingWork.run(deadline: .milliseconds(200), fallback: "deadline") {
            usleep(1_500_000)
            return "done"
        }
        #expect(value == "deadline")
    }
}
