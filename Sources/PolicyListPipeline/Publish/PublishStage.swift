import PolicyListCLI
import PolicyListCore
import PolicyListIO
import PolicyListStore

/// Options of `policylist-publish`.
public struct PublishOptions: Sendable {
    /// `--out DIR`.
    public var outDir: String
    /// `--timestamp STRING`, written verbatim after validation.
    public var timestamp: String?
    /// `--expires STRING`, written verbatim after validation.
    public var expires: String?
    /// `--expires-after` in seconds (default 14 days).
    public var expiresAfterSeconds: Int64 = 14 * 86_400
    /// `--sign-key KEYID`.
    public var signKey: String?
    /// `--gnupg-home DIR`.
    public var gnupgHome: String?
    /// `--max-shrink PERCENT` (default 5).
    public var maxShrinkPercent: Double = 5
    /// `--allow-shrink`.
    public var allowShrink = false

    /// Creates options.
    public init(outDir: String) { self.outDir = outDir }
}

/// `policylist-publish`: guards, then the publisher's exact bytes, signature, checksums, manifest, changelog and
/// Postfix map, each written to a temporary name and renamed; the publication is recorded last.
public enum PublishStage {
    /// Publishes the newest candidate.
    public static func run(_ context: StageContext, options: PublishOptions) throws -> StageOutcome {
        let decisions = DecisionStore(context.db)
        guard let candidate = try decisions.newestCandidate() else {
            throw CommandError(.dataError, "nothing to publish: run policylist-reconcile first")
        }
        // The candidate is our own writer's output, not an input: the snapshot size limit does not apply (a
        // million-domain list is larger than it; bench/run's reconcile + publish workload found that).
        let reading = ListReader.readStored(try context.blobs.get(candidate.listSHA256))
        guard var list = reading.list else {
            throw CommandError(
                .failure,
                "candidate \(candidate.id): stored list no longer reads: \(reading.rejection?.detail ?? "unknown")")
        }
        let previousPublication = try decisions.newestPublication()
        let timestamp = try chooseTimestamp(options.timestamp, now: context.now)
        let expires = try chooseExpires(options, timestamp: timestamp)
        list.timestamp = timestamp
        list.expires = expires
        list.version = "0.1"
        let bytes = ListWriter.bytes(list)
        let hash = SHA256.hex(bytes)

        // A rerun after a crash that had already recorded this exact publication rewrites the files, no more.
        if let previousPublication, previousPublication.candidateID == candidate.id,
            previousPublication.timestampRaw == timestamp.raw, previousPublication.expiresRaw == expires.raw,
            previousPublication.policySHA256 == hash
        {
            let signature = try previousPublication.signatureSHA256.map { try context.blobs.get($0) }
            let files = try writeFiles(
                context, options: options, list: list, bytes: bytes, signature: signature, candidate: candidate,
                previous: try previousList(context, before: previousPublication),
                republication: previousPublication.republication)
            return outcome(
                options: options, list: list, hash: hash, files: files,
                republication: previousPublication.republication, signed: signature != nil, known: true)
        }

        let previous: PreviousList
        if let previousPublication {
            previous = try PreviousList(context, publication: previousPublication, candidate: candidate)
        } else {
            previous = try PreviousList(context, baselineOf: candidate)
        }
        if let refusal = PublicationGuard.check(
            list, previous: PublicationGuard.Previous(timestamp: previous.timestamp, domains: previous.domains),
            now: context.now, maxShrinkPercent: options.maxShrinkPercent, allowShrink: options.allowShrink)
        {
            throw CommandError(.dataError, refusal.description)
        }
        let republication = try previous.sameContent(as: list, candidate: candidate, context)
        var signature: [UInt8]?
        if let key = options.signKey {
            signature = try signDetached(data: bytes, keyID: key, gnupgHome: options.gnupgHome)
        }
        let files = try writeFiles(
            context, options: options, list: list, bytes: bytes, signature: signature, candidate: candidate,
            previous: previous, republication: republication)
        try context.db.transaction { _ in
            let policyHash = try context.blobs.put(bytes).hash
            let signatureHash = try signature.map { try context.blobs.put($0).hash }
            _ = try decisions.insertPublication(
                candidateID: candidate.id, publishedAt: context.nowText, timestamp: timestamp, expires: expires,
                policySHA256: policyHash, signatureSHA256: signatureHash, outDir: options.outDir,
                domains: list.policies.count, republication: republication)
        }
        return outcome(
            options: options, list: list, hash: hash, files: files, republication: republication,
            signed: signature != nil,
            known: false)
    }

    /// The list published before `publication` (or its candidate's baseline), for the changelog of a rerun.
    static func previousList(_ context: StageContext, before publication: PublicationRecord) throws -> PreviousList? {
        let earlier = try DecisionStore(context.db).publications().filter { $0.timestamp < publication.timestamp }
        guard let candidate = try DecisionStore(context.db).candidate(id: publication.candidateID) else { return nil }
        if let last = earlier.last { return try PreviousList(context, publication: last, candidate: candidate) }
        return try PreviousList(context, baselineOf: candidate)
    }

    static func listTime(_ raw: String) throws -> ListTime {
        switch TimestampParser.parse(string: raw) {
        case .success(let time): return time
        case .failure(let error): throw CommandError(.failure, "stored timestamp \(raw): \(error.reason)")
        }
    }

    static func chooseTimestamp(_ given: String?, now: Instant) throws -> ListTime {
        guard let given else {
            return try listTime(now.format(offsetSeconds: 0, fractionDigits: 6))
        }
        switch TimestampParser.parse(string: given) {
        case .success(let time) where time.offsetSeconds != nil && time.warnings.isEmpty: return time
        case .success: throw UsageError("--timestamp \(given): must be RFC 3339 with 'Z' or ±HH:MM (schema 0.1)")
        case .failure(let error): throw UsageError("--timestamp: \(error.reason)")
        }
    }

    static func chooseExpires(_ options: PublishOptions, timestamp: ListTime) throws -> ListTime {
        if let given = options.expires {
            switch TimestampParser.parse(string: given) {
            case .success(let time) where time.offsetSeconds != nil && time.warnings.isEmpty: return time
            case .success: throw UsageError("--expires \(given): must be RFC 3339 with 'Z' or ±HH:MM (schema 0.1)")
            case .failure(let error): throw UsageError("--expires: \(error.reason)")
            }
        }
        let instant = timestamp.instant.adding(seconds: options.expiresAfterSeconds)
        let digits = timestamp.fractionDigits == 0 ? 0 : max(6, timestamp.fractionDigits)
        return try listTime(instant.format(offsetSeconds: timestamp.offsetSeconds ?? 0, fractionDigits: digits))
    }

    static func outcome(
        options: PublishOptions, list: PolicyList, hash: String, files: [String], republication: Bool, signed: Bool,
        known: Bool
    ) -> StageOutcome {
        let counts = list.modeCounts
        let summary: JSONValue = .object([
            JSONMember("schemaVersion", 1), JSONMember("command", "publish"),
            JSONMember("out", .string(options.outDir)),
            JSONMember("timestamp", .string(list.timestamp.raw)), JSONMember("expires", .string(list.expires.raw)),
            JSONMember("domains", .int(list.policies.count)), JSONMember("enforce", .int(counts.enforce)),
            JSONMember("testing", .int(counts.testing)), JSONMember("aliasReferences", .int(counts.aliasReferences)),
            JSONMember("sha256", .string(hash)), JSONMember("signed", .bool(signed)),
            JSONMember("republication", .bool(republication)), JSONMember("alreadyKnown", .bool(known)),
            JSONMember("files", .strings(files)),
        ])
        let what = republication ? "timestamp-only republication (R10)" : "published"
        return StageOutcome(
            summary: summary,
            human: [
                "\(what): \(options.outDir)/policy.json, \(list.policies.count) domains, timestamp \(list.timestamp.raw), "
                    + "expires \(list.expires.raw), sha256 \(hash)\(signed ? ", signed" : "")"
            ], exitCode: .ok)
    }
}

/// The list a publication follows (the newest publication, else the candidate's baseline) as publish needs it:
/// its timestamp and size come from the store's rows; its content is read (a full parse: seconds at a million
/// domains) only when the candidate's counts cannot already tell whether anything changed.
struct PreviousList {
    /// Its timestamp.
    let timestamp: ListTime
    /// Its number of domains.
    let domains: Int
    /// Whether this is the very list the candidate was reconciled from.
    let isBaselineOfCandidate: Bool
    /// The stored bytes' hash.
    let sha256: String
    /// What to say when the stored list no longer reads (nil: it simply does not count as the same content).
    let unreadable: String?

    /// The newest publication.
    init(_ context: StageContext, publication: PublicationRecord, candidate: CandidateRecord) throws {
        timestamp = try PublishStage.listTime(publication.timestampRaw)
        domains = publication.domains
        isBaselineOfCandidate = candidate.baselineKind == "publication" && candidate.baselineID == publication.id
        sha256 = publication.policySHA256
        unreadable = nil
    }

    /// The candidate's baseline (no publication yet). A baseline that is gone is an error, as before.
    init(_ context: StageContext, baselineOf candidate: CandidateRecord) throws {
        let gone = "candidate \(candidate.id): its baseline \(candidate.baselineRef) is gone"
        let sql =
            candidate.baselineKind == "publication"
            ? "SELECT policy_sha256, timestamp_raw, domains FROM publications WHERE id = ?"
            : "SELECT sha256, timestamp_raw, policies FROM snapshots WHERE id = ?"
        guard let row = try context.db.query(sql, [.int(candidate.baselineID)]).first else {
            throw CommandError(.failure, gone)
        }
        sha256 = try row.get(0)
        domains = Int(try row.get(2, as: Int64.self))
        isBaselineOfCandidate = true
        unreadable = gone
        let raw: String = try row.get(1)
        // An integer timestamp (epoch seconds) is stored as its digits; everything else as the string written.
        let parsed =
            !raw.isEmpty && raw.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
            ? TimestampParser.parse(.number(raw)) : TimestampParser.parse(string: raw)
        switch parsed {
        case .success(let time): timestamp = time
        case .failure:
            // Not expected for a stored row; the list itself has the parsed value.
            guard let list = ListReader.readStored(try context.blobs.get(sha256)).list else {
                throw CommandError(.failure, gone)
            }
            timestamp = list.timestamp
        }
    }

    /// Whether `list` has exactly this list's aliases and policies (a timestamp-only republication, R10).
    ///
    /// When the candidate was reconciled from this list, an added, removed or updated entry means the content
    /// differs and nothing is read; otherwise the stored list is read and compared entry by entry (equal values
    /// are exactly the lists whose `ListWriter.contentBytes` are equal).
    func sameContent(as list: PolicyList, candidate: CandidateRecord, _ context: StageContext) throws -> Bool {
        let counts = candidate.counts
        if isBaselineOfCandidate && counts.added + counts.removed + counts.updated > 0 { return false }
        guard let previous = ListReader.readStored(try context.blobs.get(sha256)).list else {
            if let unreadable { throw CommandError(.failure, unreadable) }
            return false
        }
        return previous.aliases == list.aliases && previous.policies == list.policies
    }
}
