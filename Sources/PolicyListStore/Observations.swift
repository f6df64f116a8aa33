import PolicyListCore

/// The raw facts of one observation as they go into the store.
public enum ObservationFacts: Sendable, Equatable {
    /// A native JSONL observation.
    case native(Observation)
    /// A row of the backend's `scans` export.
    case backendScan(BackendScan)

    /// The domain.
    public var domain: String {
        switch self {
        case .native(let observation): observation.domain
        case .backendScan(let scan): scan.domain
        }
    }

    /// When it was observed.
    public var observedAt: Instant {
        switch self {
        case .native(let observation): observation.observedAt
        case .backendScan(let scan): scan.observedAt
        }
    }

    /// The source label (part of the identity).
    public var source: String {
        switch self {
        case .native(let observation): observation.source
        case .backendScan: BackendScan.source
        }
    }

    /// The verdict recomputed from the facts.
    public var verdict: ObservationVerdict {
        switch self {
        case .native(let observation): ObservationVerdict.compute(observation)
        case .backendScan(let scan): scan.verdict
        }
    }
}

/// One stored observation: identity, evidence, a digest of the facts, and the verdict.
public struct StoredObservation: Sendable, Equatable {
    /// Row id.
    public var id: Int64
    /// The domain.
    public var domain: String
    /// When it was observed.
    public var observedAt: Instant
    /// Where it came from (`backend-scan`, `live`, …).
    public var source: String
    /// `native` or `backend-scan`.
    public var kind: String
    /// Evidence: `FILE:LINE`, plus ` (scan ID)` for backend scans.
    public var ref: String
    /// The backend scan id, for backend scans.
    public var scanID: Int64?
    /// The SHA-256 of the input line in the blob store.
    public var lineSHA256: String
    /// The SHA-256 of the policy body (or the checker's policy text) in the blob store.
    public var policySHA256: String?
    /// The TXT lookup status (native only).
    public var txtStatus: String?
    /// The policy fetch status (native only).
    public var policyStatus: String?
    /// The HTTP status of the policy fetch (native only).
    public var httpStatus: Int?
    /// `mta_sts.status` (backend only; `nil` when `mta_sts` was null).
    public var backendStatus: Int?
    /// The verdict as stored.
    public var verdict: ObservationVerdict

    /// What reconcile consumes.
    public var summary: ObservationSummary {
        ObservationSummary(
            ref: ref, domain: domain, observedAt: observedAt, source: source, valid: verdict.valid,
            mode: verdict.mode, listMXs: verdict.listMXs, reason: verdict.reason)
    }
}

/// The observation store (migration `0005-observations`): one row per (domain, observedAt, source).
public struct Observations {
    /// The connection.
    public let db: Database

    /// A store over `db` (which must be migrated).
    public init(_ db: Database) {
        self.db = db
    }

    /// What an insert did.
    public enum InsertOutcome: Sendable, Equatable {
        /// A new row.
        case inserted(id: Int64)
        /// The same (domain, observedAt, source) from the same input line bytes is already stored.
        case alreadyKnown(ref: String)
        /// The same (domain, observedAt, source) is stored from a different input line: the first one is
        /// kept and the caller decides what to do with this one.
        case conflict(ref: String)
    }

    /// Nanoseconds since the epoch, the stored ordering key; `nil` outside 1677–2262 (Int64 range).
    public static func nanoseconds(_ instant: Instant) -> Int64? {
        let (scaled, overflow) = instant.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflow2) = scaled.addingReportingOverflow(Int64(instant.nanoseconds))
        return overflow2 ? nil : total
    }

    /// Stores one observation with its raw input line (and its policy body) in the blob store. Does not open
    /// a transaction: callers batch many inserts in one `db.transaction`.
    ///
    /// - Parameters:
    ///   - facts: the parsed facts.
    ///   - verdict: the verdict to store; `nil` computes `facts.verdict`, and only when the row is new.
    ///   - ref: the evidence reference (`FILE:LINE`, plus ` (scan ID)` for backend scans).
    ///   - line: the input line exactly as read.
    public func insert(
        _ facts: ObservationFacts, verdict: ObservationVerdict? = nil, ref: String, line: [UInt8]
    ) throws -> InsertOutcome {
        guard let ns = Self.nanoseconds(facts.observedAt) else {
            throw StoreError.column("observedAt \(facts.observedAt) is outside 1677–2262", sql: "observations")
        }
        let lineHash = SHA256.hex(line)
        if let existing = try db.query(
            "SELECT ref, line_sha256 FROM observations WHERE domain = ? AND observed_at_ns = ? AND source = ?",
            [.text(facts.domain), .int(ns), .text(facts.source)]
        ).first {
            let existingRef: String = try existing.get(0)
            let existingHash: String = try existing.get(1)
            return existingHash == lineHash ? .alreadyKnown(ref: existingRef) : .conflict(ref: existingRef)
        }
        let values = try rowValues(
            facts, ns: ns, verdict: verdict, ref: ref, line: line, lineHash: lineHash, prepared: nil)
        try db.execute(Self.insertSQL, values)
        return .inserted(id: db.lastInsertRowID)
    }

    /// One observation of a batch for ``insertBatch(_:)``.
    public struct PendingInsert: Sendable {
        /// The parsed facts.
        public var facts: ObservationFacts
        /// The verdict to store; `nil` computes `facts.verdict` (only when the row is new).
        public var verdict: ObservationVerdict?
        /// The evidence reference.
        public var ref: String
        /// The input line exactly as read.
        public var line: [UInt8]

        /// What ``prepare()`` computed, if it ran.
        public private(set) var prepared: Prepared?

        /// Creates a pending insert.
        public init(_ facts: ObservationFacts, verdict: ObservationVerdict? = nil, ref: String, line: [UInt8]) {
            self.facts = facts
            self.verdict = verdict
            self.ref = ref
            self.line = line
        }

        /// The database-free work of an insert: the verdict, and the line and policy blobs hashed and
        /// compressed. Run it off the writer's thread; ``insertBatch(_:)`` then only writes.
        public struct Prepared: Sendable {
            let verdict: ObservationVerdict
            let line: PreparedBlob
            let policy: PreparedBlob?
        }

        /// Computes ``prepared`` (pure; safe on any thread).
        public mutating func prepare() throws {
            let policy = Observations.policyBytes(facts)
            prepared = Prepared(
                verdict: verdict ?? facts.verdict, line: try PreparedBlob(line),
                policy: try policy.map(PreparedBlob.init))
        }
    }

    /// The bytes stored as the policy blob: a native body, or a backend scan's non-empty policy text.
    static func policyBytes(_ facts: ObservationFacts) -> [UInt8]? {
        switch facts {
        case .native(let observation): observation.policy.body
        case .backendScan(let scan): scan.mtaSTS.map { Array($0.policy.utf8) }.flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// Stores many observations in order, with exactly the outcomes that calling ``insert(_:verdict:ref:line:)``
    /// for each in turn would give (a later item with the identity of an earlier one is `alreadyKnown` or a
    /// `conflict` against it), but faster: the line blob is written without a lookup first, and new rows go in
    /// with multi-row `INSERT`s of ``rowsPerInsert`` rows. That matters because `0005-observations`' `CHECK
    /// (… IN (…))` constraints make SQLite build and drop a small ephemeral index for each list on every
    /// execution of the statement; one execution per 32 rows instead of per row removed about a fifth of the
    /// import's time. Does not open a transaction: call it inside `db.transaction`.
    public func insertBatch(_ items: [PendingInsert]) throws -> [InsertOutcome] {
        struct Identity: Hashable {
            let domain: String
            let ns: Int64
            let source: String
        }
        var outcomes: [InsertOutcome] = []
        outcomes.reserveCapacity(items.count)
        var seen: [Identity: (ref: String, hash: String)] = [:]
        var rows: [SQLValue] = []
        var rowOutcomes: [Int] = []
        func insertRows() throws {
            guard !rowOutcomes.isEmpty else { return }
            try db.execute(Self.multiInsertSQL(rows: rowOutcomes.count), rows)
            // Rowids of one INSERT of an INTEGER PRIMARY KEY table are consecutive, ending at the last one.
            let first = db.lastInsertRowID - Int64(rowOutcomes.count) + 1
            for (offset, index) in rowOutcomes.enumerated() { outcomes[index] = .inserted(id: first + Int64(offset)) }
            rows.removeAll(keepingCapacity: true)
            rowOutcomes.removeAll(keepingCapacity: true)
        }
        for item in items {
            let facts = item.facts
            guard let ns = Self.nanoseconds(facts.observedAt) else {
                throw StoreError.column("observedAt \(facts.observedAt) is outside 1677–2262", sql: "observations")
            }
            let lineHash = item.prepared?.line.hash ?? SHA256.hex(item.line)
            let identity = Identity(domain: facts.domain, ns: ns, source: facts.source)
            if let earlier = seen[identity] {
                outcomes.append(
                    earlier.hash == lineHash ? .alreadyKnown(ref: earlier.ref) : .conflict(ref: earlier.ref))
                continue
            }
            if let existing = try db.query(
                "SELECT ref, line_sha256 FROM observations WHERE domain = ? AND observed_at_ns = ? AND source = ?",
                [.text(facts.domain), .int(ns), .text(facts.source)]
            ).first {
                let existingRef: String = try existing.get(0)
                let existingHash: String = try existing.get(1)
                outcomes.append(
                    existingHash == lineHash ? .alreadyKnown(ref: existingRef) : .conflict(ref: existingRef))
                continue
            }
            seen[identity] = (item.ref, lineHash)
            rows += try rowValues(
                facts, ns: ns, verdict: item.verdict, ref: item.ref, line: item.line, lineHash: lineHash,
                prepared: item.prepared
                    ?? PendingInsert.Prepared(
                        verdict: item.verdict ?? facts.verdict, line: try PreparedBlob(item.line),
                        policy: try Self.policyBytes(facts).map(PreparedBlob.init)))
            rowOutcomes.append(outcomes.count)
            outcomes.append(.inserted(id: 0))
            if rowOutcomes.count == Self.rowsPerInsert { try insertRows() }
        }
        try insertRows()
        return outcomes
    }

    /// Rows per multi-row `INSERT` in ``insertBatch(_:)`` (36 parameters each, far below SQLite's limit).
    public static let rowsPerInsert = 32

    /// The full-chunk statement is built once; a shorter last chunk builds its own (once per batch).
    private static let fullInsertSQL = multiInsertSQL(rows: rowsPerInsert, cached: false)

    private static func multiInsertSQL(rows: Int, cached: Bool = true) -> String {
        if cached && rows == rowsPerInsert { return fullInsertSQL }
        return insertHead + " " + Array(repeating: oneRow, count: rows).joined(separator: ", ")
    }

    /// The stored values of a new row, after writing its blobs (the line, and the policy body if any).
    private func rowValues(
        _ facts: ObservationFacts, ns: Int64, verdict: ObservationVerdict?, ref: String, line: [UInt8],
        lineHash: String, prepared: PendingInsert.Prepared?
    ) throws -> [SQLValue] {
        let verdict = prepared?.verdict ?? verdict ?? facts.verdict
        let blobs = BlobStore(db)
        // A prepared line is new almost always (its row is): store it without a lookup first.
        var policySHA: String?
        if let prepared {
            try blobs.put(prepared.line)
            if let policy = prepared.policy {
                try blobs.put(policy)
                policySHA = policy.hash
            }
        } else {
            try blobs.put(line)
            policySHA = try Self.policyBytes(facts).map { try blobs.put($0).hash }
        }
        var values: [SQLValue] = [
            .text(facts.domain), .text(facts.observedAt.rfc3339), .int(ns), .text(facts.source),
            .text(ref), .text(lineHash),
        ]
        switch facts {
        case .native(let observation):
            let records = JSONValue.array(observation.txt.records.map { .strings($0) })
            values += [
                "native", nil, .text(observation.txt.status.rawValue), .text(JSONWriter.compact(records)),
                observation.txt.error.sqlValue, .text(observation.policy.status.rawValue),
                observation.policy.httpStatus.map { .int(Int64($0)) } ?? .null,
                observation.policy.contentType.sqlValue, observation.policy.location.sqlValue,
                policySHA.sqlValue, observation.policy.error.sqlValue,
                observation.tlsrpt.map { .text(JSONWriter.compact($0)) } ?? .null,
                observation.tlsa.map { .text(JSONWriter.compact($0)) } ?? .null, nil, nil,
            ]
        case .backendScan(let scan):
            let checks = scan.mtaSTS.map { result in
                JSONWriter.compact(
                    .array(
                        result.checks.map {
                            .object([
                                "name": .string($0.name), "status": .int($0.status), "messages": .strings($0.messages),
                            ])
                        }))
            }
            values += [
                "backend-scan", .int(scan.id), nil, nil, nil, nil, nil, nil, nil, policySHA.sqlValue, nil, nil, nil,
                scan.mtaSTS.map { .int(Int64($0.status)) } ?? .null, checks.sqlValue,
            ]
        }
        values += [
            .int(Int64(verdict.parserVersion)), verdict.valid.sqlValue, verdict.strictValid.sqlValue,
            verdict.txtValid.sqlValue, verdict.txtStrictValid.sqlValue, verdict.txtID.sqlValue,
            verdict.policyValid.sqlValue, verdict.policyStrictValid.sqlValue, verdict.mode.sqlValue,
            verdict.maxAge.map { .int(Int64($0)) } ?? .null, .text(JSONWriter.compact(.strings(verdict.mx))),
            .text(JSONWriter.compact(.strings(verdict.listMXs))), verdict.reason.sqlValue,
            verdict.strictReason.sqlValue, .text(JSONWriter.compact(.strings(verdict.warnings))),
        ]
        return values
    }

    private static let insertHead = """
        INSERT INTO observations (
            domain, observed_at, observed_at_ns, source, ref, line_sha256,
            kind, scan_id, txt_status, txt_records, txt_error, policy_status, http_status, content_type, location,
            policy_sha256, policy_error, tlsrpt, tlsa, backend_status, backend_checks,
            parser_version, valid, strict_valid, txt_valid, txt_strict_valid, txt_id, policy_valid,
            policy_strict_valid, mode, max_age, mx, list_mxs, reason, strict_reason, warnings
        ) VALUES
        """
    private static let oneRow = "(" + Array(repeating: "?", count: 36).joined(separator: ", ") + ")"
    private static let insertSQL = insertHead + " " + oneRow

    /// The number of stored observations.
    public func count() throws -> Int {
        try db.scalar("SELECT count(*) FROM observations", as: Int.self) ?? 0
    }

    /// The latest observation per domain with `observedAt <= asOf`, ordered by domain. Ties on the instant
    /// prefer a valid observation, then the greater ref: the rule of `Reconciler.latestObservations`.
    public func latestSummaries(asOf: Instant) throws -> [ObservationSummary] {
        var summaries: [ObservationSummary] = []
        try forEachLatest(asOf: asOf) { summaries.append($0.summary) }
        return summaries
    }

    /// Calls `body` with the latest observation of each domain as of `asOf` (see ``latestSummaries(asOf:)``),
    /// in domain order, streaming: memory does not grow with the number of observations.
    public func forEachLatest(asOf: Instant, _ body: (StoredObservation) throws -> Void) throws {
        let bound = Self.nanoseconds(asOf) ?? (asOf.seconds < 0 ? Int64.min : Int64.max)
        try db.forEach(Self.latestSQL, [.int(bound)]) { row in try body(Self.decode(row)) }
    }

    /// Calls `body` with every stored observation in (domain, observedAt, source) order, streaming.
    public func forEach(_ body: (StoredObservation) throws -> Void) throws {
        try db.forEach("SELECT \(Self.columns) FROM observations ORDER BY domain, observed_at_ns, source") { row in
            try body(Self.decode(row))
        }
    }

    private static let columns = """
        id, domain, observed_at_ns, source, kind, ref, scan_id, line_sha256, policy_sha256, txt_status,
        policy_status, http_status, backend_status, parser_version, valid, strict_valid, txt_valid,
        txt_strict_valid, txt_id, policy_valid, policy_strict_valid, mode, max_age, mx, list_mxs, reason,
        strict_reason, warnings
        """

    /// One pass over the index: the window keeps, per domain, the greatest (observed_at_ns, valid, ref).
    private static let latestSQL = """
        SELECT \(columns) FROM (
            SELECT *, row_number() OVER (
                PARTITION BY domain ORDER BY observed_at_ns DESC, valid DESC, ref DESC
            ) AS rank
            FROM observations WHERE observed_at_ns <= ?
        ) WHERE rank = 1 ORDER BY domain
        """

    private static func decode(_ row: Row) throws -> StoredObservation {
        let ns: Int64 = try row.get(2)
        let seconds = ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000
        let instant = Instant(seconds: seconds, nanoseconds: Int32(ns - seconds * 1_000_000_000))
        let verdict = ObservationVerdict(
            parserVersion: try row.get(13), valid: try row.get(14), strictValid: try row.get(15),
            txtValid: try row.get(16), txtStrictValid: try row.get(17), txtID: try row.get(18),
            policyValid: try row.get(19), policyStrictValid: try row.get(20), mode: try row.get(21),
            maxAge: try row.get(22), mx: try strings(row, 23), listMXs: try strings(row, 24),
            reason: try row.get(25), strictReason: try row.get(26), warnings: try strings(row, 27))
        return StoredObservation(
            id: try row.get(0), domain: try row.get(1), observedAt: instant, source: try row.get(3),
            kind: try row.get(4), ref: try row.get(5), scanID: try row.get(6), lineSHA256: try row.get(7),
            policySHA256: try row.get(8), txtStatus: try row.get(9), policyStatus: try row.get(10),
            httpStatus: try row.get(11), backendStatus: try row.get(12), verdict: verdict)
    }

    /// A JSON array of strings column.
    private static func strings(_ row: Row, _ index: Int) throws -> [String] {
        let text: String = try row.get(index)
        guard let elements = try? StrictJSONReader.read(Array(text.utf8)).value.arrayValue else {
            throw StoreError.column("column \(index) is not a JSON array", sql: row.sql)
        }
        return elements.compactMap(\.stringValue)
    }
}
