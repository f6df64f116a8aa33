import Foundation
import Glibc
import PolicyListCore

/// One run at a time per database: an exclusive `flock` on `<db>.lock`.
///
/// The kernel releases a `flock` when the last descriptor of its open file is closed, so a runner killed
/// with SIGKILL never leaves a stale lock. The descriptor is deliberately inherited by the stages the
/// runner starts (it is opened without close-on-exec): a stage orphaned by a killed runner is still
/// writing the database, and it keeps the lock until it exits, so no second run can overlap it.
///
/// The file's content is informational, one JSON object: the holder's pid, when it started, the pipeline,
/// and the stage running now with its pid. A second runner quotes it when it exits 75.
public final class RunLock {
    /// The lock file's path.
    public let path: String
    private var fd: Int32
    private var info: [JSONMember] = []

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// The lock file beside `databasePath`.
    public static func lockPath(forDatabase databasePath: String) -> String { databasePath + ".lock" }

    /// Takes the lock without waiting; throws `RunLockError.held` (exit 75) when another process holds it.
    public static func acquire(path: String, pid: Int32, startedAt: String, pipeline: String) throws(RunLockError)
        -> RunLock
    {
        // Not O_CLOEXEC: see the type's comment (the stages get it as fd 3).
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            let holder = readHolder(fd)
            close(fd)
            if code == EWOULDBLOCK { throw .held(path: path, holder: holder) }
            throw .io(path: path, operation: "flock", errno: code)
        }
        let lock = RunLock(path: path, fd: fd)
        lock.info = [
            JSONMember("pid", .int(pid)), JSONMember("startedAt", .string(startedAt)),
            JSONMember("pipeline", .string(pipeline)),
        ]
        lock.write()
        return lock
    }

    /// Records the run id and the stage running now (or none) in the lock file, for a second runner's message.
    public func update(runID: String?, stage: String?, stagePid: Int32?) {
        info = info.filter { !["runId", "stage", "stagePid"].contains($0.key) }
        if let runID { info.append(JSONMember("runId", .string(runID))) }
        if let stage { info.append(JSONMember("stage", .string(stage))) }
        if let stagePid { info.append(JSONMember("stagePid", .int(stagePid))) }
        write()
    }

    /// The open lock file (stages inherit it as fd 3), or -1 once released.
    public var descriptor: Int32 { fd }

    /// Releases the lock (closing the descriptor; stages that inherited it have exited by now).
    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }

    private func write() {
        let bytes = Array((JSONWriter.compact(.object(info)) + "\n").utf8)
        guard ftruncate(fd, 0) == 0 else { return }
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    private static func readHolder(_ fd: Int32) -> LockHolder {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return LockHolder(raw: "") }
        return LockHolder(raw: String(decoding: buffer[0..<count], as: UTF8.self))
    }
}

/// What the lock file says about its holder.
public struct LockHolder: Sendable, Equatable {
    /// The runner's pid.
    public let pid: Int32?
    /// When it started.
    public let startedAt: String?
    /// The pipeline it runs.
    public let pipeline: String?
    /// The stage running now.
    public let stage: String?
    /// The stage's pid.
    public let stagePid: Int32?
    /// The content when it could not be read as JSON (e.g. the holder is just writing it).
    public let raw: String

    /// Reads the lock file's content.
    public init(raw: String) {
        let value = try? StrictJSONReader.read(Array(raw.utf8)).value
        func int(_ key: String) -> Int32? {
            if case .number(let text)? = value?[key] { return Int32(text) }
            return nil
        }
        pid = int("pid")
        startedAt = value?["startedAt"]?.stringValue
        pipeline = value?["pipeline"]?.stringValue
        stage = value?["stage"]?.stringValue
        stagePid = int("stagePid")
        self.raw = raw
    }

    /// `pid 123, started 2025-…Z, pipeline refresh, stage observe (pid 456)`, noting a holder that is gone.
    public var summary: String {
        guard let pid else {
            let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty
                ? "pid unknown: the holder has not written the lock file yet" : "lock file says: \(text)"
        }
        var parts = ["pid \(pid)"]
        if let startedAt { parts.append("started \(startedAt)") }
        if let pipeline { parts.append("pipeline \(pipeline)") }
        if let stage { parts.append("stage \(stage)" + (stagePid.map { " (pid \($0))" } ?? "")) }
        var text = parts.joined(separator: ", ")
        if !processIsAlive(pid) {
            text += "; pid \(pid) has exited"
            if let stage, let stagePid, processIsAlive(stagePid) {
                text += " but its stage \(stage) (pid \(stagePid)) is still running and holds the lock"
            }
        }
        return text
    }
}

/// Why the lock could not be taken.
public enum RunLockError: ExitCodeError, Equatable {
    /// Another process holds it.
    case held(path: String, holder: LockHolder)
    /// The lock file could not be opened or locked.
    case io(path: String, operation: String, errno: Int32)

    /// Held → 75 (try again later); I/O → 74.
    public var exitCode: ExitCode {
        if case .held = self { return .tempFail }
        return .ioError
    }

    /// `another run holds the lock (pid 123, started …)`.
    public var message: String {
        switch self {
        case .held(_, let holder): "another run holds the lock (\(holder.summary))"
        case .io(let path, let operation, let code): "\(path): \(operation): \(String(cString: strerror(code)))"
        }
    }
}

/// Whether a process with this pid exists (a zombie counts as gone).
func processIsAlive(_ pid: Int32) -> Bool {
    guard pid > 0 else { return false }
    if kill(pid, 0) != 0 && errno == ESRCH { return false }
    // A zombie (killed, not yet reaped by its parent) is not running anything.
    guard let stat = try? readSmallFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")),
        close + 2 < stat.count
    else { return true }
    return stat[close + 2] != UInt8(ascii: "Z")
}

/// Reads a small file (procfs) in one go.
func readSmallFile(_ path: String) throws(RunLockError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        out.append(contentsOf: buffer[0..<count])
    }
    return out
}
