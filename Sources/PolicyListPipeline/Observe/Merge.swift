import Foundation
import PolicyListCore
import PolicyListStore

/// `policylist-observe merge DB...`: copies the observations of other policylist databases (shards written by
/// `observe live --shard K/N` or `observe import --shard K/N` on other machines or batch jobs) into `--db`.
///
/// Rows are keyed by (domain, observedAt, source), as in every import:
/// * a row the target does not hold is copied with its evidence ref and stored verdict, and with what it
///   references (the input line's segment — or, for rows stored before migration 0008, the line's blob — and
///   the policy body's blob), byte for byte (already compressed: no re-encoding);
/// * a row the target holds from the same input line bytes is `alreadyKnown`;
/// * a row the target holds from different bytes is a conflict: the target's row is kept and the source's
///   line is recorded in `rejected_inputs` (kind `observation`, location `DB: observation REF`), as an import
///   does with a conflicting line.
///
/// The source's whole rejection ledger (`rejected_inputs` and their blobs) is copied too, so nothing a shard
/// ingested is lost; a record the target already has (same kind, source, location, bytes) is not duplicated.
/// The work runs in SQL over an `ATTACH`ed source, in transactions of ``Request/batchRows`` source rows, so
/// memory stays flat and a killed merge restarted later converges to the same state. Merging the same
/// database twice adds nothing.
public enum ObservationMerge {
    /// What to merge.
    public struct Request: Sendable {
        /// The source databases, in order.
        public var paths: [String]
        /// Source rows per transaction.
        public var batchRows: Int

        /// Creates a request.
        public init(paths: [String], batchRows: Int = 100_000) {
            self.paths = paths
            self.batchRows = max(1, batchRows)
        }
    }

    /// The counts for one source.
    struct SourceCounts {
        var inserted = 0
        var alreadyKnown = 0
        var conflicts = 0
        var rejectedInputs = 0
    }

    /// Runs the merge and returns the outcome (`accepted` = rows added, `alreadyKnown`, `rejected` = sources that
    /// could not be merged plus conflicting rows, and per-source counts in `sources`).
    public static func run(_ request: Request, context: StageContext) throws -> StageOutcome {
        var tally = ImportTally()
        var sources: [JSONValue] = []
        for path in request.paths {
            let counts: SourceCounts
            do {
                try checkSource(path, target: context.db)
                counts = try merge(path, request: request, context: context, tally: &tally)
            } catch let error as MergeSourceError {
                tally.failFile(path: path, error: error)
                continue
            }
            tally.accepted += counts.inserted
            tally.alreadyKnown += counts.alreadyKnown
            sources.append(
                .object([
                    "path": .string(path), "inserted": .int(counts.inserted), "alreadyKnown": .int(counts.alreadyKnown),
                    "conflicts": .int(counts.conflicts), "rejectedInputs": .int(counts.rejectedInputs),
                ]))
        }
        return tally.outcome(command: "observe merge", extra: [JSONMember("sources", .array(sources))])
    }

    /// A source that cannot be merged: unreadable (74) or not a compatible policylist database (65).
    struct MergeSourceError: ExitCodeError {
        let exitCode: ExitCode
        let message: String
    }

    /// Opens `path` read-only and checks that its schema is one this build knows and that it has observations.
    private static func checkSource(_ path: String, target: Database) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw MergeSourceError(exitCode: .ioError, message: "cannot read the database file")
        }
        guard (path as NSString).standardizingPath != (target.path as NSString).standardizingPath else {
            throw MergeSourceError(exitCode: .dataError, message: "is the target database itself")
        }
        do {
            let source = try Database(path: path, mode: .readOnly)
            defer { source.close() }
            _ = try Migrations.pending(source)
            let applied = try Migrations.applied(source).map(\.name)
            guard applied.contains(observationsMigration) else {
                throw MergeSourceError(
                    exitCode: .dataError,
                    message: "has no observations table (migration \(observationsMigration) not applied)")
            }
        } catch let error as MergeSourceError {
            throw error
        } catch let error as StoreError {
            throw MergeSourceError(exitCode: .dataError, message: "not a mergeable policylist database: \(error)")
        }
    }

    /// The migration that creates `observations` (its shape is frozen, so any database with it can be merged).
    private static let observationsMigration = "0005-observations"

    private static func merge(
        _ path: String, request: Request, context: StageContext, tally: inout ImportTally
    ) throws -> SourceCounts {
        let db = context.db
        try db.execute("ATTACH DATABASE ? AS merge_source", [.text(path)])
        defer { try? db.execute("DETACH DATABASE merge_source") }
        var counts = SourceCounts()
        let name = evidenceName(path)
        let now = context.nowText
        let maxID = try db.scalar("SELECT ifnull(max(id), 0) FROM merge_source.observations", as: Int64.self) ?? 0
        // A source at 0008 or later keeps its lines in segments; an older one keeps them as blobs.
        let lean =
            try db.scalar(
                "SELECT count(*) FROM merge_source.sqlite_master WHERE type = 'table' AND name = 'observation_segments'",
                as: Int.self) == 1
        let observations = Observations(db)
        var low: Int64 = 0
        while low < maxID {
            let high = low + Int64(request.batchRows)
            try db.transaction { db in
                let range: [SQLValue] = [.int(low), .int(high)]
                // Blobs first (the rows reference them): the line and policy of every source row in the range.
                try db.execute(copyLineBlobsSQL, range)
                try db.execute(copyPolicyBlobsSQL, range)
                // Then the segments holding the lines of the rows that will be copied (target ids differ).
                if lean { try copySegments(db, range: range) }
                // Conflicts: same identity, other bytes. Recorded before the insert, which skips them.
                var conflicts: [(ref: String, line: String, existing: String)] = []
                var segmented: [Int64] = []
                try db.forEach(lean ? conflictsLeanSQL : conflictsSQL, range) { row in
                    conflicts.append((try row.get(0), try row.get(1), try row.get(2)))
                    if lean, try row.get(4) as Int64? != nil { segmented.append(try row.get(3)) }
                }
                // A conflicting line kept in a source segment goes into the target's blobs (the ledger's form).
                for id in segmented {
                    try BlobStore(db).put(observations.line(id: id, schema: .mergeSource))
                }
                for conflict in conflicts {
                    let error =
                        "conflicts with the stored observation \(conflict.existing) (same domain, time and source, "
                        + "different content); the stored one is kept"
                    try db.execute(
                        recordConflictSQL,
                        [
                            .text(path), .text("\(name): observation \(conflict.ref)"), .text(conflict.line),
                            .text(error),
                            .text(now),
                        ])
                    tally.reject(path: path, line: nil, error: "observation \(conflict.ref): \(error)")
                }
                let known = try db.scalar(alreadyKnownSQL, range, as: Int.self) ?? 0
                try db.execute(lean ? insertLeanSQL : insertSQL, range)
                counts.inserted += db.changes
                counts.alreadyKnown += known
                counts.conflicts += conflicts.count
            }
            low = high
        }
        try db.transaction { db in
            try db.execute(copyRejectionBlobsSQL)
            try db.execute(copyRejectionsSQL)
            counts.rejectedInputs = db.changes
        }
        return counts
    }

    /// Copies into the target the source segments referenced by source rows of `range` that the target does
    /// not hold yet, and maps their ids in `temp.merge_segments` (source id → target id) for the insert.
    private static func copySegments(_ db: Database, range: [SQLValue]) throws {
        try db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS merge_segments (source_id INTEGER PRIMARY KEY, target_id INTEGER NOT NULL)"
        )
        try db.execute("DELETE FROM temp.merge_segments")
        var needed: [Int64] = []
        try db.forEach(segmentsNeededSQL, range) { row in needed.append(try row.get(0)) }
        for id in needed {
            try db.execute(
                "INSERT INTO main.observation_segments (size, data) SELECT size, data FROM merge_source.observation_segments WHERE id = ?",
                [.int(id)])
            try db.execute(
                "INSERT INTO temp.merge_segments (source_id, target_id) VALUES (?, ?)",
                [.int(id), .int(db.lastInsertRowID)]
            )
        }
    }

    private static let segmentsNeededSQL = """
        SELECT DISTINCT s.line_segment FROM merge_source.observations s
        WHERE s.id > ? AND s.id <= ? AND s.line_segment IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM main.observations m
            WHERE m.domain = s.domain AND m.observed_at_ns = s.observed_at_ns AND m.source = s.source)
        ORDER BY s.line_segment
        """

    // The column list of `observations` without `id` (0005-observations; shipped, so it never changes).
    private static let columns = """
        domain, observed_at, observed_at_ns, source, ref, line_sha256, kind, scan_id, txt_status, txt_records,
        txt_error, policy_status, http_status, content_type, location, policy_sha256, policy_error, tlsrpt, tlsa,
        backend_status, backend_checks, parser_version, valid, strict_valid, txt_valid, txt_strict_valid, txt_id,
        policy_valid, policy_strict_valid, mode, max_age, mx, list_mxs, reason, strict_reason, warnings
        """

    // `WHERE true` resolves the parsing ambiguity of INSERT … SELECT … ON CONFLICT (SQLite docs, "upsert").
    private static let copyLineBlobsSQL = """
        INSERT INTO main.blobs (sha256, size, data)
        SELECT b.sha256, b.size, b.data FROM merge_source.observations o
        JOIN merge_source.blobs b ON b.sha256 = o.line_sha256
        WHERE o.id > ? AND o.id <= ? AND true
        ON CONFLICT (sha256) DO NOTHING
        """

    private static let copyPolicyBlobsSQL = """
        INSERT INTO main.blobs (sha256, size, data)
        SELECT b.sha256, b.size, b.data FROM merge_source.observations o
        JOIN merge_source.blobs b ON b.sha256 = o.policy_sha256
        WHERE o.id > ? AND o.id <= ? AND true
        ON CONFLICT (sha256) DO NOTHING
        """

    private static let conflictsSQL = """
        SELECT s.ref, s.line_sha256, m.ref FROM merge_source.observations s
        JOIN main.observations m
            ON m.domain = s.domain AND m.observed_at_ns = s.observed_at_ns AND m.source = s.source
        WHERE s.id > ? AND s.id <= ? AND m.line_sha256 <> s.line_sha256
        ORDER BY s.id
        """

    private static let conflictsLeanSQL = """
        SELECT s.ref, s.line_sha256, m.ref, s.id, s.line_segment FROM merge_source.observations s
        JOIN main.observations m
            ON m.domain = s.domain AND m.observed_at_ns = s.observed_at_ns AND m.source = s.source
        WHERE s.id > ? AND s.id <= ? AND m.line_sha256 <> s.line_sha256
        ORDER BY s.id
        """

    private static let alreadyKnownSQL = """
        SELECT count(*) FROM merge_source.observations s
        JOIN main.observations m
            ON m.domain = s.domain AND m.observed_at_ns = s.observed_at_ns AND m.source = s.source
        WHERE s.id > ? AND s.id <= ? AND m.line_sha256 = s.line_sha256
        """

    private static let recordConflictSQL = """
        INSERT INTO main.rejected_inputs (kind, source, location, blob, error, recorded_at)
        VALUES ('observation', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
        """

    private static let insertSQL = """
        INSERT INTO main.observations (\(columns))
        SELECT \(columns) FROM merge_source.observations
        WHERE id > ? AND id <= ? AND true
        ORDER BY id
        ON CONFLICT (domain, observed_at_ns, source) DO NOTHING
        """

    /// From a source at 0008 or later: the line's place moves to the target's copy of its segment.
    private static let insertLeanSQL = """
        INSERT INTO main.observations (\(columns), line_segment, line_offset, line_length)
        SELECT \(columns), (SELECT target_id FROM temp.merge_segments WHERE source_id = line_segment), line_offset,
            line_length
        FROM merge_source.observations
        WHERE id > ? AND id <= ? AND true
        ORDER BY id
        ON CONFLICT (domain, observed_at_ns, source) DO NOTHING
        """

    private static let copyRejectionBlobsSQL = """
        INSERT INTO main.blobs (sha256, size, data)
        SELECT b.sha256, b.size, b.data FROM merge_source.rejected_inputs r
        JOIN merge_source.blobs b ON b.sha256 = r.blob
        WHERE true
        ON CONFLICT (sha256) DO NOTHING
        """

    private static let copyRejectionsSQL = """
        INSERT INTO main.rejected_inputs (kind, source, location, blob, error, recorded_at)
        SELECT kind, source, location, blob, error, recorded_at FROM merge_source.rejected_inputs
        WHERE true
        ORDER BY id
        ON CONFLICT DO NOTHING
        """
}
