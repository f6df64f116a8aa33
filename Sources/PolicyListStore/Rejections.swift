import CSQLite

/// One input that could not be used, kept with its raw bytes so nothing ingested is lost.
public struct RejectedInput: Sendable, Equatable {
    /// Row id (insertion order).
    public let id: Int64
    /// What kind of input it was (`snapshot`, `observation`, `domains.csv` row…), chosen by the caller.
    public let kind: String
    /// Where it came from: a file, archive, repository or URL.
    public let source: String
    /// Where inside the source: a byte offset, line, archive member or commit; `nil` for the whole source.
    public let location: String?
    /// The SHA-256 of the raw bytes in the blob store, if any bytes were recorded.
    public let blob: String?
    /// Why it was rejected.
    public let error: String
    /// When it was first recorded (RFC 3339 UTC).
    public let recordedAt: String

    /// Creates a record.
    public init(
        id: Int64, kind: String, source: String, location: String?, blob: String?, error: String,
        recordedAt: String
    ) {
        self.id = id
        self.kind = kind
        self.source = source
        self.location = location
        self.blob = blob
        self.error = error
        self.recordedAt = recordedAt
    }
}

/// The ledger of rejected inputs.
public struct Rejections {
    /// The connection the ledger lives in.
    public let db: Database

    /// A rejection ledger over `db` (which must be migrated).
    public init(_ db: Database) {
        self.db = db
    }

    /// Records a rejected input and its raw bytes; recording the same (kind, source, location, bytes) again
    /// keeps the first record and returns its id with `isNew == false`.
    @discardableResult
    public func record(
        kind: String, source: String, location: String?, bytes: [UInt8]?, error: String, at now: String
    ) throws -> (id: Int64, isNew: Bool) {
        try db.transaction { db in
            let blob = try bytes.map { try BlobStore(db).put($0).hash }
            let identity: [SQLValue] = [.text(kind), .text(source), location.sqlValue, blob.sqlValue]
            let insert = """
                INSERT INTO rejected_inputs (kind, source, location, blob, error, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """
            try db.execute(insert, identity + [.text(error), .text(now)])
            if db.changes == 1 { return (db.lastInsertRowID, true) }
            let existing = try db.scalar(
                """
                SELECT id FROM rejected_inputs
                WHERE kind = ? AND source = ? AND location IS ? AND blob IS ?
                """,
                identity, as: Int64.self)
            guard let existing else {
                // Only the identity index can make the insert a no-op, so the row must exist.
                throw StoreError.sqlite(
                    code: SQLITE_INTERNAL, message: "row was neither inserted nor found", sql: insert)
            }
            return (existing, false)
        }
    }

    /// Every rejected input, oldest first.
    public func list() throws -> [RejectedInput] {
        try db.query(
            """
            SELECT id, kind, source, location, blob, error, recorded_at
            FROM rejected_inputs ORDER BY id
            """
        ).map { row in
            RejectedInput(
                id: try row.get(0), kind: try row.get(1), source: try row.get(2), location: try row.get(3),
                blob: try row.get(4), error: try row.get(5), recordedAt: try row.get(6))
        }
    }
}
