import PolicyListCore

/// One ingested version as the reports read it (metadata only; the bytes are in the blob store).
public struct ReportVersionRecord: Sendable, Equatable {
    /// Row id.
    public var id: Int64
    /// SHA-256 of the original bytes.
    public var sha256: String
    /// File name or commit label.
    public var name: String
    /// Size of the original bytes.
    public var size: Int
    /// Publication order (nil: off-sequence).
    public var pubSeq: Int?
    /// Landing time, when known.
    public var landed: Instant?
    /// `timestamp` as written.
    public var timestampRaw: String
    /// `expires` as written.
    public var expiresRaw: String
    /// Domains.
    public var policies: Int
    /// Explicit enforce entries.
    public var enforce: Int
    /// Explicit testing entries.
    public var testing: Int
    /// Alias references.
    public var aliasRefs: Int
    /// Signature status as stored.
    public var signature: String
    /// Signature creation time (epoch seconds).
    public var signatureCreated: Int64?
    /// SHA-256 of the detached signature, when one was ingested.
    public var ascSHA256: String?
    /// The git commit, when known.
    public var commit: String?
}

/// Read-only queries for the reports.
public struct ReportQueries {
    /// The connection.
    public let db: Database

    /// Wraps a connection.
    public init(_ db: Database) { self.db = db }

    /// Every ingested version: published ones by `pub_seq`, then the others by name.
    public func versions() throws -> [ReportVersionRecord] {
        try db.query(
            """
            SELECT s.id, s.sha256, s.name, b.size, s.pub_seq, s.landed_s, s.timestamp_raw, s.expires_raw, s.policies,
                s.enforce, s.testing, s.alias_refs, s.signature, s.signature_created_s, s.asc_sha256, s.commit_id
            FROM snapshots s JOIN blobs b ON b.sha256 = s.sha256
            ORDER BY s.pub_seq IS NULL, s.pub_seq, s.name, s.id
            """
        ).map { row in
            ReportVersionRecord(
                id: try row.get(0), sha256: try row.get(1), name: try row.get(2), size: try row.get(3),
                pubSeq: try row.get(4), landed: try row.get(5, as: Int64?.self).map { Instant(seconds: $0) },
                timestampRaw: try row.get(6), expiresRaw: try row.get(7), policies: try row.get(8),
                enforce: try row.get(9), testing: try row.get(10), aliasRefs: try row.get(11),
                signature: try row.get(12), signatureCreated: try row.get(13), ascSHA256: try row.get(14),
                commit: try row.get(15))
        }
    }

    /// Every stored anomaly, by snapshot id, in the order recorded.
    public func anomalies() throws -> [Int64: [VersionAnomaly]] {
        var out: [Int64: [VersionAnomaly]] = [:]
        try db.forEach(
            "SELECT snapshot_id, origin, kind, severity, detail FROM snapshot_anomalies ORDER BY snapshot_id, rowid"
        ) { row in
            out[try row.get(0, as: Int64.self), default: []].append(
                VersionAnomaly(origin: try row.get(1), kind: try row.get(2), severity: try row.get(3), detail: try row.get(4)))
        }
        return out
    }

    /// Whether a table exists (reports read optional inputs only when the stage that writes them has run).
    public func hasTable(_ name: String) throws -> Bool {
        try db.scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)", [.text(name)], as: Bool.self)
            ?? false
    }
}
