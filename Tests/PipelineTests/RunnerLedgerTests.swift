import Foundation
import PolicyListIO
import PolicyListStore
import Testing

@testable import PolicyListPipeline

/// The built `policylist`: `POLICYLIST_BIN_DIR`, else `<repo>/.build/debug`.
private let binDirectory: String = {
    if let dir = ProcessInfo.processInfo.environment["POLICYLIST_BIN_DIR"], !dir.isEmpty { return dir }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug").path
}()

@Suite("Runner: the ledger rows a real run writes")
struct RunnerLedgerTests {
    @Test(
        "runs and run_stages hold the file's SHA-256, the resolved variables, argv, exit codes and summaries",
        .enabled(if: FileManager.default.isExecutableFile(atPath: binDirectory + "/policylist")))
    func rows() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runner-ledger-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pipeline = dir + "/p.json"
        let text = #"""
            {"schemaVersion":1,"name":"ledger","standardOptions":false,"variables":{"WORD":"hi ${OUT}"},"stages":[
              {"name":"say","run":["printf","{\"word\":\"%s\"}\n","${WORD}"]},
              {"name":"fail","run":["/bin/false"]}]}
            """#
        try text.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let db = dir + "/db.sqlite"
        let result = try runProcess(
            binDirectory + "/policylist",
            arguments: ["run", pipeline, "--db", db, "--now", "2020-05-01T00:00:00Z", "--var", "OUT=o"],
            workingDirectory: dir)
        #expect(result.termination == .exited(1))

        let database = try Database(path: db, mode: .readOnly)
        let runs = try RunLedger(database).recentRuns(limit: 5)
        let run = try #require(runs.first)
        #expect(runs.count == 1)
        #expect(run.pipeline == "ledger")
        #expect(run.pipelineSha256 == SHA256.hex(Array(text.utf8)))
        #expect(run.status == "failed")
        #expect(run.exitCode == 1)
        #expect(run.nowFromClock == false)
        #expect(
            run.variables == [
                "DATA": dir + "/data", "DB": db, "NOW": "2020-05-01T00:00:00Z", "OUT": "o", "WORD": "hi o",
            ])
        #expect(run.endedAt != nil)
        let stages = try RunLedger(database).stages(of: run.id)
        #expect(stages.map(\.name) == ["say", "fail"])
        #expect(stages.map(\.position) == [0, 1])
        #expect(stages[0].argv.dropFirst() == [#"{"word":"%s"}"# + "\n", "hi o"])
        #expect(stages[0].summary == #"{"word":"hi o"}"#)
        #expect(stages.map(\.exitCode) == [0, 1])
        #expect(stages.map(\.outcome) == ["ok", "failed"])
        #expect(stages[1].message == "exit 1, not in allowExitCodes [0]")
        #expect(try database.scalar("PRAGMA integrity_check", as: String.self) == "ok")
    }
}
