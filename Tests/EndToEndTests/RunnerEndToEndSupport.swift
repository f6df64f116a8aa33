import Foundation
import Testing

/// Where the built executables are: `POLICYLIST_BIN_DIR`, else `<repo>/.build/debug`.
enum RunnerBinaries {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["POLICYLIST_BIN_DIR"], !dir.isEmpty { return dir }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repo.appendingPathComponent(".build/debug").path
    }()

    static var policylist: String { directory + "/policylist" }

    static func exists(_ name: String) -> Bool { FileManager.default.isExecutableFile(atPath: directory + "/" + name) }
}

/// What a finished process left behind.
struct Finished {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A temporary working directory with a database, pipelines and stage scripts.
final class RunnerSandbox {
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("runner-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    var db: String { dir + "/state/policylist.sqlite" }

    /// Writes `text` to `name` in the sandbox; `executable` makes it a script.
    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let path = dir + "/" + name
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
        return path
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: dir + "/" + name) }

    func read(_ name: String) -> String { (try? String(contentsOfFile: dir + "/" + name, encoding: .utf8)) ?? "" }

    /// Starts `policylist ARGS --db <sandbox db>` in the sandbox; stdout and stderr go to files.
    func start(_ args: [String], tag: String = UUID().uuidString) throws -> (Process, tag: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RunnerBinaries.policylist)
        process.arguments = args + ["--db", db]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        _ = FileManager.default.createFile(atPath: dir + "/.out-\(tag)", contents: nil)
        _ = FileManager.default.createFile(atPath: dir + "/.err-\(tag)", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: dir + "/.out-\(tag)")
        process.standardError = FileHandle(forWritingAtPath: dir + "/.err-\(tag)")
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, tag)
    }

    func finish(_ started: (Process, tag: String)) -> Finished {
        started.0.waitUntilExit()
        return Finished(
            status: started.0.terminationStatus, stdout: read(".out-\(started.tag)"),
            stderr: read(".err-\(started.tag)"))
    }

    /// Runs `policylist ARGS --db <sandbox db>` to completion.
    func policylist(_ args: [String]) throws -> Finished { finish(try start(args)) }

    /// `policylist status --json`, parsed.
    func status(limit: Int = 10) throws -> [[String: Any]] {
        let result = try policylist(["status", "--json", "--limit", String(limit)])
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return object?["runs"] as? [[String: Any]] ?? []
    }

    /// Waits up to `seconds` for a file to appear.
    func waitFor(_ name: String, seconds: Double = 60) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if exists(name) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Other tests block the cooperative pool with synchronous waits, so this task may resume only after the
        // deadline: look once more before giving up.
        return exists(name)
    }

    /// Polls for a file on this thread: unlike an async wait it needs no free thread in the shared test pool,
    /// which other tests' synchronous process waits can occupy for tens of seconds on a loaded machine.
    func waitForBlocking(_ name: String, seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if exists(name) { return true }
            usleep(20_000)
        }
        return exists(name)
    }

    /// A pipeline file from stages given as (name, run) pairs; `extra` adds raw stage keys.
    @discardableResult
    func pipeline(
        _ name: String, _ stages: [(String, [String])], extra: [String: String] = [:], top: String = ""
    ) throws -> String {
        let encoded = stages.map { stage in
            let run =
                (try? JSONSerialization.data(withJSONObject: stage.1, options: [.withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "[]"
            let more = extra[stage.0].map { "," + $0 } ?? ""
            return #"{"name":"\#(stage.0)","run":\#(run)\#(more)}"#
        }
        let text =
            #"{"schemaVersion":1,"name":"\#(name)","standardOptions":false,\#(top)"stages":[\#(encoded.joined(separator: ","))]}"#
        return try write("pipelines/\(name).json", text)
    }
}

/// Parses one JSON object printed on a line.
func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

/// The stage names of a `status --json` run or a `run --json` summary.
func stageNames(_ run: [String: Any]) -> [String] {
    (run["stages"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
}
