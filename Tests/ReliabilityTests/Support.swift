import Foundation
import Testing

/// Paths, executables and small helpers for the reliability tests.
enum Rel {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let data = root + "/data"
    static let keyring = data + "/keys/starttls-policy-authority-B693F33372E965D76D55368616EEA65D03326C9D.gpg"

    /// Where the built executables are: `POLICYLIST_BIN_DIR`, else `.build/debug`.
    static let binDir: String = {
        if let dir = ProcessInfo.processInfo.environment["POLICYLIST_BIN_DIR"], !dir.isEmpty { return dir }
        return root + "/.build/debug"
    }()
}

extension Rel {
    /// Runs an executable (a policylist tool by name, or an absolute path) without a shell; stdout and stderr
    /// go to files so nothing can block. Returns the exit status (128+signal when killed) and both texts. The
    /// wait happens on a thread of its own, so long runs do not hold one of Swift concurrency's few cooperative
    /// threads (other suites' async tests with deadlines would starve).
    @discardableResult
    static func run(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:], cwd: String? = nil,
        killAfter: Duration? = nil
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try start(tool, arguments, environment: environment, cwd: cwd)
        if let killAfter {
            try await Task.sleep(for: killAfter)
            if process.process.isRunning { kill(process.process.processIdentifier, SIGKILL) }
        }
        return await process.wait()
    }

    /// `run` for `defer` blocks: waits on the calling thread (short commands only).
    static func runBlocking(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = try start(tool, arguments)
        return process.waitBlocking().status
    }

    /// Runs blocking or CPU-bound work on a thread of its own and returns its result. The body must not use
    /// `#expect` (it runs outside the test's task); return what to check instead.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// A started process whose output goes to temporary files.
    struct Started: @unchecked Sendable {
        let process: Process
        let out: String
        let err: String

        /// Waits for the exit on a thread of its own.
        func wait() async -> (status: Int32, stdout: String, stderr: String) {
            let started = self
            return await withCheckedContinuation { continuation in
                Thread { continuation.resume(returning: started.waitBlocking()) }.start()
            }
        }

        func waitBlocking() -> (status: Int32, stdout: String, stderr: String) {
            process.waitUntilExit()
            let status =
                process.terminationReason == .uncaughtSignal
                ? 128 + process.terminationStatus : process.terminationStatus
            defer {
                unlink(out)
                unlink(err)
            }
            return (status, text(out), text(err))
        }
    }

    static func start(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:], cwd: String? = nil
    ) throws -> Started {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : binDir + "/" + tool)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let base = NSTemporaryDirectory() + "policylist-rel-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Started(process: process, out: base + ".out", err: base + ".err")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func text(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    /// A fresh temporary directory.
    static func tempDir(_ label: String) -> String {
        let path = NSTemporaryDirectory() + "policylist-\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Copies a directory tree (`cp -a`, run without a shell).
    static func copyTree(_ from: String, _ to: String) async throws {
        try? FileManager.default.removeItem(atPath: to)
        let result = try await run("/bin/cp", ["-a", from, to])
        if result.status != 0 { throw CocoaError(.fileWriteUnknown) }
    }

    /// Every regular file under `dir` (relative path → bytes), dot files included.
    static func tree(_ dir: String) -> [String: Data] {
        var out: [String: Data] = [:]
        let files = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? []
        for file in files {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + file, isDirectory: &isDirectory),
                !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: dir + "/" + file)
            {
                out[file] = data
            }
        }
        return out
    }
}

extension Rel {
    /// The publication strings of seq 53, 54 and 56 (data/replay-2020/expected/timestamps.tsv).
    static let seq53 = [
        "--timestamp", "2020-04-15T11:19:10.581595-07:00", "--expires", "2020-04-29T11:19:10.581618-07:00",
    ]
    static let seq54 = [
        "--timestamp", "2020-04-22T13:39:26.906657-07:00", "--expires", "2020-05-06T13:39:26.906684-07:00",
    ]

    /// A store with the replay's step (a) inputs ingested and reconciled at the freeze, ready to publish seq 53;
    /// `scans` also imports the backend scans (for step b).
    static func replayStore(_ db: String, scans: Bool = false) async throws {
        let seq52 = tempDir("seq52")
        try await run("/usr/bin/tar", ["-xzf", data + "/policy-history/history.tar.gz", "-C", seq52])
        let steps: [(String, [String])] = [
            (
                "policylist-ingest",
                ["snapshots", "--keyring", keyring, seq52 + "/20200401T180221Z-2860d94.policy.json"]
            ),
            ("policylist-ingest", ["queue", data + "/replay-2020/domains.csv.gz"]),
            ("policylist-ingest", ["requests", data + "/replay-2020/removals.json", data + "/replay-2020/edits.json"]),
            ("policylist-reconcile", ["--as-of", "2020-04-15T07:20:35Z", "--freeze", "2020-04-15T07:20:35Z"]),
        ]
        for (tool, arguments) in steps {
            let result = try await run(tool, arguments + ["--db", db])
            if result.status != 0 { throw CocoaError(.fileReadUnknown, userInfo: ["stderr": result.stderr]) }
        }
        if scans {
            try await run(
                "policylist-observe", ["import-backend-scans", data + "/replay-2020/scans.jsonl.gz", "--db", db])
        }
    }

    /// Mounts a tmpfs of `size` at `dir` (root only); false when that is not possible here.
    static func mountTmpfs(_ dir: String, size: String) -> Bool {
        guard geteuid() == 0 else { return false }
        return (try? runBlocking("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir])) == 0
    }

    static func unmount(_ dir: String) {
        _ = try? runBlocking("/bin/umount", [dir])
    }
}
