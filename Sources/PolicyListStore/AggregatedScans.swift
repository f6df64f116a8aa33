import PolicyListCore

/// The backend's `aggregated_scans` statistics in the store (migration `0006-aggregated-scans`).
public struct AggregatedScans {
    /// The connection.
    public let db: Database

    /// A store over `db` (which must be migrated).
    public init(_ db: Database) {
        self.db = db
    }

    /// Stores one row unless (time, source) is already there: the first write wins, as in the backend
    /// (`ON CONFLICT (time, source) DO NOTHING`). Keeps the input line in the blob store. Returns whether the
    /// row was new; no transaction of its own (callers batch).
    @discardableResult
    public func insert(_ scan: AggregatedScan, ref: String, line: [UInt8]) throws -> Bool {
        guard let ns = Observations.nanoseconds(scan.time) else {
            throw StoreError.column("time \(scan.time) is outside 1677–2262", sql: "aggregated_scans")
        }
        if try db.scalar(
            "SELECT EXISTS (SELECT 1 FROM aggregated_scans WHERE time_ns = ? AND source = ?)",
            [.int(ns), .text(scan.source)], as: Bool.self) == true
        {
            return false
        }
        let hash = try BlobStore(db).put(line).hash
        try db.execute(
            """
            INSERT INTO aggregated_scans (
                time_ns, time, source, attempted, with_mxs, mta_sts_testing, mta_sts_enforce, schema, backend_id,
                ref, line_sha256
            ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .int(ns), .text(scan.time.rfc3339), .text(scan.source), .int(Int64(scan.attempted)),
                .int(Int64(scan.withMXs)), .int(Int64(scan.testing)), .int(Int64(scan.enforce)),
                .text(scan.schema.rawValue), scan.backendID.sqlValue, .text(ref), .text(hash),
            ])
        return true
    }

    /// Every row, ordered by source then time.
    public func all() throws -> [AggregatedScan] {
        try db.query(
            """
            SELECT backend_id, time_ns, source, attempted, with_mxs, mta_sts_testing, mta_sts_enforce, schema
            FROM aggregated_scans ORDER BY source, time_ns
            """
        ).map { row in
            let ns: Int64 = try row.get(1)
            let seconds = ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000
            let schemaName: String = try row.get(7)
            return AggregatedScan(
                backendID: try row.get(0),
                time: Instant(seconds: seconds, nanoseconds: Int32(ns - seconds * 1_000_000_000)),
                source: try row.get(2), attempted: try row.get(3), withMXs: try row.get(4), testing: try row.get(5),
                enforce: try row.get(6), schema: AggregatedScan.Schema(rawValue: schemaName) ?? .csv)
        }
    }
}
