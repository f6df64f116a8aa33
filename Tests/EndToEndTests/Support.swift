import Foundation
import Testing

/// Runs the built executables and reads the project's data, for end-to-end tests.
enum E2E {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let data = root + "/data"
    static let keyring = data + "/keys/starttls-policy-authority-B693F33372E965D76D55368616EEA65D03326C9D.gpg"

    /// Where the built executables are: `POLICYLIST_BIN_DIR`, else `.build/debug`.
    static let binDir: String = {
        if let dir = ProcessInfo.processInfo.environment["POLICYLIST_BIN_DIR"], !dir.isEmpty { return dir }
        return root + "/.build/debug"
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The last stdout line parsed as a JSON object (the `--json` summary).
        var summary: [String: Any] {
            let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
            return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
    }

    /// Runs `tool` (a policylist executable, or an absolute path) with arguments; no shell.
    static func run(
        _ tool: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
        cwd: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : binDir + "/" + tool)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child cannot block.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A fresh temporary directory.
    static func tempDir(_ label: String = "e2e") -> String {
        let path = NSTemporaryDirectory() + "policylist-\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The real history extracted (once per process) from data/policy-history/history.tar.gz.
    static let historyDir: String = {
        let dir = tempDir("history")
        _ = try? run("/usr/bin/tar", ["-xzf", data + "/policy-history/history.tar.gz", "-C", dir])
        return dir
    }()

    /// A file of the embedded data, gunzipped into a temp dir when it is stored compressed.
    static func plain(_ relative: String) -> String {
        let path = data + "/" + relative
        if FileManager.default.fileExists(atPath: path) { return path }
        let dir = tempDir("plain")
        let target = dir + "/" + (relative.split(separator: "/").last.map(String.init) ?? "file")
        let result = try? run("/bin/gzip", ["-dc", path + ".gz"])
        FileManager.default.createFile(atPath: target, contents: Data((result?.stdout ?? "").utf8))
        return target
    }

    static func read(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }
}
