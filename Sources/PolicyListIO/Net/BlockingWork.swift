import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs blocking C calls (libresolv, libcurl easy handles) off Swift's cooperative thread pool.
///
/// The cooperative pool has one thread per core; a blocking call there would stall every other task. The
/// work goes to ``BlockingThreadPool`` instead, which starts a thread whenever every existing one is busy,
/// so the caller's concurrency bound is the only bound. (A Dispatch concurrent queue is not enough on
/// Linux: its pool starts at one thread per core and adds about one thread per second while they block,
/// so 40 lookups against a server that never answers took five rounds of the timeout instead of one.)
/// An optional hard deadline resumes the caller with a fallback value even if the C call never returns
/// (glibc's TCP path has no read timeout); the thread is then left to finish on its own, holding only its
/// own state.
enum BlockingWork {
    private static let timers = DispatchQueue(label: "policylist.net.deadlines", qos: .userInitiated)

    /// Runs `body` on a worker thread and returns its result, or `fallback` once `deadline` has passed.
    static func run<T: Sendable>(
        deadline: Duration? = nil, fallback: T, _ body: @escaping @Sendable () -> T
    ) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let once = ResumeOnce(continuation)
            BlockingThreadPool.shared.submit { once.resume(body()) }
            if let deadline {
                let (seconds, attoseconds) = deadline.components
                let nanos = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
                timers.asyncAfter(deadline: .now() + .nanoseconds(nanos)) { once.resume(fallback) }
            }
        }
    }
}

/// A pool of threads for blocking calls that grows to match demand: a job starts at once on an idle
/// thread, or on a new one when none is idle (up to ``maxThreads``; beyond that jobs wait their turn).
/// Threads idle for ``idleSeconds`` exit. The high-water mark is kept for tests and measurements.
final class BlockingThreadPool: @unchecked Sendable {
    /// The process-wide pool.
    static let shared = BlockingThreadPool()

    /// At most this many threads (each blocked call holds one).
    let maxThreads: Int
    /// Seconds an idle thread waits for work before it exits.
    let idleSeconds: Int

    // Guarded by `mutex`; `@unchecked Sendable` is sound because every access below holds it.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var idle = 0
    private var threads = 0
    private var highWater = 0

    init(maxThreads: Int = 2048, idleSeconds: Int = 10) {
        self.maxThreads = max(1, maxThreads)
        self.idleSeconds = max(1, idleSeconds)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    /// The most threads that existed at once.
    var maximumThreads: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return highWater
    }

    /// Runs `job` on a pool thread.
    func submit(_ job: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        jobs.append(job)
        var spawn = false
        if jobs.count - head > idle && threads < maxThreads {
            threads += 1
            highWater = max(highWater, threads)
            spawn = true
        }
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
        guard spawn, !startThread() else { return }
        // No thread could be started: the job waits for a running one; if there is none, run the queue here.
        pthread_mutex_lock(mutex)
        threads -= 1
        let orphaned = threads == 0
        pthread_mutex_unlock(mutex)
        if orphaned { drainInline() }
    }

    /// Runs every queued job on the calling thread (only when no pool thread can be started).
    private func drainInline() {
        while true {
            pthread_mutex_lock(mutex)
            guard head < jobs.count else {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = jobs[head]
            head += 1
            pthread_mutex_unlock(mutex)
            job()
        }
    }

    private func startThread() -> Bool {
        let box = Unmanaged.passRetained(self)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 1 << 20)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        #if canImport(Glibc)
            var thread = pthread_t()
        #else
            var thread: pthread_t?
        #endif
        let rc = pthread_create(
            &thread, &attributes,
            { context in
                guard let context else { return nil }
                let pool = Unmanaged<BlockingThreadPool>.fromOpaque(context).takeRetainedValue()
                pool.work()
                return nil
            }, box.toOpaque())
        if rc != 0 { box.release() }
        return rc == 0
    }

    /// A thread's loop: take jobs until idle for `idleSeconds`.
    private func work() {
        pthread_mutex_lock(mutex)
        while true {
            if head < jobs.count {
                let job = jobs[head]
                head += 1
                if head >= 1024 && head * 2 >= jobs.count {
                    jobs.removeFirst(head)
                    head = 0
                }
                pthread_mutex_unlock(mutex)
                job()
                pthread_mutex_lock(mutex)
                continue
            }
            idle += 1
            var deadline = timespec()
            clock_gettime(CLOCK_REALTIME, &deadline)
            deadline.tv_sec += idleSeconds
            var timedOut = false
            while head >= jobs.count && !timedOut {
                timedOut = pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT
            }
            idle -= 1
            if head >= jobs.count {
                threads -= 1
                pthread_mutex_unlock(mutex)
                return
            }
        }
    }
}

/// Resumes a continuation exactly once, whichever of the work or the deadline comes first.
private final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: CheckedContinuation<T, Never>
    private let done = Atomic<Bool>(false)

    init(_ continuation: CheckedContinuation<T, Never>) { self.continuation = continuation }

    func resume(_ value: T) {
        if !done.exchange(true, ordering: .acquiringAndReleasing) { continuation.resume(returning: value) }
    }
}
