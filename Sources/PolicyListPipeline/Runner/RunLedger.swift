import PolicyListCore
import PolicyListStore

/// One row of `runs`.
public struct RunRecord: Sendable, Equatable {
    /// The run id.
    public var id: String
    /// The pipeline's name.
    public var pipeline: String
    /// SHA-256 of the pipeline file's bytes.
    public var pipelineSha256: String
    /// The pipeline file's path as given.
    public var pipelinePath: String?
    /// The resolved variables (empty for rows written before migration 0007).
    public var variables: [String: String]
    /// Whether `${NOW}` came from the clock.
    public var nowFromClock: Bool
    /// When the run started (RFC 3339, wall clock).
    public var startedAt: String
    /// When it ended; nil while running.
    public var endedAt: String?
    /// `running`, `ok` or `failed`.
    public var status: String
    /// The runner's pid.
    public var holderPid: Int32?
    /// The stage the run began with when not the first.
    public var resumedFrom: String?
    /// The failed run this run continues.
    public var resumesRun: String?
    /// The runner's exit code.
    public var exitCode: Int32?
}

/// One row of `run_stages`.
public struct StageRecord: Sendable, Equatable {
    /// The run it belongs to.
    public var runID: String
    /// The stage's index in the pipeline file.
    public var position: Int
    /// The stage's name.
    public var name: String
    /// The command as executed.
    public var argv: [String]
    /// When it started.
    public var startedAt: String?
    /// When it ended.
    public var endedAt: String?
    /// Its exit code (nil when a signal ended it or it never started).
    public var exitCode: Int32?
    /// What it printed on stdout (its JSON summary), trimmed.
    public var summary: String?
    /// `ok`, `failed`, `signaled`, `interrupted`, `not-started`, `abandoned`; nil while running.
    public var outcome: String?
    /// The signal that ended it.
    public var signal: Int32?
    /// The runner's note on it.
    public var message: String?
}

/// The run ledger in the database. Every write is its own transaction, committed at once, so the ledger is
/// accurate up to the moment a runner is killed.
public struct RunLedger {
    /// The database.
    public let db: Database

    /// Wraps `db` (migrated to include `0007-runner`).
    public init(_ db: Database) { self.db = db }

    private static let runColumns = """
        id, pipeline, pipeline_sha256, pipeline_path, variables, now_from_clock, started_at, ended_at, status,
        holder_pid, resumed_from, resumes_run, exit_code
        """

    /// The most recently started run, if any.
    public func latestRun() throws -> RunRecord? {
        try db.query("SELECT \(Self.runColumns) FROM runs ORDER BY rowid DESC LIMIT 1").first.map(Self.run)
    }

    /// The last `limit` runs, newest first.
    public func recentRuns(limit: Int) throws -> [RunRecord] {
        try db.query("SELECT \(Self.runColumns) FROM runs ORDER BY rowid DESC LIMIT ?", [.int(Int64(limit))])
            .map(Self.run)
    }

    /// Runs left `running` (their runner died); the caller holds the lock, so none of them is alive.
    public func runningRuns() throws -> [RunRecord] {
        try db.query("SELECT \(Self.runColumns) FROM runs WHERE status = 'running' ORDER BY rowid").map(Self.run)
    }

    /// A run's stages in pipeline order.
    public func stages(of runID: String) throws -> [StageRecord] {
        try db.query(
            """
            SELECT run_id, position, name, argv, started_at, ended_at, exit_code, summary, outcome, signal, message
            FROM run_stages WHERE run_id = ? ORDER BY position
            """, [.text(runID)]
        ).map { row in
            let argvText: String = try row.get(3)
            let argv =
                (try? StrictJSONReader.read(Array(argvText.utf8)).value.arrayValue?.compactMap(\.stringValue)) ?? nil
            return StageRecord(
                runID: try row.get(0), position: try row.get(1), name: try row.get(2), argv: argv ?? [],
                startedAt: try row.get(4), endedAt: try row.get(5),
                exitCode: try row.get(6, as: Int?.self).map(Int32.init),
                summary: try row.get(7), outcome: try row.get(8), signal: try row.get(9, as: Int?.self).map(Int32.init),
                message: try row.get(10))
        }
    }

    /// Marks a run whose runner died as failed, and its unfinished stage as `abandoned`.
    public func abandon(_ run: RunRecord, at now: String) throws {
        try db.transaction { db in
            try db.execute(
                """
                UPDATE run_stages SET ended_at = ?, outcome = 'abandoned',
                    message = 'the runner (pid ' || ifnull(?, '?') || ') died while the stage ran'
                WHERE run_id = ? AND ended_at IS NULL
                """, [.text(now), run.holderPid.map { .int(Int64($0)) } ?? .null, .text(run.id)])
            try db.execute(
                "UPDATE runs SET status = 'failed', ended_at = ? WHERE id = ? AND status = 'running'",
                [.text(now), .text(run.id)])
        }
    }

    /// Records the start of a run.
    public func beginRun(_ run: RunRecord) throws {
        try db.transaction { db in
            try db.execute(
                """
                INSERT INTO runs (id, pipeline, pipeline_sha256, pipeline_path, variables, now_from_clock, started_at,
                    status, holder_pid, resumed_from, resumes_run)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)
                """,
                [
                    .text(run.id), .text(run.pipeline), .text(run.pipelineSha256), SQLValue(run.pipelinePath),
                    .text(Self.json(run.variables)), .int(run.nowFromClock ? 1 : 0), .text(run.startedAt),
                    run.holderPid.map { .int(Int64($0)) } ?? .null, SQLValue(run.resumedFrom), SQLValue(run.resumesRun),
                ])
        }
    }

    /// Records the end of a run.
    public func endRun(id: String, status: String, exitCode: Int32, at now: String) throws {
        try db.transaction { db in
            try db.execute(
                "UPDATE runs SET status = ?, exit_code = ?, ended_at = ? WHERE id = ?",
                [.text(status), .int(Int64(exitCode)), .text(now), .text(id)])
        }
    }

    /// Records that a stage is starting.
    public func beginStage(runID: String, position: Int, name: String, argv: [String], at now: String) throws {
        try db.transaction { db in
            try db.execute(
                "INSERT INTO run_stages (run_id, position, name, argv, started_at) VALUES (?, ?, ?, ?, ?)",
                [
                    .text(runID), .int(Int64(position)), .text(name), .text(JSONWriter.compact(.strings(argv))),
                    .text(now),
                ])
        }
    }

    /// Records how a stage ended.
    public func endStage(
        runID: String, position: Int, at now: String, exitCode: Int32?, signal: Int32?, outcome: String,
        summary: String?, message: String?
    ) throws {
        try db.transaction { db in
            try db.execute(
                """
                UPDATE run_stages SET ended_at = ?, exit_code = ?, signal = ?, outcome = ?, summary = ?, message = ?
                WHERE run_id = ? AND position = ?
                """,
                [
                    .text(now), exitCode.map { .int(Int64($0)) } ?? .null, signal.map { .int(Int64($0)) } ?? .null,
                    .text(outcome), SQLValue(summary), SQLValue(message), .text(runID), .int(Int64(position)),
                ])
        }
    }

    private static func run(_ row: Row) throws -> RunRecord {
        let variablesText: String? = try row.get(4)
        var variables: [String: String] = [:]
        if let variablesText, let members = try? StrictJSONReader.read(Array(variablesText.utf8)).value.objectMembers {
            for member in members { variables[member.key] = member.value.stringValue ?? "" }
        }
        return RunRecord(
            id: try row.get(0), pipeline: try row.get(1), pipelineSha256: try row.get(2), pipelinePath: try row.get(3),
            variables: variables, nowFromClock: try row.get(5, as: Int?.self) == 1, startedAt: try row.get(6),
            endedAt: try row.get(7), status: try row.get(8), holderPid: try row.get(9, as: Int?.self).map(Int32.init),
            resumedFrom: try row.get(10), resumesRun: try row.get(11),
            exitCode: try row.get(12, as: Int?.self).map(Int32.init))
    }

    private static func json(_ variables: [String: String]) -> String {
        JSONWriter.compact(.object(variables.keys.sorted().map { JSONMember($0, .string(variables[$0] ?? "")) }))
    }
}
