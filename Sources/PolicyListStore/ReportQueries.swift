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
                VersionAnomaly(
                    origin: try row.get(1), kind: try row.get(2), severity: try row.get(3), detail: try row.get(4)))
        }
        return out
    }

    /// Whether a table exists (reports read optional inputs only when the stage that writes them has run).
    public func hasTable(_ name: String) throws -> Bool {
        try db.scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)", [.text(name)],
            as: Bool.self)
            ?? false
    }
}

/// A publication as the deprecation report reads it.
public struct ReportPublication: Sendable, Equatable {
    /// Row id.
    public var id: Int64
    /// The candidate it published.
    public var candidateID: Int64
    /// SHA-256 of the published bytes.
    public var policySHA256: String
    /// Where it was written.
    public var outDir: String
    /// Its `timestamp` instant.
    public var timestamp: Instant
}

extension ReportQueries {
    /// The newest publication whose `timestamp` is at or before `asOf` (any, when nil).
    public func newestPublication(asOf: Instant?) throws -> ReportPublication? {
        guard try hasTable("publications") else { return nil }
        let bound = asOf ?? Instant(seconds: Int64.max / 2)
        return try db.query(
            """
            SELECT id, candidate_id, policy_sha256, out_dir, timestamp_s, timestamp_ns FROM publications
            WHERE timestamp_s < ? OR (timestamp_s = ? AND timestamp_ns <= ?)
            ORDER BY timestamp_s DESC, timestamp_ns DESC, id DESC LIMIT 1
            """, [.int(bound.seconds), .int(bound.seconds), .int(Int64(bound.nanoseconds))]
        ).first.map { row in
            ReportPublication(
                id: try row.get(0), candidateID: try row.get(1), policySHA256: try row.get(2), outDir: try row.get(3),
                timestamp: Instant(seconds: try row.get(4), nanoseconds: Int32(try row.get(5, as: Int64.self))))
        }
    }

    /// Decisions of every published candidate up to and including `candidateID`, oldest first, with the newest
    /// freeze instant among them.
    public func publishedDecisions(upTo candidateID: Int64) throws -> (
        decisions: [DeprecationDecision], freeze: Instant?
    ) {
        var freeze: Instant?
        let decisions = try db.query(
            """
            SELECT c.id, c.as_of_s, c.as_of_ns, c.freeze_s, c.freeze_ns, d.domain, d.action, d.rule, d.detail
            FROM decisions d JOIN candidates c ON c.id = d.candidate_id
            WHERE c.id <= ? AND EXISTS (SELECT 1 FROM publications p WHERE p.candidate_id = c.id)
            ORDER BY c.id, d.seq
            """, [.int(candidateID)]
        ).map { row -> DeprecationDecision in
            if let seconds = try row.get(3, as: Int64?.self) {
                let instant = Instant(seconds: seconds, nanoseconds: Int32(try row.get(4, as: Int64?.self) ?? 0))
                if freeze.map({ instant > $0 }) ?? true { freeze = instant }
            }
            return DeprecationDecision(
                candidateID: try row.get(0),
                asOf: Instant(seconds: try row.get(1), nanoseconds: Int32(try row.get(2, as: Int64.self))),
                domain: try row.get(5), action: DecisionAction(rawValue: try row.get(6)) ?? .unchanged,
                rule: try row.get(7), detail: try row.get(8))
        }
        return (decisions, freeze)
    }

    /// The latest observation per domain at or before `asOf` (the tie rule of `Observations.forEachLatest`),
    /// reduced to its adoption state; nil when the store has no observations table.
    public func latestAdoption(asOf: Instant) throws -> [AdoptionObservation]? {
        guard try hasTable("observations") else { return nil }
        let bound = asOf.seconds >= 9_000_000_000 ? Int64.max : asOf.seconds * 1_000_000_000 + Int64(asOf.nanoseconds)
        var latest: [String: AdoptionObservation] = [:]
        try db.forEach(
            """
            SELECT domain, observed_at_ns, ref, valid, mode, txt_status, backend_status, tlsrpt, tlsa FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY domain ORDER BY observed_at_ns DESC, valid DESC, ref DESC
                ) AS rank
                FROM observations WHERE observed_at_ns <= ?
            ) WHERE rank = 1 ORDER BY domain
            """, [.int(bound)]
        ) { row in
            let domain: String = try row.get(0)
            let nanos: Int64 = try row.get(1)
            let valid = try row.get(3, as: Int64.self) == 1
            let mode: String? = try row.get(4)
            let txtStatus: String? = try row.get(5)
            let backendStatus: Int64? = try row.get(6)
            let state: AdoptionState
            if valid {
                switch mode {
                case "enforce": state = .enforce
                case "testing": state = .testing
                case "none": state = .none
                default: state = .broken
                }
            } else if txtStatus == "nxdomain" || txtStatus == "nodata" {
                state = .absent
            } else if txtStatus == nil && backendStatus == nil {
                state = .absent
            } else {
                state = .broken
            }
            let tlsrpt = try row.get(7, as: String?.self).flatMap { try? StrictJSONReader.read(Array($0.utf8)).value }
            let tlsa = try row.get(8, as: String?.self).flatMap { try? StrictJSONReader.read(Array($0.utf8)).value }
            latest[domain] = AdoptionObservation(
                domain: domain,
                observedAt: Instant(
                    seconds: nanos / 1_000_000_000 - (nanos % 1_000_000_000 < 0 ? 1 : 0),
                    nanoseconds: Int32((nanos % 1_000_000_000 + 1_000_000_000) % 1_000_000_000)),
                ref: try row.get(2), state: state, tlsrpt: AdoptionObservation.tlsrptPresent(tlsrpt),
                dane: AdoptionObservation.daneUsable(tlsa))
        }
        return latest.keys.sorted().compactMap { latest[$0] }
    }

    /// The backend's aggregated adoption series at or before `asOf`; nil when never ingested.
    public func aggregatedScans(asOf: Instant) throws -> [AggregatedPoint]? {
        guard try hasTable("aggregated_scans") else { return nil }
        let rows = try db.query(
            """
            SELECT time_ns, source, attempted, with_mxs, mta_sts_testing, mta_sts_enforce FROM aggregated_scans
            ORDER BY source, time_ns
            """)
        guard !rows.isEmpty else { return nil }
        return try rows.compactMap { row in
            let nanos: Int64 = try row.get(0)
            let time = Instant(seconds: nanos / 1_000_000_000, nanoseconds: Int32(nanos % 1_000_000_000))
            guard time <= asOf else { return nil }
            return AggregatedPoint(
                time: time, source: try row.get(1), attempted: try row.get(2), withMXs: try row.get(3),
                testing: try row.get(4), enforce: try row.get(5))
        }
    }
}
