import PolicyListCLI
import PolicyListCore
import PolicyListIO
import PolicyListStore

/// Options of `policylist-reconcile`.
public struct ReconcileOptions: Sendable {
    /// `--as-of`.
    public var asOf: Instant
    /// `--freeze` (remembered in the store once given).
    public var freeze: Instant?
    /// `--baseline REF`: start from this ingested snapshot instead of the newest publication.
    public var baseline: String?
    /// R7 switch (`--keep-on-none` turns it off).
    public var removeOnNone = true
    /// `--force-edit DOMAIN=REASON`.
    public var forcedEdits: [String: String] = [:]

    /// Creates options.
    public init(asOf: Instant, freeze: Instant? = nil, baseline: String? = nil) {
        self.asOf = asOf
        self.freeze = freeze
        self.baseline = baseline
    }
}

/// A list to reconcile from, with where it came from.
struct Baseline {
    var kind: String
    var id: Int64
    var ref: String
    var list: PolicyList
    var domains: Int
}

/// `policylist-reconcile`: gathers the state, applies the rules (Core), stores the candidate and its decisions.
public enum ReconcileStage {
    /// Runs reconcile as of an instant.
    public static func run(_ context: StageContext, options: ReconcileOptions) throws -> StageOutcome {
        let decisions = DecisionStore(context.db)
        var freeze = options.freeze
        if let given = freeze {
            let stored = try decisions.setting("freeze")
            if let stored, stored != given.rfc3339 {
                context.info("freeze moved from \(stored) to \(given.rfc3339)")
            }
            try decisions.setSetting("freeze", given.rfc3339, at: context.nowText)
        } else if let stored = try decisions.setting("freeze") {
            freeze = try? TimestampParser.parseInstant(stored).get()
        }
        let baseline = try loadBaseline(context, reference: options.baseline)
        let published = try context.db.query(
            "SELECT c.freeze_promotion, c.applied_edits FROM candidates c WHERE EXISTS (SELECT 1 FROM publications p WHERE p.candidate_id = c.id)"
        )
        let promotionDone = try published.contains { try $0.get(0, as: Int64.self) == 1 }
        var consumed = Set<String>()
        for row in published { consumed.formUnion(decodeStrings(try row.get(1))) }
        let requests = RequestStore(context.db)
        let input = ReconcileInput(
            baseline: baseline.list, baselineRef: baseline.ref, queue: try requests.currentQueue(),
            removals: try requests.removals(), edits: try requests.edits(),
            observations: try ObservationFeed.latest(context, asOf: options.asOf), asOf: options.asOf, freeze: freeze,
            freezePromotionDone: promotionDone, consumedEdits: consumed, removeOnNone: options.removeOnNone,
            forcedEdits: options.forcedEdits)
        let result = Reconciler.reconcile(input)
        let listBytes = ListWriter.bytes(result.list)
        let listHash = SHA256.hex(listBytes)
        // The fingerprint text, hashed as it is produced (the same digest as hashing it whole).
        let fingerprinter = StreamingSHA256()
        fingerprinter.append("\(baseline.kind):\(baseline.id)|\(options.asOf.rfc3339)|\(freeze?.rfc3339 ?? "-")|")
        fingerprinter.append(listHash + "|" + String(options.removeOnNone))
        for decision in result.decisions {
            fingerprinter.append("\n")
            fingerprinter.append(decision.domain)
            fingerprinter.append("\t")
            fingerprinter.append(decision.action.rawValue)
            fingerprinter.append("\t")
            fingerprinter.append(decision.rule)
            fingerprinter.append("\t")
            fingerprinter.append(decision.detail)
            for evidence in decision.evidence {
                fingerprinter.append("\t")
                fingerprinter.append(evidence.ref)
            }
        }
        let fingerprint = fingerprinter.finish()
        var known = false
        // One decision row per domain: ~250 MB of rows and index in one transaction at a million domains. With
        // SQLite's default 2 MB page cache the transaction spilled dirty pages to the WAL over and over (the
        // B-trees' interior and rightmost pages many times each); 64 MiB, as imports use, keeps them in memory.
        try context.db.execute("PRAGMA cache_size = -65536")
        let candidateID: Int64 = try context.db.transaction { _ in
            if let existing = try decisions.candidate(fingerprint: fingerprint) {
                known = true
                return existing
            }
            _ = try context.blobs.put(listBytes)
            return try decisions.insertCandidate(
                fingerprint: fingerprint, createdAt: context.nowText, asOf: options.asOf, freeze: freeze,
                baselineKind: baseline.kind, baselineID: baseline.id, baselineRef: baseline.ref, listSHA256: listHash,
                result: result, forcedEdits: options.forcedEdits)
        }
        return outcome(
            result: result, asOf: options.asOf, freeze: freeze, candidate: candidateID, known: known,
            baseline: baseline)
    }

    static func outcome(
        result: ReconcileResult, asOf: Instant, freeze: Instant?, candidate: Int64, known: Bool, baseline: Baseline
    ) -> StageOutcome {
        let counts = result.counts
        var rules: [String: Int] = [:]
        for decision in result.decisions where decision.action != .unchanged {
            rules["\(decision.rule) \(decision.action.rawValue)", default: 0] += 1
        }
        let summary: JSONValue = .object([
            JSONMember("schemaVersion", 1), JSONMember("command", "reconcile"),
            JSONMember("asOf", .string(asOf.rfc3339)), JSONMember("freeze", .optional(freeze?.rfc3339)),
            JSONMember("added", .int(counts.added)), JSONMember("removed", .int(counts.removed)),
            JSONMember("updated", .int(counts.updated)), JSONMember("unchanged", .int(counts.unchanged)),
            JSONMember("refused", .int(counts.refused)), JSONMember("domains", .int(counts.domains)),
            JSONMember("skipped", .int(counts.skipped)), JSONMember("dropped", .int(counts.dropped)),
            JSONMember("candidate", .int(candidate)), JSONMember("alreadyKnown", .bool(known)),
            JSONMember("baseline", .string(baseline.ref)),
            JSONMember("freezePromotion", .bool(result.appliedFreezePromotion)),
            JSONMember("rules", .object(rules.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) })),
        ])
        var human: [String] = []
        for decision in result.decisions where decision.action == .refused {
            let evidence = decision.evidence.first { $0.kind == "edit" }?.ref ?? ""
            human.append("refused: \(decision.domain) (\(evidence)): \(decision.rule): \(decision.detail)")
        }
        human.append(
            "reconcile as of \(asOf.rfc3339) from \(baseline.ref): \(counts.added) added, \(counts.removed) removed, "
                + "\(counts.updated) updated, \(counts.unchanged) unchanged, \(counts.refused) refused; "
                + "\(counts.domains) domains (candidate \(candidate)\(known ? ", same as before" : ""))")
        return StageOutcome(summary: summary, human: human, exitCode: counts.refused > 0 ? .dataError : .ok)
    }

    static func loadBaseline(_ context: StageContext, reference: String?) throws -> Baseline {
        let snapshots = SnapshotStore(context.db)
        if let reference {
            guard let record = try snapshots.find(reference) else {
                throw CommandError(
                    .dataError, "--baseline \(reference): no ingested snapshot matches (seq:N, name or sha256)")
            }
            return try baseline(context, record)
        }
        if let publication = try DecisionStore(context.db).newestPublication() {
            let bytes = try context.blobs.get(publication.policySHA256)
            guard let list = ListReader.readStored(bytes).list else {
                throw CommandError(.failure, "publication \(publication.id): stored bytes no longer read as a list")
            }
            return Baseline(
                kind: "publication", id: publication.id,
                ref: "publication \(publication.id) (\(publication.timestampRaw))",
                list: list, domains: list.policies.count)
        }
        let all = try snapshots.all()
        guard let newest = all.last(where: { $0.pubSeq != nil }) ?? all.max(by: { $0.id < $1.id }) else {
            throw CommandError(
                .dataError, "nothing to reconcile from: ingest a snapshot first (policylist-ingest snapshots)")
        }
        return try baseline(context, newest)
    }

    static func baseline(_ context: StageContext, _ record: SnapshotRecord) throws -> Baseline {
        let bytes = try context.blobs.get(record.sha256)
        guard let list = ListReader.readStored(bytes).list else {
            throw CommandError(.failure, "snapshot \(record.name): stored bytes no longer read as a list")
        }
        let seq = record.pubSeq.map { " (seq \($0))" } ?? " (off-sequence)"
        return Baseline(
            kind: "snapshot", id: record.id, ref: "snapshot \(record.name)\(seq)", list: list,
            domains: list.policies.count)
    }
}

/// Where reconcile reads observations from: the latest per domain as of an instant.
enum ObservationFeed {
    static func latest(_ context: StageContext, asOf: Instant) throws -> [ObservationSummary] {
        try Observations(context.db).latestSummaries(asOf: asOf)
    }
}
