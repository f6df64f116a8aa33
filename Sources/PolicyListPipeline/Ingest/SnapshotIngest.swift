import PolicyListCLI
import PolicyListCore
import PolicyListIO
import PolicyListStore

/// One snapshot candidate, whatever it came from (file, archive member, git commit).
struct SnapshotInput {
    var displayPath: String
    var name: String
    var bytes: [UInt8]
    var asc: [UInt8]?
    var commit: String?
    var landed: Instant?
    var landedRaw: String?
}

/// How the publication order is decided.
public enum SnapshotOrder: Sendable, Equatable {
    /// `--sequence FILE.tsv`: the `master_tip_seq` (and `landed_on_master_utc`) columns of a manifest.
    case sequenceFile(String)
    /// By file name (the default for files).
    case name
    /// By the `timestamp` field.
    case timestamp
    /// The order given (git first-parent history).
    case given
}

/// `policylist-ingest snapshots` and `git`: read, validate, verify, store, order, and check across versions.
public enum SnapshotIngest {
    /// Ingests snapshot files, directories and archives.
    public static func files(
        _ context: StageContext, paths: [String], keyring: String?, order: SnapshotOrder
    ) throws -> StageOutcome {
        let batch = collectSnapshotInputs(paths: paths)
        var inputs: [SnapshotInput] = batch.items.map {
            SnapshotInput(displayPath: $0.displayPath, name: $0.name, bytes: $0.bytes, asc: $0.ascBytes)
        }
        if order == .name { inputs.sort { $0.name < $1.name } }
        var run = IngestRun(context: context, keyring: keyring, command: "ingest snapshots")
        for rejection in batch.rejections {
            try run.reject(path: rejection.path, error: rejection.error, bytes: rejection.bytes)
        }
        run.warnings += batch.skipped.count
        for skipped in batch.skipped { context.info("\(skipped.path): skipped (\(skipped.reason))") }
        try run.ingest(inputs, order: order)
        return run.outcome()
    }

    /// Ingests the first-parent history of `path` in a git repository.
    public static func git(
        _ context: StageContext, repo: String, path: String, ref: String, keyring: String?
    ) throws -> StageOutcome {
        let versions = try firstParentVersions(repo: repo, path: path, ref: ref)
        let inputs = versions.map { version in
            SnapshotInput(
                displayPath: "\(repo)@\(version.commit.prefix(12)):\(path)",
                name: "\(version.commit.prefix(12)):\(path)", bytes: version.bytes, asc: version.ascBytes,
                commit: version.commit,
                landed: (try? TimestampParser.parse(string: version.committerDate).get())?.instant,
                landedRaw: version.committerDate)
        }
        var run = IngestRun(context: context, keyring: keyring, command: "ingest git")
        try run.ingest(inputs, order: .given)
        return run.outcome()
    }
}

struct IngestRun {
    let context: StageContext
    let keyring: String?
    let command: String
    var accepted = 0
    var alreadyKnown = 0
    var rejected: [(path: String, error: String)] = []
    var warnings = 0
    var touched: [Int64] = []
    var acceptedIDs = Set<Int64>()
    /// Hashes seen in this run: a second copy (e.g. a .gz of a plain file) is the same snapshot, counted once.
    var seenInRun: [String: String] = [:]
    var sameAsEarlier = 0

    init(context: StageContext, keyring: String?, command: String) {
        self.context = context
        self.keyring = keyring
        self.command = command
    }

    var snapshots: SnapshotStore { SnapshotStore(context.db) }

    mutating func reject(path: String, error: String, bytes: [UInt8]?) throws {
        rejected.append((path, error))
        try Rejections(context.db).record(
            kind: "snapshot", source: path, location: nil, bytes: bytes, error: error, at: context.nowText)
    }

    mutating func ingest(_ inputs: [SnapshotInput], order: SnapshotOrder) throws {
        let progress = ProgressReporter(label: command, total: inputs.count)
        defer { progress.finish() }
        var ordered: [(Int64, SnapshotInput)] = []
        for input in inputs {
            progress.advance(by: 1)
            if let id = try ingestOne(input) {
                ordered.append((id, input))
            }
        }
        try context.db.transaction { _ in
            try assignSequence(ordered, order: order)
            try analyseSequence()
        }
    }

    /// Returns the snapshot id (new or known), or nil when rejected.
    mutating func ingestOne(_ input: SnapshotInput) throws -> Int64? {
        let hash = SHA256.hex(input.bytes)
        if let first = seenInRun[hash] {
            sameAsEarlier += 1
            context.info("\(input.displayPath): same snapshot as \(first); counted once")
            return try snapshots.id(sha256: hash)
        }
        seenInRun[hash] = input.displayPath
        if let id = try snapshots.id(sha256: hash) {
            alreadyKnown += 1
            touched.append(id)
            try upgradeSignature(id: id, input: input)
            return id
        }
        let reading = ListReader.read(input.bytes)
        guard let list = reading.list else {
            let problem = reading.rejection.map { $0.detail } ?? "not a usable policy list"
            try reject(path: input.displayPath, error: "\(input.displayPath): \(problem)", bytes: input.bytes)
            return nil
        }
        let signature = try checkSignature(input)
        let id = try context.db.transaction { db -> Int64 in
            try context.blobs.put(input.bytes)
            let ascHash = try input.asc.map { try context.blobs.put($0).hash }
            let id = try snapshots.insert(
                NewSnapshot(
                    sha256: hash, name: input.name, source: input.displayPath, list: list,
                    rawPolicyKeys: reading.rawPolicyKeys,
                    contentSHA256: SHA256.hex(ListWriter.contentBytes(list)), anomalies: reading.anomalies,
                    signature: signature.status, signatureDetail: signature.detail, signatureCreated: signature.created,
                    signatureFingerprint: signature.fingerprint, ascSHA256: ascHash, commit: input.commit),
                ingestedAt: context.nowText)
            try snapshots.addAnomalies(signature.anomalies, to: id, origin: "signature")
            if let landed = input.landed {
                try db.execute(
                    "UPDATE snapshots SET landed_s = ?, landed_raw = ? WHERE id = ?",
                    [.int(landed.seconds), SQLValue(input.landedRaw), .int(id)])
            }
            return id
        }
        accepted += 1
        warnings += reading.anomalies.count
        touched.append(id)
        acceptedIDs.insert(id)
        for anomaly in reading.anomalies where anomaly.kind == "duplicate-key" {
            context.info("\(input.displayPath): warning: \(anomaly.detail)")
        }
        return id
    }

    struct SignatureOutcome {
        var status: SignatureStatus
        var detail: String?
        var created: Int64?
        var fingerprint: String?
        var anomalies: [Anomaly]
    }

    func checkSignature(_ input: SnapshotInput) throws -> SignatureOutcome {
        guard let asc = input.asc else {
            return SignatureOutcome(
                status: .missing, detail: nil, created: nil, fingerprint: nil,
                anomalies: [Anomaly("unsigned", .warning, "no detached signature (.asc) next to it")])
        }
        guard let keyring else {
            return SignatureOutcome(
                status: .notChecked, detail: "no --keyring given", created: nil, fingerprint: nil, anomalies: [])
        }
        let check = try verifyDetached(data: input.bytes, signature: asc, keyring: keyring)
        switch check {
        case .good(let fingerprint, let primary, let created):
            return SignatureOutcome(
                status: .good, detail: "primary key \(primary)", created: created, fingerprint: fingerprint,
                anomalies: [])
        case .bad(let reason):
            return SignatureOutcome(
                status: .bad, detail: reason, created: nil, fingerprint: nil,
                anomalies: [Anomaly("signature-bad", .warning, "the .asc does not verify these bytes: \(reason)")])
        case .unknownKey(let keyID):
            return SignatureOutcome(
                status: .unknownKey, detail: keyID, created: nil, fingerprint: nil,
                anomalies: [Anomaly("signature-unknown-key", .warning, "signed by key \(keyID), not in the keyring")])
        case .error(let message):
            return SignatureOutcome(
                status: .error, detail: message, created: nil, fingerprint: nil,
                anomalies: [Anomaly("signature-error", .warning, "gpgv: \(message)")])
        }
    }

    /// A snapshot first ingested without a keyring gets its signature checked when one is given later.
    func upgradeSignature(id: Int64, input: SnapshotInput) throws {
        guard keyring != nil, input.asc != nil else { return }
        let current = try context.db.scalar("SELECT signature FROM snapshots WHERE id = ?", [.int(id)], as: String.self)
        guard current == SignatureStatus.notChecked.rawValue else { return }
        let outcome = try checkSignature(input)
        try context.db.transaction { db in
            let ascHash = try input.asc.map { try context.blobs.put($0).hash }
            try snapshots.setSignature(
                id: id, status: outcome.status, detail: outcome.detail, created: outcome.created,
                fingerprint: outcome.fingerprint, asc: ascHash)
            try db.execute("DELETE FROM snapshot_anomalies WHERE snapshot_id = ? AND origin = 'signature'", [.int(id)])
            try snapshots.addAnomalies(outcome.anomalies, to: id, origin: "signature")
        }
    }

    mutating func assignSequence(_ items: [(Int64, SnapshotInput)], order: SnapshotOrder) throws {
        switch order {
        case .sequenceFile(let path):
            let table = try SequenceFile.read(path)
            for (id, input) in items {
                guard let row = table[input.name] else {
                    warnings += 1
                    context.info("\(input.displayPath): not in \(path); kept off the publication sequence")
                    continue
                }
                try snapshots.setSequence(id: id, pubSeq: row.seq, landed: row.landed, landedRaw: row.landedRaw)
            }
        case .name, .given, .timestamp:
            var fresh: [(Int64, SnapshotInput)] = []
            var seen = Set<Int64>()
            let sequenced = Set(try snapshots.published().map(\.id))
            for item in items where !sequenced.contains(item.0) && seen.insert(item.0).inserted { fresh.append(item) }
            if order == .timestamp {
                let records = Dictionary(try snapshots.all().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                fresh.sort {
                    (records[$0.0]?.timestamp ?? Instant(seconds: 0), $0.1.name)
                        < (records[$1.0]?.timestamp ?? Instant(seconds: 0), $1.1.name)
                }
            }
            var next = try snapshots.maxSequence()
            for (id, input) in fresh {
                next += 1
                try snapshots.setSequence(id: id, pubSeq: next, landed: input.landed, landedRaw: input.landedRaw)
            }
        }
    }

    func analyseSequence() throws {
        let published = try snapshots.published()
        var versions: [SequencedVersion] = []
        for record in published {
            guard case .success(let timestamp) = TimestampParser.parse(string: record.timestampRaw),
                case .success(let expires) = TimestampParser.parse(string: record.expiresRaw)
            else { continue }
            versions.append(
                SequencedVersion(
                    label: record.name, timestamp: timestamp, expires: expires, landed: record.landed,
                    contentKey: record.contentSHA256))
        }
        let (anomalies, lapses) = SequenceAnalysis.analyze(versions)
        var byID: [Int64: [Anomaly]] = [:]
        for (index, list) in anomalies { byID[published[index].id] = list }
        try snapshots.replaceSequenceAnalysis(
            anomalies: byID,
            lapses: lapses.map { (published[$0.expiredIndex].id, published[$0.nextIndex].id, $0) })
    }

    func outcome() -> StageOutcome {
        let kinds = (try? snapshots.anomalyKinds()) ?? [:]
        var anomalyCounts: [String: Int] = [:]
        var signatureCounts: [SignatureStatus: Int] = [:]
        let records = Dictionary(((try? snapshots.all()) ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for id in Set(touched) {
            for kind in kinds[id] ?? [] { anomalyCounts[kind, default: 0] += 1 }
            if let record = records[id] { signatureCounts[record.signature, default: 0] += 1 }
        }
        let summary: JSONValue = .object([
            JSONMember("schemaVersion", 1), JSONMember("command", .string(command)),
            JSONMember("accepted", .int(accepted)), JSONMember("alreadyKnown", .int(alreadyKnown)),
            JSONMember(
                "rejected",
                .array(rejected.map { .object(["path": .string($0.path), "error": .string($0.error)]) })),
            JSONMember("warnings", .int(warnings)), JSONMember("duplicateInputs", .int(sameAsEarlier)),
            JSONMember(
                "signatures",
                .object([
                    "good": .int(signatureCounts[.good] ?? 0), "bad": .int(signatureCounts[.bad] ?? 0),
                    "missing": .int(signatureCounts[.missing] ?? 0),
                    "unknownKey": .int(signatureCounts[.unknownKey] ?? 0),
                    "notChecked": .int(signatureCounts[.notChecked] ?? 0), "error": .int(signatureCounts[.error] ?? 0),
                ])),
            JSONMember(
                "anomalies",
                .object(anomalyCounts.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) })),
        ])
        var human = rejected.map { "rejected: \($0.error)" }
        human.append(
            "\(command): \(accepted) accepted, \(alreadyKnown) already known, \(rejected.count) rejected; signatures "
                + "\(signatureCounts[.good] ?? 0) good, \(signatureCounts[.bad] ?? 0) bad, "
                + "\(signatureCounts[.missing] ?? 0) missing, \(signatureCounts[.unknownKey] ?? 0) unknown key")
        return StageOutcome(summary: summary, human: human, exitCode: rejected.isEmpty ? .ok : .dataError)
    }
}

/// The `--sequence` TSV: `file`, `master_tip_seq` (empty = never published), optional `landed_on_master_utc`.
enum SequenceFile {
    struct Row {
        var seq: Int?
        var landed: Instant?
        var landedRaw: String?
    }

    static func read(_ path: String) throws -> [String: Row] {
        let bytes = try readInputFile(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CommandError(.dataError, "\(path): not UTF-8 text")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        guard let header = lines.first, let fileColumn = header.firstIndex(of: "file"),
            let seqColumn = header.firstIndex(of: "master_tip_seq")
        else {
            throw CommandError(
                .dataError, "\(path): line 1: expected a header with 'file' and 'master_tip_seq' columns")
        }
        let landedColumn = header.firstIndex(of: "landed_on_master_utc")
        var out: [String: Row] = [:]
        for (index, fields) in lines.enumerated().dropFirst() {
            guard fields.count == header.count else {
                throw CommandError(
                    .dataError, "\(path): line \(index + 1): \(fields.count) columns; expected \(header.count)")
            }
            let seqText = fields[seqColumn]
            var row = Row()
            if !seqText.isEmpty {
                guard let seq = Int(seqText), seq > 0 else {
                    throw CommandError(
                        .dataError, "\(path): line \(index + 1): master_tip_seq '\(seqText)' is not a positive integer")
                }
                row.seq = seq
            }
            if let landedColumn, !fields[landedColumn].isEmpty {
                row.landedRaw = fields[landedColumn]
                row.landed = (try? TimestampParser.parse(string: fields[landedColumn]).get())?.instant
            }
            out[fields[fileColumn]] = row
        }
        return out
    }
}
