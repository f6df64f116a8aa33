import Dispatch
import Synchronization

/// Runs blocking C calls (libresolv, libcurl easy handles) off Swift's cooperative thread pool.
///
/// The cooperative pool has one thread per core; a blocking call there would stall every other task. The
/// work goes to a concurrent dispatch queue instead, which adds a thread for each blocked item, so the
/// caller's concurrency bound is the only bound. An optional hard deadline resumes the caller with a
/// fallback value even if the C call never returns (glibc's TCP path has no read timeout); the thread is
/// then left to finish on its own, holding only its own state.
enum BlockingWork {
    private static let queue = DispatchQueue(
        label: "policylist.net.blocking", qos: .userInitiated, attributes: .concurrent)

    /// Runs `body` on a worker thread and returns its result, or `fallback` once `deadline` has passed.
    static func run<T: Sendable>(
        deadline: Duration? = nil, fallback: T, _ body: @escaping @Sendable () -> T
    ) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let once = ResumeOnce(continuation)
            queue.async { once.resume(body()) }
            if let deadline {
                let (seconds, attoseconds) = deadline.components
                let nanos = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
                queue.asyncAfter(deadline: .now() + .nanoseconds(nanos)) { once.resume(fallback) }
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
