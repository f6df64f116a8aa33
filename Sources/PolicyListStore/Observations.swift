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

/// The observation store (migrations `0005-observations`, `0008-observations-lean`): one row per (domain,
/// observedAt, source); the input lines in compressed segments of a batch each.
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

    /// Stores one observation with its raw input line (in a segment of its own) and its policy body (in the
    /// blob store). Does not open a transaction: callers batch many inserts in one `db.transaction`.
    ///
    /// - Parameters:
    ///   - facts: the parsed facts.
    ///   - verdict: the verdict to store; `nil` computes `facts.verdict`, and only when the row is new.
    ///   - ref: the evidence reference (`FILE:LINE`, plus ` (scan ID)` for backend scans).
    ///   - line: the input line exactly as read.
    public func insert(
        _ facts: ObservationFacts, verdict: ObservationVerdict? = nil, ref: String, line: [UInt8]
    ) throws -> InsertOutcome {
        let outcomes = try insertBatch([PendingInsert(facts, verdict: verdict, ref: ref, line: line)])
        guard let outcome = outcomes.first else {
            throw StoreError.column("insertBatch returned no outcome", sql: "observations")
        }
        return outcome
    }

    /// One observation of a batch for ``insertBatch(_:segment:)``.
    public struct PendingInsert: Sendable {
        /// The parsed facts (fixed: ``domain``, ``source`` and ``observedNanoseconds`` are read from them).
        public let facts: ObservationFacts
        /// The verdict to store; `nil` computes `facts.verdict` (only when the row is new).
        public var verdict: ObservationVerdict?
        /// The evidence reference.
        public var ref: String
        /// The input line exactly as read.
        public var line: [UInt8]
        /// The identity of the row (`facts`' domain, source and instant in nanoseconds, `nil` when outside the
        /// supported range), read out once: the writer looks at it several times per row, and each look
        /// through the `facts` enum copied the whole observation.
        public let domain: String
        /// See ``domain``.
        public let source: String
        /// See ``domain``.
        public let observedNanoseconds: Int64?

        /// What ``prepare()`` computed, if it ran.
        public private(set) var prepared: Prepared?

        /// Creates a pending insert.
        public init(_ facts: ObservationFacts, verdict: ObservationVerdict? = nil, ref: String, line: [UInt8]) {
            self.facts = facts
            self.verdict = verdict
            self.ref = ref
            self.line = line
            self.domain = facts.domain
            self.source = facts.source
            self.observedNanoseconds = Observations.nanoseconds(facts.observedAt)
        }

        /// The database-free work of an insert: the verdict, the line's hash, and the policy blob hashed and
        /// compressed. Run it off the writer's thread; ``insertBatch(_:segment:)`` then only writes.
        public struct Prepared: Sendable {
            let verdict: ObservationVerdict
            let lineHash: String
            let policy: PreparedBlob?
            /// The row's values, with NULLs where the line's segment, offset and length go (the writer knows
            /// them); `nil` when the instant is out of range (the writer then reports it).
            let values: [SQLValue]?

            /// The policy blob, for reuse by later inserts of the same bytes.
            public var policyBlob: PreparedBlob? { policy }
        }

        /// Computes ``prepared`` (pure; safe on any thread).
        public mutating func prepare() throws {
            try prepare(verdict: nil, policyBlob: nil)
        }

        /// Computes ``prepared`` with work done elsewhere: `verdict` (when ``verdict`` is `nil`: the verdict
        /// computed for these facts, e.g. from a memo of identical TXT and policy facts) and `policyBlob` (the
        /// blob of exactly ``Observations/policyBytes(_:)`` of these facts, e.g. a body seen earlier: many
        /// domains share one). Either `nil` is computed here.
        public mutating func prepare(verdict computed: ObservationVerdict?, policyBlob: PreparedBlob?) throws {
            let blob: PreparedBlob?
            if let policy = Observations.policyBytes(facts) {
                if let policyBlob, policyBlob.size == policy.count {
                    blob = policyBlob
                } else {
                    blob = try PreparedBlob(policy)
                }
            } else {
                blob = nil
            }
            let verdict = self.verdict ?? computed ?? facts.verdict
            let lineHash = SHA256.hex(line)
            prepared = Prepared(
                verdict: verdict, lineHash: lineHash, policy: blob,
                values: Observations.nanoseconds(facts.observedAt).map {
                    Observations.rowValues(
                        facts, ns: $0, verdict: verdict, ref: ref, lineHash: lineHash, policySHA: blob?.hash,
                        line: nil)
                })
        }
    }

    /// The bytes stored as the policy blob: a native body, or a backend scan's non-empty policy text.
    public static func policyBytes(_ facts: ObservationFacts) -> [UInt8]? {
        switch facts {
        case .native(let observation): observation.policy.body
        case .backendScan(let scan): scan.mtaSTS.map { Array($0.policy.utf8) }.flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// The input lines of a batch as one compressed segment (``Segment``), built away from the database.
    public struct PreparedSegment: Sendable {
        /// How many lines it holds.
        public let count: Int
        /// The uncompressed size.
        public let size: Int
        let compressed: [UInt8]

        /// Concatenates and compresses `lines` (zlib level 1: a fifth of level 6's CPU for ~15 % more bytes).
        public init(_ lines: [[UInt8]]) throws {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(lines.reduce(0) { $0 + $1.count })
            for line in lines { bytes += line }
            count = lines.count
            size = bytes.count
            compressed = try bytes.withUnsafeBytes { try Zlib.compress($0, level: 1) }
        }
    }

    /// Stores many observations in order, with exactly the outcomes that calling ``insert(_:verdict:ref:line:)``
    /// for each in turn would give (a later item with the identity of an earlier one is `alreadyKnown` or a
    /// `conflict` against it), but in bulk: the input lines of the new rows go into one compressed segment
    /// (`observation_segments`, migration 0008), and the rows in multi-row `INSERT`s of ``rowsPerInsert``.
    /// `segment`, when given, must hold exactly `items`' lines in order; it is used when every item is new
    /// (the common case: an import of new data), else the new rows' lines are compressed here. Does not
    /// open a transaction: call it inside `db.transaction`. `memo` carries the policy blobs already stored
    /// across the batches of one import (see ``WriteMemo``).
    public func insertBatch(
        _ items: [PendingInsert], segment: PreparedSegment? = nil, memo: WriteMemo? = nil
    ) throws -> [InsertOutcome] {
        struct Identity: Hashable {
            let domain: String
            let ns: Int64
            let source: String
        }
        var outcomes: [InsertOutcome] = []
        outcomes.reserveCapacity(items.count)
        var seen: [Identity: (ref: String, hash: String)] = [:]
        seen.reserveCapacity(items.count)
        // The new rows: their item index and line hash, in order.
        var fresh: [(index: Int, ns: Int64, hash: String)] = []
        fresh.reserveCapacity(items.count)
        for index in items.indices {
            guard let ns = items[index].observedNanoseconds else {
                throw StoreError.column(
                    "observedAt \(items[index].facts.observedAt) is outside 1677–2262", sql: "observations")
            }
            let lineHash = items[index].prepared?.lineHash ?? SHA256.hex(items[index].line)
            let identity = Identity(domain: items[index].domain, ns: ns, source: items[index].source)
            if let earlier = seen[identity] {
                outcomes.append(
                    earlier.hash == lineHash ? .alreadyKnown(ref: earlier.ref) : .conflict(ref: earlier.ref))
                continue
            }
            if let existing = try db.query(
                Self.identitySQL, [.text(identity.domain), .int(ns), .text(identity.source)]
            )
            .first {
                let existingRef: String = try existing.get(0)
                let existingHash: String = try existing.get(1)
                outcomes.append(
                    existingHash == lineHash ? .alreadyKnown(ref: existingRef) : .conflict(ref: existingRef))
                continue
            }
            seen[identity] = (items[index].ref, lineHash)
            fresh.append((index, ns, lineHash))
            outcomes.append(.inserted(id: 0))
        }
        guard !fresh.isEmpty else { return outcomes }
        // The segment first (the rows reference it).
        let stored: PreparedSegment
        if let segment, segment.count == items.count, fresh.count == items.count {
            stored = segment
        } else {
            stored = try PreparedSegment(fresh.map { items[$0.index].line })
        }
        try db.execute(
            "INSERT INTO observation_segments (size, data) VALUES (?, ?)",
            [.int(Int64(stored.size)), .blob(stored.compressed)])
        let segmentID = db.lastInsertRowID
        let blobs = BlobStore(db)
        var rows: [SQLValue] = []
        rows.reserveCapacity(Self.rowsPerInsert * Self.columnsPerRow)
        var chunk: [Int] = []
        var offset = 0
        func insertRows() throws {
            guard !chunk.isEmpty else { return }
            try db.execute(Self.multiInsertSQL(rows: chunk.count), rows)
            // Rowids of one INSERT of an INTEGER PRIMARY KEY table are consecutive, ending at the last one.
            let first = db.lastInsertRowID - Int64(chunk.count) + 1
            for (position, index) in chunk.enumerated() { outcomes[index] = .inserted(id: first + Int64(position)) }
            rows.removeAll(keepingCapacity: true)
            chunk.removeAll(keepingCapacity: true)
        }
        for new in fresh {
            let item = items[new.index]
            let facts = item.facts
            let verdict = item.prepared?.verdict ?? item.verdict ?? facts.verdict
            try Self.check(facts, verdict: verdict, ref: item.ref)
            var policySHA: String?
            if let prepared = item.prepared {
                if let policy = prepared.policy {
                    // Many rows share a body; the blob is then already stored.
                    if memo?.policies.contains(policy.hash) != true {
                        try blobs.put(policy)
                        memo?.remember(policy.hash)
                    }
                    policySHA = policy.hash
                }
            } else {
                policySHA = try Self.policyBytes(facts).map { try blobs.put($0).hash }
            }
            let location: [SQLValue] = [.int(segmentID), .int(Int64(offset)), .int(Int64(item.line.count))]
            if let values = item.prepared?.values, values.count == Self.columnsPerRow {
                rows.append(contentsOf: values[..<Self.lineColumn])
                rows += location
                rows.append(contentsOf: values[(Self.lineColumn + 3)...])
            } else {
                rows += Self.rowValues(
                    facts, ns: new.ns, verdict: verdict, ref: item.ref, lineHash: new.hash, policySHA: policySHA,
                    line: location)
            }
            offset += item.line.count
            chunk.append(new.index)
            if chunk.count == Self.rowsPerInsert { try insertRows() }
        }
        try insertRows()
        return outcomes
    }

    /// The policy blobs one writer has stored (hashes, bounded), so that a body shared by many rows is
    /// inserted once rather than once per row. Only valid while the transactions it saw commit: an importer
    /// that rolls back stops (and drops the memo).
    public final class WriteMemo {
        var policies: Set<String> = []
        let limit: Int

        /// An empty memo of at most `limit` hashes (it starts over when full).
        public init(limit: Int = 4096) {
            self.limit = limit
        }

        func remember(_ hash: String) {
            if policies.count >= limit { policies.removeAll(keepingCapacity: true) }
            policies.insert(hash)
        }
    }

    private static let identitySQL =
        "SELECT ref, line_sha256 FROM observations WHERE domain = ? AND observed_at_ns = ? AND source = ?"

    /// Rows per multi-row `INSERT` in ``insertBatch(_:segment:)`` (39 parameters each, far below SQLite's limit).
    public static let rowsPerInsert = 32

    private static let columnsPerRow = 39
    /// Where `line_segment`, `line_offset`, `line_length` sit in a row's values.
    private static let lineColumn = 6

    /// The full-chunk statement is built once; a shorter last chunk builds its own (once per batch).
    private static let fullInsertSQL = multiInsertSQL(rows: rowsPerInsert, cached: false)

    private static func multiInsertSQL(rows: Int, cached: Bool = true) -> String {
        if cached && rows == rowsPerInsert { return fullInsertSQL }
        return insertHead + " " + Array(repeating: oneRow, count: rows).joined(separator: ", ")
    }

    /// The row invariants 0005 checked in SQL on every insert (0008 checks them here, once, in Swift; the
    /// statuses are enums and the JSON columns come from `JSONWriter`, so those need no check).
    private static func check(_ facts: ObservationFacts, verdict: ObservationVerdict, ref: String) throws {
        func fail(_ problem: String) -> StoreError {
            StoreError.column("observation \(facts.domain) \(ref): \(problem)", sql: "observations")
        }
        let domain = facts.domain.utf8
        guard !domain.isEmpty, !domain.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else {
            throw fail("domain must be non-empty and lower case")
        }
        guard !facts.source.isEmpty, !ref.isEmpty else { throw fail("source and ref must be non-empty") }
        guard verdict.parserVersion >= 1, verdict.valid == (verdict.reason == nil), (verdict.maxAge ?? 0) >= 0 else {
            throw fail("inconsistent verdict")
        }
        switch facts {
        case .native(let observation):
            if let status = observation.policy.httpStatus, !(100...999).contains(status) {
                throw fail("httpStatus \(status) is outside 100…999")
            }
        case .backendScan(let scan):
            if let status = scan.mtaSTS?.status, !(0...3).contains(status) {
                throw fail("mta_sts.status \(status) is outside 0…3")
            }
        }
    }

    /// The stored values of a new row (its blobs and segment are written by the caller); `line` holds the
    /// segment, offset and length values (NULLs, filled in by the writer, when `nil`).
    static func rowValues(
        _ facts: ObservationFacts, ns: Int64, verdict: ObservationVerdict, ref: String, lineHash: String,
        policySHA: String?, line: [SQLValue]?
    ) -> [SQLValue] {
        var values: [SQLValue] = [
            .text(facts.domain), .text(facts.observedAt.rfc3339), .int(ns), .text(facts.source), .text(ref),
            .text(lineHash),
        ]
        values.reserveCapacity(columnsPerRow)
        values += line ?? [.null, .null, .null]
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
            verdict.maxAge.map { .int(Int64($0)) } ?? .null, .text(jsonStrings(verdict.mx)),
            .text(jsonStrings(verdict.listMXs)), verdict.reason.sqlValue,
            verdict.strictReason.sqlValue, .text(jsonStrings(verdict.warnings)),
        ]
        return values
    }

    /// A JSON array of strings, as `JSONWriter.compact` writes it (`[]` without building a value when empty).
    private static func jsonStrings(_ strings: [String]) -> String {
        strings.isEmpty ? "[]" : JSONWriter.compact(.strings(strings))
    }

    private static let insertHead = """
        INSERT INTO observations (
            domain, observed_at, observed_at_ns, source, ref, line_sha256, line_segment, line_offset, line_length,
            kind, scan_id, txt_status, txt_records, txt_error, policy_status, http_status, content_type, location,
            policy_sha256, policy_error, tlsrpt, tlsa, backend_status, backend_checks,
            parser_version, valid, strict_valid, txt_valid, txt_strict_valid, txt_id, policy_valid,
            policy_strict_valid, mode, max_age, mx, list_mxs, reason, strict_reason, warnings
        ) VALUES
        """
    private static let oneRow = "(" + Array(repeating: "?", count: columnsPerRow).joined(separator: ", ") + ")"

    /// The number of stored observations.
    public func count() throws -> Int {
        try db.scalar("SELECT count(*) FROM observations", as: Int.self) ?? 0
    }

    /// A database that observation rows can be read from: the store itself or the shard attached by a merge.
    public enum AttachedSchema: String, Sendable {
        /// The store's own database.
        case main
        /// The source database `observe merge` attaches as `merge_source`.
        case mergeSource = "merge_source"
    }

    /// The input line of observation `id`, byte for byte as it was read: from its segment (rows stored since
    /// migration 0008) or its blob (rows from 0005), checked against the stored `line_sha256`.
    ///
    /// `schema` names the database holding the row: `main`, or the source attached by `observe merge`, which
    /// reads the lines of a source database this way. It is a closed set, so the SQL is constant text.
    public func line(id: Int64, schema: AttachedSchema = .main) throws -> [UInt8] {
        let sql: String
        switch schema {
        case .main:
            sql = "SELECT line_sha256, line_segment, line_offset, line_length FROM main.observations WHERE id = ?"
        case .mergeSource:
            sql =
                "SELECT line_sha256, line_segment, line_offset, line_length FROM merge_source.observations WHERE id = ?"
        }
        guard let row = try db.query(sql, [.int(id)]).first
        else { throw StoreError.column("no observation \(id)", sql: "observations") }
        let hash: String = try row.get(0)
        guard let segment: Int64 = try row.get(1) else {
            guard schema == .main else {
                throw StoreError.column(
                    "observation \(id) of \(schema.rawValue) keeps its line as a blob", sql: "observations")
            }
            return try BlobStore(db).get(hash)
        }
        let offset: Int64 = try row.get(2)
        let length: Int64 = try row.get(3)
        let bytes = try segmentBytes(segment, schema: schema)
        guard offset >= 0, length >= 0, offset + length <= Int64(bytes.count) else {
            throw StoreError.corruptBlob(
                hash: hash, problem: "line \(offset)+\(length) is outside segment \(segment) (\(bytes.count) bytes)")
        }
        let line = Array(bytes[Int(offset)..<Int(offset + length)])
        let actual = SHA256.hex(line)
        guard actual == hash else { throw StoreError.corruptBlob(hash: hash, problem: "line hashes to \(actual)") }
        return line
    }

    /// The uncompressed bytes of segment `id`.
    func segmentBytes(_ id: Int64, schema: AttachedSchema) throws -> [UInt8] {
        let sql: String
        switch schema {
        case .main: sql = "SELECT size, data FROM main.observation_segments WHERE id = ?"
        case .mergeSource: sql = "SELECT size, data FROM merge_source.observation_segments WHERE id = ?"
        }
        guard let row = try db.query(sql, [.int(id)]).first
        else { throw StoreError.column("no observation segment \(id)", sql: "observation_segments") }
        let size: Int64 = try row.get(0)
        let data: [UInt8] = try row.get(1)
        let label = "observation segment \(id)"
        guard size >= 0, size <= Int64(data.count) * 1032 + 1024 else {
            throw StoreError.corruptBlob(hash: label, problem: "recorded size \(size) is impossible")
        }
        switch data.withUnsafeBytes({ Zlib.decompress($0, size: Int(size)) }) {
        case .success(let inflated): return inflated
        case .failure(let problem): throw StoreError.corruptBlob(hash: label, problem: problem.text)
        }
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
