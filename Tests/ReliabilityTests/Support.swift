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
    /// go to files so nothing can block. Returns the exit status (128+signal when killed) and both texts.
    @discardableResult
    static func run(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:], cwd: String? = nil,
        killAfter: Duration? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try start(tool, arguments, environment: environment, cwd: cwd)
        if let killAfter {
            Thread.sleep(forTimeInterval: seconds(killAfter))
            if process.process.isRunning { kill(process.process.processIdentifier, SIGKILL) }
        }
        return process.wait()
    }

    /// A started process whose output goes to temporary files.
    struct Started {
        let process: Process
        let out: String
        let err: String

        func wait() -> (status: Int32, stdout: String, stderr: String) {
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
    static func copyTree(_ from: String, _ to: String) throws {
        try? FileManager.default.removeItem(atPath: to)
        let result = try run("/bin/cp", ["-a", from, to])
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
