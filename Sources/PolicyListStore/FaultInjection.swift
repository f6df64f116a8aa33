import Glibc

/// Crash-test fault injection, driven by the environment (docs/reliability.md).
///
/// `POLICYLIST_FAULT=commit:N` ends the process with `_exit(137)` (what a SIGKILL looks like to a parent) just
/// before the Nth top-level `COMMIT` this process would run, so the crash harness can stop a stage between any
/// two of its transactions deterministically. `commit:N@STAGE` arms it only in the process whose
/// `POLICYLIST_STAGE` (exported by `policylist run` to each stage) is `STAGE`, so one stage of a whole pipeline run
/// can be killed. Anything else in the variable, or no variable, disables it.
///
/// Cost when unset: the variable is read once per process (a `static let`); every commit then does one load
/// and one `nil` check.
enum FaultInjection {
    /// The commit number (1-based) before which to die, or `nil`.
    static let commitLimit: Int? = {
        guard let raw = getenv("POLICYLIST_FAULT") else { return nil }
        let parts = String(cString: raw).split(separator: "@", maxSplits: 1).map(String.init)
        guard let spec = parts.first, spec.hasPrefix("commit:"), let limit = Int(spec.dropFirst("commit:".count)),
            limit > 0
        else { return nil }
        if parts.count == 2 {
            guard let stage = getenv("POLICYLIST_STAGE"), String(cString: stage) == parts[1] else { return nil }
        }
        return limit
    }()

    /// Commits counted so far. Only touched when the hook is armed, and only by the thread that owns a
    /// `Database` (connections are thread-confined), so the unsynchronised counter is a test-only compromise.
    nonisolated(unsafe) private static var commits = 0

    /// Called right before a top-level `COMMIT`.
    @inline(__always)
    static func beforeCommit() {
        guard let limit = commitLimit else { return }
        commits += 1
        if commits >= limit { _exit(137) }
    }
}
