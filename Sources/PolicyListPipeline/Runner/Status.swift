import Foundation
import PolicyListCore
import PolicyListStore

/// The last runs and their stages, as `policylist status` shows them.
public struct RunStatus: Sendable {
    /// One JSON object: `{"schemaVersion":1,"command":"status","database":…,"runs":[…]}`.
    public let json: JSONValue
    /// The human table.
    public let table: String

    /// Reads the ledger (read-only; no lock needed). A missing database, or one no runner has used yet,
    /// has no runs.
    public static func load(databasePath: String, limit: Int, now: Instant = StageOptions.systemNow()) throws
        -> RunStatus
    {
        var runs: [(RunRecord, [StageRecord])] = []
        if FileManager.default.fileExists(atPath: databasePath) {
            let db = try Database(path: databasePath, mode: .readOnly)
            if try !Migrations.pending(db).contains(where: { $0.name == "0007-runner" }) {
                let ledger = RunLedger(db)
                for run in try ledger.recentRuns(limit: limit) { runs.append((run, try ledger.stages(of: run.id))) }
            }
        }
        return build(databasePath: databasePath, runs: runs, now: now)
    }

    static func build(databasePath: String, runs: [(RunRecord, [StageRecord])], now: Instant) -> RunStatus {
        var objects: [JSONValue] = []
        var lines: [String] = []
        if runs.isEmpty { lines.append("no runs recorded in \(databasePath)") }
        for (run, stages) in runs {
            let status = displayStatus(run)
            let total = seconds(from: run.startedAt, to: run.endedAt, now: now)
            var stageObjects: [JSONValue] = []
            var stageLines: [[String]] = [["#", "STAGE", "OUTCOME", "EXIT", "SECONDS", "NOTE"]]
            for stage in stages {
                let outcome = stage.outcome ?? (status == "running" ? "running" : "abandoned")
                let duration = stage.startedAt.map { seconds(from: $0, to: stage.endedAt, now: now) } ?? nil
                stageObjects.append(
                    .object([
                        "position": .int(stage.position), "name": .string(stage.name),
                        "exitCode": stage.exitCode.map { .int($0) } ?? .null,
                        "signal": stage.signal.map { .string(signalName($0)) } ?? .null,
                        "seconds": duration.map(secondsJSON) ?? .null, "outcome": .string(outcome),
                        "startedAt": .optional(stage.startedAt), "endedAt": .optional(stage.endedAt),
                        "argv": .strings(stage.argv), "message": .optional(stage.message),
                    ]))
                stageLines.append([
                    String(stage.position + 1), stage.name, outcome,
                    stage.exitCode.map(String.init) ?? stage.signal.map(signalName) ?? "-",
                    duration.map(formatSeconds) ?? "-", stage.message ?? "",
                ])
            }
            objects.append(
                .object([
                    "runId": .string(run.id), "pipeline": .string(run.pipeline),
                    "pipelinePath": .optional(run.pipelinePath), "pipelineSha256": .string(run.pipelineSha256),
                    "status": .string(status), "exitCode": run.exitCode.map { .int($0) } ?? .null,
                    "startedAt": .string(run.startedAt), "endedAt": .optional(run.endedAt),
                    "seconds": total.map(secondsJSON) ?? .null, "holderPid": run.holderPid.map { .int($0) } ?? .null,
                    "resumedFrom": .optional(run.resumedFrom), "resumesRun": .optional(run.resumesRun),
                    "stages": .array(stageObjects),
                ]))
            var header = "run \(run.id)  \(run.pipeline)  \(status)"
            if let code = run.exitCode { header += " (exit \(code))" }
            header += "  started \(run.startedAt)  " + (total.map { formatSeconds($0) + " s" } ?? "-")
            if let from = run.resumedFrom {
                header += "  from \(from)" + (run.resumesRun.map { " (resumes \($0))" } ?? "")
            }
            if !lines.isEmpty { lines.append("") }
            lines.append(header)
            lines += alignedRows(stageLines).map { "  " + $0 }
        }
        let json = JSONValue.object([
            "schemaVersion": 1, "command": "status", "database": .string(databasePath), "runs": .array(objects),
        ])
        return RunStatus(json: json, table: lines.joined(separator: "\n"))
    }

    /// `running` only while the holder lives; a dead holder's run is shown as `failed` (the next run records it so).
    private static func displayStatus(_ run: RunRecord) -> String {
        guard run.status == "running" else { return run.status }
        if let pid = run.holderPid, !processIsAlive(pid) { return "failed" }
        return "running"
    }

    private static func seconds(from start: String, to end: String?, now: Instant) -> Double? {
        guard case .success(let begin) = TimestampParser.parseInstant(start) else { return nil }
        var finish = now
        if let end {
            guard case .success(let parsed) = TimestampParser.parseInstant(end) else { return nil }
            finish = parsed
        }
        return max(0, finish.secondsDouble(since: begin))
    }

    private static func alignedRows(_ rows: [[String]]) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }
}
