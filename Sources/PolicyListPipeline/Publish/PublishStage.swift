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

        let previous: PublicationGuard.Previous
        let previousContent: PolicyList?
        if let previousPublication {
            previous = PublicationGuard.Previous(
                timestamp: try listTime(previousPublication.timestampRaw), domains: previousPublication.domains)
            previousContent = ListReader.readStored(try context.blobs.get(previousPublication.policySHA256)).list
        } else {
            let baseline = try ReconcileStage.loadBaselineRecord(context, candidate: candidate)
            previous = PublicationGuard.Previous(timestamp: baseline.timestamp, domains: baseline.policies.count)
            previousContent = baseline
        }
        if let refusal = PublicationGuard.check(
            list, previous: previous, now: context.now, maxShrinkPercent: options.maxShrinkPercent,
            allowShrink: options.allowShrink)
        {
            throw CommandError(.dataError, refusal.description)
        }
        let republication =
            previousContent.map { ListWriter.contentBytes($0) == ListWriter.contentBytes(list) } ?? false
        var signature: [UInt8]?
        if let key = options.signKey {
            signature = try signDetached(data: bytes, keyID: key, gnupgHome: options.gnupgHome)
        }
        let files = try writeFiles(
            context, options: options, list: list, bytes: bytes, signature: signature, candidate: candidate,
            previous: previousContent, republication: republication)
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

    static func previousList(_ context: StageContext, before publication: PublicationRecord) throws -> PolicyList? {
        let earlier = try DecisionStore(context.db).publications().filter { $0.timestamp < publication.timestamp }
        if let last = earlier.last { return ListReader.readStored(try context.blobs.get(last.policySHA256)).list }
        guard let candidate = try DecisionStore(context.db).candidate(id: publication.candidateID) else { return nil }
        return try ReconcileStage.loadBaselineRecord(context, candidate: candidate)
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

extension ReconcileStage {
    /// The list a candidate started from.
    static func loadBaselineRecord(_ context: StageContext, candidate: CandidateRecord) throws -> PolicyList {
        let hash: String?
        if candidate.baselineKind == "publication" {
            hash = try context.db.scalar(
                "SELECT policy_sha256 FROM publications WHERE id = ?", [.int(candidate.baselineID)], as: String.self)
        } else {
            hash = try context.db.scalar(
                "SELECT sha256 FROM snapshots WHERE id = ?", [.int(candidate.baselineID)], as: String.self)
        }
        guard let hash, let list = ListReader.readStored(try context.blobs.get(hash)).list else {
            throw CommandError(.failure, "candidate \(candidate.id): its baseline \(candidate.baselineRef) is gone")
        }
        return list
    }
}
