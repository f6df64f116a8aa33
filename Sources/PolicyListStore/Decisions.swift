import CCrypto
import PolicyListCore

extension Migration {
    /// Reconcile candidates with their decisions, publications, and stage settings.
    static let reconcile0004 = Migration(
        name: "0004-reconcile-and-publish",
        sql: """
            CREATE TABLE settings (
                key TEXT PRIMARY KEY CHECK (key <> ''),
                value TEXT NOT NULL,
                set_at TEXT NOT NULL
            ) STRICT;
            CREATE TABLE candidates (
                id INTEGER PRIMARY KEY,
                fingerprint TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL,
                as_of_s INTEGER NOT NULL,
                as_of_ns INTEGER NOT NULL,
                freeze_s INTEGER,
                freeze_ns INTEGER,
                baseline_kind TEXT NOT NULL CHECK (baseline_kind IN ('publication', 'snapshot')),
                baseline_id INTEGER NOT NULL,
                baseline_ref TEXT NOT NULL,
                list_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
                added INTEGER NOT NULL,
                removed INTEGER NOT NULL,
                updated INTEGER NOT NULL,
                unchanged INTEGER NOT NULL,
                refused INTEGER NOT NULL,
                skipped INTEGER NOT NULL,
                dropped INTEGER NOT NULL,
                domains INTEGER NOT NULL,
                freeze_promotion INTEGER NOT NULL CHECK (freeze_promotion IN (0, 1)),
                applied_edits TEXT NOT NULL CHECK (json_type(applied_edits) = 'array'),
                forced_edits TEXT NOT NULL CHECK (json_type(forced_edits) = 'object')
            ) STRICT;
            CREATE TABLE decisions (
                candidate_id INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                domain TEXT NOT NULL,
                action TEXT NOT NULL
                    CHECK (action IN ('added', 'removed', 'updated', 'unchanged', 'refused', 'skipped', 'dropped')),
                rule TEXT NOT NULL,
                detail TEXT NOT NULL,
                evidence TEXT NOT NULL CHECK (json_type(evidence) = 'array'),
                PRIMARY KEY (candidate_id, seq)
            ) STRICT;
            CREATE INDEX decisions_domain ON decisions(domain, candidate_id);
            CREATE TABLE publications (
                id INTEGER PRIMARY KEY,
                candidate_id INTEGER NOT NULL REFERENCES candidates(id),
                published_at TEXT NOT NULL,
                timestamp_raw TEXT NOT NULL,
                timestamp_s INTEGER NOT NULL,
                timestamp_ns INTEGER NOT NULL,
                expires_raw TEXT NOT NULL,
                expires_s INTEGER NOT NULL,
                expires_ns INTEGER NOT NULL,
                policy_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
                signature_sha256 TEXT REFERENCES blobs(sha256),
                out_dir TEXT NOT NULL,
                domains INTEGER NOT NULL CHECK (domains > 0),
                republication INTEGER NOT NULL CHECK (republication IN (0, 1)),
                UNIQUE (timestamp_s, timestamp_ns),
                CHECK ((expires_s, expires_ns) > (timestamp_s, timestamp_ns))
            ) STRICT;
            """)
}

/// A stored candidate.
public struct CandidateRecord: Sendable, Equatable {
    /// Row id.
    public var id: Int64
    /// When reconcile ran as of.
    public var asOf: Instant
    /// The freeze instant used.
    public var freeze: Instant?
    /// `publication` or `snapshot`.
    public var baselineKind: String
    /// The baseline's row id.
    public var baselineID: Int64
    /// The baseline, in words.
    public var baselineRef: String
    /// The candidate list bytes' hash (baseline timestamps).
    public var listSHA256: String
    /// Counts.
    public var counts: ReconcileCounts
    /// Whether it applied the freeze promotion.
    public var freezePromotion: Bool
    /// Edit refs applied.
    public var appliedEdits: [String]
}

/// A stored publication.
public struct PublicationRecord: Sendable, Equatable {
    /// Row id.
    public var id: Int64
    /// The candidate it published.
    public var candidateID: Int64
    /// `timestamp` as written.
    public var timestampRaw: String
    /// Its instant.
    public var timestamp: Instant
    /// `expires` as written.
    public var expiresRaw: String
    /// Its instant.
    public var expires: Instant
    /// Hash of the published bytes.
    public var policySHA256: String
    /// Hash of the detached signature, when signed.
    public var signatureSHA256: String?
    /// Where it was written.
    public var outDir: String
    /// Domains.
    public var domains: Int
    /// Whether only the timestamps changed (R10).
    public var republication: Bool
    /// When it was published (the clock of that run).
    public var publishedAt: String
}

/// Candidates, decisions, publications and settings.
public struct DecisionStore {
    /// The connection.
    public let db: Database

    /// Wraps a connection.
    public init(_ db: Database) { self.db = db }

    /// A setting's value.
    public func setting(_ key: String) throws -> String? {
        try db.scalar("SELECT value FROM settings WHERE key = ?", [.text(key)], as: String.self)
    }

    /// Sets a setting.
    public func setSetting(_ key: String, _ value: String, at: String) throws {
        try db.execute(
            "INSERT INTO settings (key, value, set_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, set_at = excluded.set_at",
            [.text(key), .text(value), .text(at)])
    }

    /// The candidate with this fingerprint, if one exists.
    public func candidate(fingerprint: String) throws -> Int64? {
        try db.scalar("SELECT id FROM candidates WHERE fingerprint = ?", [.text(fingerprint)], as: Int64.self)
    }

    /// Stores a candidate and its decisions; returns its id.
    public func insertCandidate(
        fingerprint: String, createdAt: String, asOf: Instant, freeze: Instant?, baselineKind: String,
        baselineID: Int64, baselineRef: String, listSHA256: String, result: ReconcileResult,
        forcedEdits: [String: String]
    ) throws -> Int64 {
        let counts = result.counts
        try db.execute(
            """
            INSERT INTO candidates (fingerprint, created_at, as_of_s, as_of_ns, freeze_s, freeze_ns, baseline_kind,
                baseline_id, baseline_ref, list_sha256, added, removed, updated, unchanged, refused, skipped, dropped,
                domains, freeze_promotion, applied_edits, forced_edits)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(fingerprint), .text(createdAt), .int(asOf.seconds), .int(Int64(asOf.nanoseconds)),
                SQLValue(freeze?.seconds), SQLValue(freeze.map { Int64($0.nanoseconds) }), .text(baselineKind),
                .int(baselineID), .text(baselineRef), .text(listSHA256), .int(Int64(counts.added)),
                .int(Int64(counts.removed)), .int(Int64(counts.updated)), .int(Int64(counts.unchanged)),
                .int(Int64(counts.refused)), .int(Int64(counts.skipped)), .int(Int64(counts.dropped)),
                .int(Int64(counts.domains)), .int(result.appliedFreezePromotion ? 1 : 0),
                .text(JSONWriter.compact(.strings(result.appliedEdits))),
                .text(
                    JSONWriter.compact(
                        .object(forcedEdits.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value)) }))),
            ])
        let id = db.lastInsertRowID
        try insertDecisions(result.decisions, candidate: id)
        return id
    }

    /// Decision rows per `INSERT` statement. `0004` declares `CHECK (action IN (…seven values…))`; SQLite
    /// evaluates an `IN` list of more than two constants through an ephemeral index built once per *execution*
    /// of a statement, so one `INSERT` per row built and dropped a B-tree per decision (a third of reconcile's
    /// time at a million domains). 128 rows × 7 parameters stay far below SQLite's parameter limit.
    static let decisionsPerStatement = 128

    func insertDecisions(_ decisions: [Decision], candidate id: Int64) throws {
        var start = 0
        var evidenceCache = EvidenceJSONCache()
        var args: [SQLValue] = []
        args.reserveCapacity(Self.decisionsPerStatement * 7)
        while start < decisions.count {
            let end = min(start + Self.decisionsPerStatement, decisions.count)
            args.removeAll(keepingCapacity: true)
            for seq in start..<end {
                let decision = decisions[seq]
                args.append(.int(id))
                args.append(.int(Int64(seq)))
                args.append(.text(decision.domain))
                args.append(.text(decision.action.rawValue))
                args.append(.text(decision.rule))
                args.append(.text(decision.detail))
                args.append(.text(evidenceCache.json(decision.evidence)))
            }
            try db.execute(Self.insertDecisionsSQL(rows: end - start), args)
            start = end
        }
    }

    static func insertDecisionsSQL(rows: Int) -> String {
        "INSERT INTO decisions (candidate_id, seq, domain, action, rule, detail, evidence) VALUES "
            + repeatElement("(?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }

    /// The evidence JSON of the previous decision, reused when the next one rests on the same evidence array (the
    /// reconciler shares one array for "the list reconcile started from", which most entries cite).
    struct EvidenceJSONCache {
        var last: [Evidence]?
        var lastJSON = ""

        mutating func json(_ evidence: [Evidence]) -> String {
            if let last, last == evidence { return lastJSON }
            last = evidence
            lastJSON = DecisionStore.evidenceJSON(evidence)
            return lastJSON
        }
    }

    /// The evidence column: the compact JSON `JSONWriter.compact` writes for the array of
    /// `{"kind", "ref", "at", "summary"}` objects (pinned by a test), built as bytes.
    static func evidenceJSON(_ evidence: [Evidence]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64 + evidence.count * 160)
        out.append(UInt8(ascii: "["))
        for (index, item) in evidence.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"kind":"#.utf8)
            JSONWriter.appendString(item.kind, asciiOnly: false, into: &out)
            out.append(contentsOf: #","ref":"#.utf8)
            JSONWriter.appendString(item.ref, asciiOnly: false, into: &out)
            out.append(contentsOf: #","at":"#.utf8)
            if let at = item.at {
                JSONWriter.appendString(at.rfc3339, asciiOnly: false, into: &out)
            } else {
                out.append(contentsOf: "null".utf8)
            }
            out.append(contentsOf: #","summary":"#.utf8)
            JSONWriter.appendString(item.summary, asciiOnly: false, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The evidence column as `JSONWriter.compact` writes it from a `JSONValue` (the reference for
    /// ``evidenceJSON(_:)``).
    static func evidenceJSONValue(_ evidence: [Evidence]) -> String {
        JSONWriter.compact(
            .array(
                evidence.map {
                    .object([
                        JSONMember("kind", .string($0.kind)), JSONMember("ref", .string($0.ref)),
                        JSONMember("at", .optional($0.at?.rfc3339)), JSONMember("summary", .string($0.summary)),
                    ])
                }))
    }

    static let candidateColumns = """
        id, as_of_s, as_of_ns, freeze_s, freeze_ns, baseline_kind, baseline_id, baseline_ref, list_sha256, added,
        removed, updated, unchanged, refused, skipped, dropped, domains, freeze_promotion, applied_edits
        """

    static func candidate(_ row: Row) throws -> CandidateRecord {
        var counts = ReconcileCounts()
        counts.added = try row.get(9)
        counts.removed = try row.get(10)
        counts.updated = try row.get(11)
        counts.unchanged = try row.get(12)
        counts.refused = try row.get(13)
        counts.skipped = try row.get(14)
        counts.dropped = try row.get(15)
        counts.domains = try row.get(16)
        let freeze = try row.get(3, as: Int64?.self).map {
            Instant(seconds: $0, nanoseconds: Int32((try? row.get(4, as: Int64?.self)) ?? 0))
        }
        return CandidateRecord(
            id: try row.get(0),
            asOf: Instant(seconds: try row.get(1), nanoseconds: Int32(try row.get(2, as: Int64.self))),
            freeze: freeze, baselineKind: try row.get(5), baselineID: try row.get(6), baselineRef: try row.get(7),
            listSHA256: try row.get(8), counts: counts, freezePromotion: try row.get(17, as: Int64.self) == 1,
            appliedEdits: decodeStrings(try row.get(18)))
    }

    /// A candidate by id.
    public func candidate(id: Int64) throws -> CandidateRecord? {
        try db.query("SELECT \(Self.candidateColumns) FROM candidates WHERE id = ?", [.int(id)]).first.map(
            Self.candidate)
    }

    /// The newest candidate.
    public func newestCandidate() throws -> CandidateRecord? {
        try db.query("SELECT \(Self.candidateColumns) FROM candidates ORDER BY id DESC LIMIT 1").first.map(
            Self.candidate)
    }

    static let publicationColumns = """
        id, candidate_id, timestamp_raw, timestamp_s, timestamp_ns, expires_raw, expires_s, expires_ns, policy_sha256,
        signature_sha256, out_dir, domains, republication, published_at
        """

    static func publication(_ row: Row) throws -> PublicationRecord {
        PublicationRecord(
            id: try row.get(0), candidateID: try row.get(1), timestampRaw: try row.get(2),
            timestamp: Instant(seconds: try row.get(3), nanoseconds: Int32(try row.get(4, as: Int64.self))),
            expiresRaw: try row.get(5),
            expires: Instant(seconds: try row.get(6), nanoseconds: Int32(try row.get(7, as: Int64.self))),
            policySHA256: try row.get(8), signatureSHA256: try row.get(9), outDir: try row.get(10),
            domains: try row.get(11), republication: try row.get(12, as: Int64.self) == 1, publishedAt: try row.get(13))
    }

    /// The newest publication.
    public func newestPublication() throws -> PublicationRecord? {
        try db.query(
            "SELECT \(Self.publicationColumns) FROM publications ORDER BY timestamp_s DESC, timestamp_ns DESC LIMIT 1"
        )
        .first.map(Self.publication)
    }

    /// Every publication, oldest first.
    public func publications() throws -> [PublicationRecord] {
        try db.query("SELECT \(Self.publicationColumns) FROM publications ORDER BY timestamp_s, timestamp_ns")
            .map(Self.publication)
    }

    /// Records a publication.
    public func insertPublication(
        candidateID: Int64, publishedAt: String, timestamp: ListTime, expires: ListTime, policySHA256: String,
        signatureSHA256: String?, outDir: String, domains: Int, republication: Bool
    ) throws -> Int64 {
        try db.execute(
            """
            INSERT INTO publications (candidate_id, published_at, timestamp_raw, timestamp_s, timestamp_ns, expires_raw,
                expires_s, expires_ns, policy_sha256, signature_sha256, out_dir, domains, republication)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .int(candidateID), .text(publishedAt), .text(timestamp.raw), .int(timestamp.instant.seconds),
                .int(Int64(timestamp.instant.nanoseconds)), .text(expires.raw), .int(expires.instant.seconds),
                .int(Int64(expires.instant.nanoseconds)), .text(policySHA256), SQLValue(signatureSHA256),
                .text(outDir), .int(Int64(domains)), .int(republication ? 1 : 0),
            ])
        return db.lastInsertRowID
    }

    /// One stored decision with its candidate.
    public struct StoredDecision: Sendable {
        /// The candidate.
        public var candidateID: Int64
        /// The candidate's as-of instant.
        public var asOf: Instant
        /// The decision.
        public var decision: Decision
        /// Whether the candidate was published.
        public var published: Bool
    }

    /// Every decision about `domain`, oldest candidate first.
    public func decisions(for domain: String) throws -> [StoredDecision] {
        try db.query(
            """
            SELECT d.candidate_id, c.as_of_s, c.as_of_ns, d.action, d.rule, d.detail, d.evidence,
                EXISTS (SELECT 1 FROM publications p WHERE p.candidate_id = c.id)
            FROM decisions d JOIN candidates c ON c.id = d.candidate_id
            WHERE d.domain = ? ORDER BY d.candidate_id, d.seq
            """, [.text(domain)]
        ).map { row in
            StoredDecision(
                candidateID: try row.get(0),
                asOf: Instant(seconds: try row.get(1), nanoseconds: Int32(try row.get(2, as: Int64.self))),
                decision: Decision(
                    domain: domain, action: DecisionAction(rawValue: try row.get(3)) ?? .unchanged,
                    rule: try row.get(4),
                    detail: try row.get(5), evidence: Self.decodeEvidence(try row.get(6))),
                published: try row.get(7, as: Int64.self) == 1)
        }
    }

    /// How many decisions of one candidate each `RULE action` pair has (the manifest's `rules`), counted in SQL.
    public func ruleCounts(candidate id: Int64) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        try db.forEach(
            "SELECT rule, action, COUNT(*) FROM decisions WHERE candidate_id = ? GROUP BY rule, action", [.int(id)]
        ) { row in
            counts["\(try row.get(0, as: String.self)) \(try row.get(1, as: String.self))", default: 0] += Int(
                try row.get(2, as: Int64.self))
        }
        return counts
    }

    /// The decisions of one candidate that changed something or were refused (`added`, `removed`, `updated`,
    /// `refused`), in decision order, without their evidence: what the changelog lists. At a million domains
    /// loading every decision with its evidence cost more than writing the list.
    public func changes(candidate id: Int64) throws -> [Decision] {
        try db.query(
            """
            SELECT domain, action, rule, detail FROM decisions
            WHERE candidate_id = ? AND action IN ('added', 'removed', 'updated', 'refused') ORDER BY seq
            """, [.int(id)]
        ).map { row in
            Decision(
                domain: try row.get(0), action: DecisionAction(rawValue: try row.get(1)) ?? .unchanged,
                rule: try row.get(2), detail: try row.get(3), evidence: [])
        }
    }

    /// Decisions of one candidate.
    public func decisions(candidate id: Int64) throws -> [Decision] {
        try db.query(
            "SELECT domain, action, rule, detail, evidence FROM decisions WHERE candidate_id = ? ORDER BY seq",
            [.int(id)]
        ).map { row in
            Decision(
                domain: try row.get(0), action: DecisionAction(rawValue: try row.get(1)) ?? .unchanged,
                rule: try row.get(2), detail: try row.get(3), evidence: Self.decodeEvidence(try row.get(4)))
        }
    }

    static func decodeEvidence(_ text: String) -> [Evidence] {
        guard let document = try? StrictJSONReader.read(Array(text.utf8)), let items = document.value.arrayValue else {
            return []
        }
        return items.map { item in
            Evidence(
                kind: item["kind"]?.stringValue ?? "", ref: item["ref"]?.stringValue ?? "",
                at: item["at"]?.stringValue.flatMap { try? TimestampParser.parseInstant($0).get() },
                summary: item["summary"]?.stringValue ?? "")
        }
    }
}

/// The candidate fingerprint's SHA-256, fed as the text is produced: reconcile hashes a line per decision, and at a
/// million decisions the text was a ~150 MB `String` (plus a copy as bytes) held at the same time as the list.
public final class StreamingSHA256 {
    private let context: OpaquePointer?
    private var buffer: [UInt8] = []

    /// Starts a digest.
    public init() {
        context = EVP_MD_CTX_new()
        // Only a broken libcrypto installation (no default provider) fails here; there is no sane fallback.
        precondition(context != nil && EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "EVP_DigestInit failed")
        buffer.reserveCapacity(Self.chunk)
    }

    deinit { EVP_MD_CTX_free(context) }

    private static let chunk = 1 << 16

    /// Appends the UTF-8 bytes of `text`.
    public func append(_ text: String) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= Self.chunk { flush() }
    }

    private func flush() {
        let ok = buffer.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        precondition(ok == 1, "EVP_DigestUpdate failed")
        buffer.removeAll(keepingCapacity: true)
    }

    /// The lowercase hex digest of everything appended (the same as `SHA256.hex` of the whole text).
    public func finish() -> String {
        flush()
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = output.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        precondition(ok == 1 && length == 32, "EVP_DigestFinal failed")
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in output.prefix(32) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
