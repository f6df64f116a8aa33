import PolicyListCore

extension Migration {
    /// Ingested list versions, their entries, aliases and anomalies.
    static let snapshots0002 = Migration(
        name: "0002-snapshots",
        sql: """
            CREATE TABLE snapshots (
                id INTEGER PRIMARY KEY,
                sha256 TEXT NOT NULL UNIQUE REFERENCES blobs(sha256),
                name TEXT NOT NULL CHECK (name <> ''),
                source TEXT NOT NULL,
                ingested_at TEXT NOT NULL,
                timestamp_raw TEXT NOT NULL,
                timestamp_s INTEGER NOT NULL,
                timestamp_ns INTEGER NOT NULL CHECK (timestamp_ns BETWEEN 0 AND 999999999),
                expires_raw TEXT NOT NULL,
                expires_s INTEGER NOT NULL,
                expires_ns INTEGER NOT NULL CHECK (expires_ns BETWEEN 0 AND 999999999),
                version TEXT,
                author TEXT,
                policies INTEGER NOT NULL CHECK (policies >= 0),
                raw_policy_keys INTEGER NOT NULL CHECK (raw_policy_keys >= policies),
                aliases INTEGER NOT NULL CHECK (aliases >= 0),
                enforce INTEGER NOT NULL,
                testing INTEGER NOT NULL,
                alias_refs INTEGER NOT NULL,
                content_sha256 TEXT NOT NULL,
                signature TEXT NOT NULL
                    CHECK (signature IN ('good', 'bad', 'missing', 'unknown-key', 'error', 'not-checked')),
                signature_detail TEXT,
                signature_created_s INTEGER,
                signature_fingerprint TEXT,
                asc_sha256 TEXT REFERENCES blobs(sha256),
                pub_seq INTEGER UNIQUE CHECK (pub_seq > 0),
                landed_s INTEGER,
                landed_raw TEXT,
                commit_id TEXT,
                CHECK ((expires_s, expires_ns) > (timestamp_s, timestamp_ns))
            ) STRICT;
            CREATE TABLE snapshot_entries (
                snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                domain TEXT NOT NULL,
                mode TEXT CHECK (mode IN ('testing', 'enforce')),
                mxs TEXT CHECK (mxs IS NULL OR json_type(mxs) = 'array'),
                alias TEXT,
                PRIMARY KEY (snapshot_id, position),
                CHECK ((alias IS NULL) = (mode IS NOT NULL AND mxs IS NOT NULL))
            ) STRICT;
            CREATE INDEX snapshot_entries_domain ON snapshot_entries(domain);
            CREATE TABLE snapshot_aliases (
                snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                name TEXT NOT NULL,
                mode TEXT NOT NULL CHECK (mode IN ('testing', 'enforce')),
                mxs TEXT NOT NULL CHECK (json_type(mxs) = 'array'),
                PRIMARY KEY (snapshot_id, position)
            ) STRICT;
            CREATE TABLE snapshot_anomalies (
                snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                origin TEXT NOT NULL CHECK (origin IN ('content', 'sequence', 'signature')),
                kind TEXT NOT NULL CHECK (kind <> ''),
                severity TEXT NOT NULL CHECK (severity IN ('warning', 'error')),
                detail TEXT NOT NULL,
                byte_offset INTEGER,
                domain TEXT
            ) STRICT;
            CREATE INDEX snapshot_anomalies_snapshot ON snapshot_anomalies(snapshot_id, origin);
            CREATE TABLE lapses (
                expired_snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                next_snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                from_s INTEGER NOT NULL,
                until_s INTEGER NOT NULL,
                seconds REAL NOT NULL CHECK (seconds > 0),
                PRIMARY KEY (expired_snapshot_id, next_snapshot_id)
            ) STRICT;
            """)
}

/// Signature status of an ingested snapshot.
public enum SignatureStatus: String, Sendable, CaseIterable {
    /// `gpgv` verified the detached signature.
    case good
    /// The signature does not verify these bytes.
    case bad
    /// No `.asc` next to the snapshot.
    case missing
    /// Signed by a key not in the keyring.
    case unknownKey = "unknown-key"
    /// `gpgv` failed for another reason.
    case error
    /// An `.asc` exists but no keyring was given.
    case notChecked = "not-checked"
}

/// A snapshot row (without its entries).
public struct SnapshotRecord: Sendable, Equatable {
    /// Row id.
    public var id: Int64
    /// SHA-256 of the bytes.
    public var sha256: String
    /// File name or commit label.
    public var name: String
    /// Where it came from.
    public var source: String
    /// `timestamp` raw and instant.
    public var timestampRaw: String
    /// The instant of `timestamp`.
    public var timestamp: Instant
    /// `expires` raw.
    public var expiresRaw: String
    /// The instant of `expires`.
    public var expires: Instant
    /// Domains.
    public var policies: Int
    /// Explicit enforce entries.
    public var enforce: Int
    /// Explicit testing entries.
    public var testing: Int
    /// Alias references.
    public var aliasRefs: Int
    /// Fingerprint of aliases + policies.
    public var contentSHA256: String
    /// Signature status.
    public var signature: SignatureStatus
    /// Signature creation time (epoch seconds), when good.
    public var signatureCreated: Int64?
    /// Publication order (nil: never published).
    public var pubSeq: Int?
    /// When it was published, when known.
    public var landed: Instant?
    /// The git commit, when ingested from git.
    public var commit: String?
}

/// What to record for one accepted snapshot.
public struct NewSnapshot: Sendable {
    /// The raw bytes' hash (already in the blob store).
    public var sha256: String
    /// File name or commit label.
    public var name: String
    /// Display path.
    public var source: String
    /// The parsed list.
    public var list: PolicyList
    /// Raw `policies` keys (duplicates counted).
    public var rawPolicyKeys: Int
    /// Fingerprint of aliases + policies.
    public var contentSHA256: String
    /// Content anomalies.
    public var anomalies: [Anomaly]
    /// Signature status and details.
    public var signature: SignatureStatus
    /// Details of the signature check.
    public var signatureDetail: String?
    /// Creation time of a good signature.
    public var signatureCreated: Int64?
    /// Signing key fingerprint.
    public var signatureFingerprint: String?
    /// The `.asc` bytes' hash (in the blob store).
    public var ascSHA256: String?
    /// Commit id (git ingest).
    public var commit: String?

    /// Creates the record.
    public init(
        sha256: String, name: String, source: String, list: PolicyList, rawPolicyKeys: Int, contentSHA256: String,
        anomalies: [Anomaly], signature: SignatureStatus, signatureDetail: String?, signatureCreated: Int64?,
        signatureFingerprint: String?, ascSHA256: String?, commit: String?
    ) {
        self.sha256 = sha256
        self.name = name
        self.source = source
        self.list = list
        self.rawPolicyKeys = rawPolicyKeys
        self.contentSHA256 = contentSHA256
        self.anomalies = anomalies
        self.signature = signature
        self.signatureDetail = signatureDetail
        self.signatureCreated = signatureCreated
        self.signatureFingerprint = signatureFingerprint
        self.ascSHA256 = ascSHA256
        self.commit = commit
    }
}

/// Snapshot persistence.
public struct SnapshotStore {
    /// The connection.
    public let db: Database

    /// Wraps a connection.
    public init(_ db: Database) { self.db = db }

    /// The row id of the snapshot with these bytes, if ingested.
    public func id(sha256: String) throws -> Int64? {
        try db.scalar("SELECT id FROM snapshots WHERE sha256 = ?", [.text(sha256)], as: Int64.self)
    }

    /// Inserts a snapshot with its entries, aliases and content anomalies; returns its id.
    public func insert(_ snapshot: NewSnapshot, ingestedAt: String) throws -> Int64 {
        let list = snapshot.list
        let counts = list.modeCounts
        try db.execute(
            """
            INSERT INTO snapshots (sha256, name, source, ingested_at, timestamp_raw, timestamp_s, timestamp_ns,
                expires_raw, expires_s, expires_ns, version, author, policies, raw_policy_keys, aliases, enforce,
                testing, alias_refs, content_sha256, signature, signature_detail, signature_created_s,
                signature_fingerprint, asc_sha256, commit_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(snapshot.sha256), .text(snapshot.name), .text(snapshot.source), .text(ingestedAt),
                .text(list.timestamp.raw), .int(list.timestamp.instant.seconds),
                .int(Int64(list.timestamp.instant.nanoseconds)), .text(list.expires.raw),
                .int(list.expires.instant.seconds), .int(Int64(list.expires.instant.nanoseconds)),
                SQLValue(list.version), SQLValue(list.author), .int(Int64(list.policies.count)),
                .int(Int64(snapshot.rawPolicyKeys)), .int(Int64(list.aliases.count)), .int(Int64(counts.enforce)),
                .int(Int64(counts.testing)), .int(Int64(counts.aliasReferences)), .text(snapshot.contentSHA256),
                .text(snapshot.signature.rawValue), SQLValue(snapshot.signatureDetail),
                SQLValue(snapshot.signatureCreated), SQLValue(snapshot.signatureFingerprint),
                SQLValue(snapshot.ascSHA256), SQLValue(snapshot.commit),
            ])
        let id = db.lastInsertRowID
        for (position, entry) in list.policies.enumerated() {
            switch entry.value {
            case .explicit(let definition):
                try db.execute(
                    "INSERT INTO snapshot_entries (snapshot_id, position, domain, mode, mxs) VALUES (?, ?, ?, ?, ?)",
                    [
                        .int(id), .int(Int64(position)), .text(entry.domain), .text(definition.mode.rawValue),
                        .text(JSONWriter.compact(.strings(definition.mxs))),
                    ])
            case .alias(let name):
                try db.execute(
                    "INSERT INTO snapshot_entries (snapshot_id, position, domain, alias) VALUES (?, ?, ?, ?)",
                    [.int(id), .int(Int64(position)), .text(entry.domain), .text(name)])
            }
        }
        for (position, alias) in list.aliases.enumerated() {
            try db.execute(
                "INSERT INTO snapshot_aliases (snapshot_id, position, name, mode, mxs) VALUES (?, ?, ?, ?, ?)",
                [
                    .int(id), .int(Int64(position)), .text(alias.name), .text(alias.definition.mode.rawValue),
                    .text(JSONWriter.compact(.strings(alias.definition.mxs))),
                ])
        }
        try addAnomalies(snapshot.anomalies, to: id, origin: "content")
        return id
    }

    /// Records anomalies of one origin for a snapshot.
    public func addAnomalies(_ anomalies: [Anomaly], to id: Int64, origin: String) throws {
        for anomaly in anomalies {
            try db.execute(
                """
                INSERT INTO snapshot_anomalies (snapshot_id, origin, kind, severity, detail, byte_offset, domain)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .int(id), .text(origin), .text(anomaly.kind), .text(anomaly.severity.rawValue),
                    .text(anomaly.detail), SQLValue(anomaly.offset.map(Int64.init)), SQLValue(anomaly.domain),
                ])
        }
    }

    /// Sets or clears the publication order and landing time of a snapshot.
    public func setSequence(id: Int64, pubSeq: Int?, landed: Instant?, landedRaw: String?) throws {
        try db.execute(
            "UPDATE snapshots SET pub_seq = ?, landed_s = ?, landed_raw = ? WHERE id = ?",
            [SQLValue(pubSeq.map(Int64.init)), SQLValue(landed?.seconds), SQLValue(landedRaw), .int(id)])
    }

    /// Updates the signature columns (a re-ingest with a keyring upgrades `not-checked`).
    public func setSignature(
        id: Int64, status: SignatureStatus, detail: String?, created: Int64?, fingerprint: String?, asc: String?
    ) throws {
        try db.execute(
            """
            UPDATE snapshots SET signature = ?, signature_detail = ?, signature_created_s = ?,
                signature_fingerprint = ?, asc_sha256 = ? WHERE id = ?
            """,
            [
                .text(status.rawValue), SQLValue(detail), SQLValue(created), SQLValue(fingerprint), SQLValue(asc),
                .int(id),
            ])
    }

    static let columns = """
        id, sha256, name, source, timestamp_raw, timestamp_s, timestamp_ns, expires_raw, expires_s, expires_ns,
        policies, enforce, testing, alias_refs, content_sha256, signature, signature_created_s, pub_seq, landed_s,
        commit_id
        """

    static func record(_ row: Row) throws -> SnapshotRecord {
        SnapshotRecord(
            id: try row.get(0), sha256: try row.get(1), name: try row.get(2), source: try row.get(3),
            timestampRaw: try row.get(4),
            timestamp: Instant(seconds: try row.get(5), nanoseconds: Int32(try row.get(6, as: Int64.self))),
            expiresRaw: try row.get(7),
            expires: Instant(seconds: try row.get(8), nanoseconds: Int32(try row.get(9, as: Int64.self))),
            policies: try row.get(10), enforce: try row.get(11), testing: try row.get(12), aliasRefs: try row.get(13),
            contentSHA256: try row.get(14),
            signature: SignatureStatus(rawValue: try row.get(15)) ?? .error,
            signatureCreated: try row.get(16), pubSeq: try row.get(17),
            landed: try row.get(18, as: Int64?.self).map { Instant(seconds: $0) }, commit: try row.get(19))
    }

    /// Every snapshot, in publication order first (by `pub_seq`), then the off-sequence ones by name.
    public func all() throws -> [SnapshotRecord] {
        try db.query(
            "SELECT \(Self.columns) FROM snapshots ORDER BY pub_seq IS NULL, pub_seq, name, id"
        ).map(Self.record)
    }

    /// The published sequence (snapshots with a `pub_seq`), in order.
    public func published() throws -> [SnapshotRecord] {
        try db.query("SELECT \(Self.columns) FROM snapshots WHERE pub_seq IS NOT NULL ORDER BY pub_seq")
            .map(Self.record)
    }

    /// Highest `pub_seq` so far (0 when none).
    public func maxSequence() throws -> Int {
        try db.scalar("SELECT COALESCE(MAX(pub_seq), 0) FROM snapshots", as: Int.self) ?? 0
    }

    /// Replaces the sequence-derived anomalies and lapses with freshly computed ones.
    public func replaceSequenceAnalysis(anomalies: [Int64: [Anomaly]], lapses: [(Int64, Int64, Lapse)]) throws {
        try db.execute("DELETE FROM snapshot_anomalies WHERE origin = 'sequence'")
        try db.execute("DELETE FROM lapses")
        for (id, list) in anomalies.sorted(by: { $0.key < $1.key }) {
            try addAnomalies(list, to: id, origin: "sequence")
        }
        for (expired, next, lapse) in lapses {
            try db.execute(
                "INSERT INTO lapses (expired_snapshot_id, next_snapshot_id, from_s, until_s, seconds) VALUES (?, ?, ?, ?, ?)",
                [
                    .int(expired), .int(next), .int(lapse.from.seconds), .int(lapse.until.seconds),
                    .double(lapse.seconds),
                ])
        }
    }

    /// Anomaly kinds per snapshot id (all origins).
    public func anomalyKinds() throws -> [Int64: Set<String>] {
        var out: [Int64: Set<String>] = [:]
        try db.forEach("SELECT snapshot_id, kind FROM snapshot_anomalies") { row in
            out[try row.get(0, as: Int64.self), default: []].insert(try row.get(1))
        }
        return out
    }

    /// The anomalies of one snapshot.
    public func anomalies(of id: Int64) throws -> [(origin: String, anomaly: Anomaly)] {
        try db.query(
            "SELECT origin, kind, severity, detail, byte_offset, domain FROM snapshot_anomalies WHERE snapshot_id = ? ORDER BY rowid",
            [.int(id)]
        ).map { row in
            (
                try row.get(0),
                Anomaly(
                    try row.get(1), Severity(rawValue: try row.get(2)) ?? .warning, try row.get(3),
                    offset: try row.get(4, as: Int64?.self).map(Int.init), domain: try row.get(5))
            )
        }
    }

    /// Looks a snapshot up by `seq:N`, a name, or a sha256 (prefix of at least 8 hex digits).
    public func find(_ reference: String) throws -> SnapshotRecord? {
        if reference.hasPrefix("seq:"), let seq = Int(reference.dropFirst(4)) {
            return try db.query("SELECT \(Self.columns) FROM snapshots WHERE pub_seq = ?", [.int(Int64(seq))])
                .first.map(Self.record)
        }
        if let byName = try db.query(
            "SELECT \(Self.columns) FROM snapshots WHERE name = ? OR name = ? ORDER BY id LIMIT 1",
            [.text(reference), .text(reference + ".policy.json")]
        ).first {
            return try Self.record(byName)
        }
        guard reference.count >= 8 else { return nil }
        let rows = try db.query(
            "SELECT \(Self.columns) FROM snapshots WHERE sha256 >= ? AND sha256 < ? ORDER BY sha256 LIMIT 2",
            [.text(reference.lowercased()), .text(reference.lowercased() + "g")])
        return rows.count == 1 ? try Self.record(rows[0]) : nil
    }
}
