import PolicyListCore

extension Migration {
    /// Backend queue exports and operator request files.
    static let requests0003 = Migration(
        name: "0003-queue-and-requests",
        sql: """
            CREATE TABLE queue_imports (
                id INTEGER PRIMARY KEY,
                sha256 TEXT NOT NULL UNIQUE REFERENCES blobs(sha256),
                source TEXT NOT NULL,
                ingested_at TEXT NOT NULL,
                rows INTEGER NOT NULL CHECK (rows >= 0)
            ) STRICT;
            CREATE TABLE queue_rows (
                import_id INTEGER NOT NULL REFERENCES queue_imports(id) ON DELETE CASCADE,
                ref TEXT NOT NULL,
                domain TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('added', 'queued', 'unvalidated', 'failed')),
                mxs TEXT NOT NULL CHECK (json_type(mxs) = 'array'),
                last_updated_s INTEGER,
                last_updated_ns INTEGER,
                queue_weeks INTEGER NOT NULL,
                testing_start_s INTEGER,
                testing_start_ns INTEGER,
                mta_sts INTEGER NOT NULL CHECK (mta_sts IN (0, 1)),
                PRIMARY KEY (import_id, domain, state)
            ) STRICT;
            CREATE TABLE request_files (
                id INTEGER PRIMARY KEY,
                sha256 TEXT NOT NULL UNIQUE REFERENCES blobs(sha256),
                source TEXT NOT NULL,
                ingested_at TEXT NOT NULL
            ) STRICT;
            CREATE TABLE removal_requests (
                file_id INTEGER NOT NULL REFERENCES request_files(id) ON DELETE CASCADE,
                ref TEXT NOT NULL UNIQUE,
                domain TEXT NOT NULL,
                requested_s INTEGER NOT NULL,
                requested_ns INTEGER NOT NULL,
                reason TEXT NOT NULL
            ) STRICT;
            CREATE TABLE edit_requests (
                file_id INTEGER NOT NULL REFERENCES request_files(id) ON DELETE CASCADE,
                ref TEXT NOT NULL UNIQUE,
                domain TEXT NOT NULL,
                mxs TEXT CHECK (mxs IS NULL OR json_type(mxs) = 'array'),
                mode TEXT CHECK (mode IN ('testing', 'enforce')),
                at_s INTEGER NOT NULL,
                at_ns INTEGER NOT NULL,
                reason TEXT NOT NULL,
                CHECK (mxs IS NOT NULL OR mode IS NOT NULL)
            ) STRICT;
            """)
}

/// Queue exports and operator requests.
public struct RequestStore {
    /// The connection.
    public let db: Database

    /// Wraps a connection.
    public init(_ db: Database) { self.db = db }

    /// Whether a queue export with these bytes was already ingested.
    public func hasQueueImport(sha256: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM queue_imports WHERE sha256 = ?", [.text(sha256)], as: Int64.self) != nil
    }

    /// Records a queue export and its rows (e-mail addresses are not among them).
    public func insertQueue(sha256: String, source: String, rows: [QueueRow], at: String) throws {
        try db.execute(
            "INSERT INTO queue_imports (sha256, source, ingested_at, rows) VALUES (?, ?, ?, ?)",
            [.text(sha256), .text(source), .text(at), .int(Int64(rows.count))])
        let id = db.lastInsertRowID
        for row in rows {
            try db.execute(
                """
                INSERT INTO queue_rows (import_id, ref, domain, state, mxs, last_updated_s, last_updated_ns,
                    queue_weeks, testing_start_s, testing_start_ns, mta_sts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .int(id), .text(row.ref), .text(row.domain), .text(row.state.rawValue),
                    .text(JSONWriter.compact(.strings(row.mxs))), SQLValue(row.lastUpdated?.seconds),
                    SQLValue(row.lastUpdated.map { Int64($0.nanoseconds) }), .int(Int64(row.queueWeeks)),
                    SQLValue(row.testingStart?.seconds), SQLValue(row.testingStart.map { Int64($0.nanoseconds) }),
                    .int(row.mtaSts ? 1 : 0),
                ])
        }
    }

    /// The rows of the newest queue export (a `domains` export is a whole-table snapshot).
    public func currentQueue() throws -> [QueueRow] {
        guard let id = try db.scalar("SELECT id FROM queue_imports ORDER BY id DESC LIMIT 1", as: Int64.self) else {
            return []
        }
        return try db.query(
            """
            SELECT ref, domain, state, mxs, last_updated_s, last_updated_ns, queue_weeks, testing_start_s,
                testing_start_ns, mta_sts FROM queue_rows WHERE import_id = ? ORDER BY domain, state
            """, [.int(id)]
        ).map { row in
            func instant(_ s: Int, _ ns: Int) throws -> Instant? {
                guard let seconds = try row.get(s, as: Int64?.self) else { return nil }
                return Instant(seconds: seconds, nanoseconds: Int32(try row.get(ns, as: Int64?.self) ?? 0))
            }
            return QueueRow(
                ref: try row.get(0), domain: try row.get(1),
                state: QueueState(rawValue: try row.get(2)) ?? .failed, mxs: decodeStrings(try row.get(3)),
                lastUpdated: try instant(4, 5), queueWeeks: try row.get(6), testingStart: try instant(7, 8),
                mtaSts: try row.get(9, as: Int64.self) == 1)
        }
    }

    /// Whether a request file with these bytes was already ingested.
    public func hasRequestFile(sha256: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM request_files WHERE sha256 = ?", [.text(sha256)], as: Int64.self) != nil
    }

    /// Records a request file with its removals and edits.
    public func insertRequests(
        sha256: String, source: String, removals: [RemovalRequest], edits: [EditRequest], at: String
    ) throws {
        try db.execute(
            "INSERT INTO request_files (sha256, source, ingested_at) VALUES (?, ?, ?)",
            [.text(sha256), .text(source), .text(at)])
        let id = db.lastInsertRowID
        for request in removals {
            try db.execute(
                "INSERT INTO removal_requests (file_id, ref, domain, requested_s, requested_ns, reason) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .int(id), .text(request.ref), .text(request.domain), .int(request.requestedAt.seconds),
                    .int(Int64(request.requestedAt.nanoseconds)), .text(request.reason),
                ])
        }
        for edit in edits {
            try db.execute(
                "INSERT INTO edit_requests (file_id, ref, domain, mxs, mode, at_s, at_ns, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .int(id), .text(edit.ref), .text(edit.domain),
                    SQLValue(edit.mxs.map { JSONWriter.compact(.strings($0)) }), SQLValue(edit.mode?.rawValue),
                    .int(edit.at.seconds), .int(Int64(edit.at.nanoseconds)), .text(edit.reason),
                ])
        }
    }

    /// Every removal request.
    public func removals() throws -> [RemovalRequest] {
        try db.query("SELECT ref, domain, requested_s, requested_ns, reason FROM removal_requests ORDER BY ref").map {
            RemovalRequest(
                ref: try $0.get(0), domain: try $0.get(1),
                requestedAt: Instant(seconds: try $0.get(2), nanoseconds: Int32(try $0.get(3, as: Int64.self))),
                reason: try $0.get(4))
        }
    }

    /// Every edit request.
    public func edits() throws -> [EditRequest] {
        try db.query("SELECT ref, domain, mxs, mode, at_s, at_ns, reason FROM edit_requests ORDER BY ref").map {
            EditRequest(
                ref: try $0.get(0), domain: try $0.get(1), mxs: try $0.get(2, as: String?.self).map(decodeStrings),
                mode: try $0.get(3, as: String?.self).flatMap(ListMode.init(rawValue:)),
                at: Instant(seconds: try $0.get(4), nanoseconds: Int32(try $0.get(5, as: Int64.self))),
                reason: try $0.get(6))
        }
    }
}

/// Decodes a JSON array of strings written by this store (empty on anything else).
package func decodeStrings(_ text: String) -> [String] {
    guard let document = try? StrictJSONReader.read(Array(text.utf8)), let items = document.value.arrayValue else {
        return []
    }
    return items.compactMap(\.stringValue)
}
