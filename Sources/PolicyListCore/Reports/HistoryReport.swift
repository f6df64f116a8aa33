/// What kind of change a version made relative to the version it is compared with.
public enum VersionChange: String, Sendable, Hashable, CaseIterable {
    /// The first published version (nothing to compare with).
    case first
    /// Aliases or policies changed (raw content).
    case policies
    /// The same entries and aliases in a different document order (nothing else but timestamps changed).
    case reorderOnly = "reorder-only"
    /// Only other top-level fields changed (`version`, `author`, a dropped `pinsets`).
    case metadata
    /// Only `timestamp`/`expires` changed.
    case timestampOnly = "timestamp-only"
    /// Nothing parsed differs (whitespace or key formatting only).
    case formatOnly = "format-only"
}

/// One row of the history report: a version and how it differs from its basis.
public struct HistoryRow: Sendable {
    /// The version.
    public let input: HistoryVersionInput
    /// The version it is compared with (the previous published version; for an off-sequence version the
    /// published version current at its `timestamp`), nil for the first.
    public let basis: String?
    /// What kind of change this is.
    public let change: VersionChange
    /// The domain-level differences.
    public let diff: ListDiff
    /// Effective mode counts (aliases resolved): enforce.
    public let effectiveEnforce: Int
    /// Effective testing.
    public let effectiveTesting: Int
    /// Seconds between `timestamp` and `expires`.
    public let windowSeconds: Double
    /// Seconds from `timestamp` to the signature's creation (positive: signed after the timestamp).
    public let signatureLagSeconds: Double?
    /// The lapse that ended with this version's publication, if any.
    public let lapseBefore: HistoryLapse?

    /// Whether the version is in the published sequence.
    public var published: Bool { input.pubSeq != nil }
}

/// A period when the newest published list had already expired.
public struct HistoryLapse: Sendable, Equatable {
    /// The version that had expired.
    public let expiredName: String
    /// Its place in the sequence.
    public let expiredSeq: Int
    /// The version whose publication ended the lapse.
    public let nextName: String
    /// Its place in the sequence.
    public let nextSeq: Int
    /// The expired version's `expires`.
    public let from: Instant
    /// When the next version was published (landing time, else its `timestamp`).
    public let until: Instant
    /// Whether `until` is a landing time (true) or only the next version's `timestamp` (false).
    public let untilIsLanding: Bool

    /// Length in seconds.
    public var seconds: Double { until.secondsDouble(since: from) }
}

/// A domain's time from addition to `enforce`.
public struct TimeToEnforce: Sendable, Equatable {
    /// The domain.
    public let domain: String
    /// The version that (last) added it before it became enforce.
    public let addedSeq: Int
    /// The version in which it first became enforce.
    public let enforcedSeq: Int
    /// Seconds between the two publications.
    public let seconds: Double
}

/// A domain that left the published list and came back.
public struct ReturnEpisode: Sendable, Equatable {
    /// The domain.
    public let domain: String
    /// The first version without it.
    public let goneSeq: Int
    /// The version that listed it again.
    public let backSeq: Int
}

/// A sequence irregularity worth its own line (from the stored sequence anomalies).
public struct TimestampIrregularity: Sendable, Equatable {
    /// Anomaly kind (`timestamp-not-bumped`, `timestamp-backwards`, `expired-when-published`).
    public let kind: String
    /// The version.
    public let name: String
    /// Its place in the sequence.
    public let seq: Int
    /// Its `timestamp` as written.
    public let timestampRaw: String
    /// When it was published.
    public let publishedAt: Instant
    /// The stored detail.
    public let detail: String
}

/// Figures across the published sequence.
public struct HistorySummary: Sendable {
    /// Number of published versions.
    public var publishedVersions = 0
    /// Number of off-sequence versions.
    public var offSequenceVersions = 0
    /// First and last published version's `timestamp`.
    public var firstTimestamp: Instant?
    /// The last published version's `timestamp`.
    public var lastTimestamp: Instant?
    /// The last published version's `expires`.
    public var lastExpires: Instant?
    /// Domains in the first published version.
    public var firstDomains = 0
    /// Domains in the last published version.
    public var finalDomains = 0
    /// Largest published list.
    public var maxDomains = 0
    /// Explicit enforce entries in the final list.
    public var finalEnforce = 0
    /// Explicit testing entries in the final list.
    public var finalTesting = 0
    /// Alias references in the final list.
    public var finalAliasReferences = 0
    /// Effective testing (explicit testing + alias references to testing aliases) in the final list.
    public var finalEffectiveTesting = 0
    /// Distinct domains in any published version.
    public var distinctDomains = 0
    /// Distinct domains published at some point but absent from the final list.
    public var goneFromFinal = 0
    /// Sum of additions over the sequence (the first version's domains not counted).
    public var added = 0
    /// Sum of removals.
    public var removed = 0
    /// Sum of effective changes, by kind.
    public var changed: [EntryChangeKind: Int] = [:]
    /// Sum of re-expressions, by kind.
    public var reExpressed: [ReExpressionKind: Int] = [:]
    /// Published versions by change kind.
    public var versionsByChange: [VersionChange: Int] = [:]
    /// Mode transitions testing → enforce along the sequence.
    public var testingToEnforce = 0
    /// Mode transitions enforce → testing.
    public var enforceToTesting = 0
    /// Time from addition to enforce, per domain that became enforce.
    public var timeToEnforce: [TimeToEnforce] = []
    /// Domains that left and came back.
    public var returns: [ReturnEpisode] = []
    /// The lapses, in order.
    public var lapses: [HistoryLapse] = []
    /// Timestamp and publication irregularities along the sequence.
    public var irregularities: [TimestampIrregularity] = []
    /// Signature status counts over published versions.
    public var publishedSignatures: [String: Int] = [:]
    /// Signature status counts over every version.
    public var allSignatures: [String: Int] = [:]
    /// Number of versions (all) carrying each anomaly kind.
    public var anomalyVersions: [String: Int] = [:]

    /// Sum of all effective changes.
    public var changedTotal: Int { changed.values.reduce(0, +) }
    /// Total lapse time in seconds.
    public var lapseSeconds: Double { lapses.reduce(0) { $0 + $1.seconds } }
}

/// The history report: every version with its differences, and figures across the published sequence.
public struct HistoryReport: Sendable {
    /// The schema version of the JSON output.
    public static let schemaVersion = 1
    /// When the report was generated (the run's clock).
    public let generatedAt: Instant
    /// Published versions in order, then off-sequence versions by `timestamp`.
    public let rows: [HistoryRow]
    /// Figures across the published sequence.
    public let summary: HistorySummary

    /// The published rows only.
    public var publishedRows: [HistoryRow] { rows.filter(\.published) }

    /// Builds the report from every ingested version (any order).
    public static func build(_ versions: [HistoryVersionInput], generatedAt: Instant) -> HistoryReport {
        let published = versions.filter { $0.pubSeq != nil }.sorted { ($0.pubSeq ?? 0) < ($1.pubSeq ?? 0) }
        let offSequence = versions.filter { $0.pubSeq == nil }.sorted {
            ($0.list.timestamp.instant, $0.name) < ($1.list.timestamp.instant, $1.name)
        }
        let lapses = computeLapses(published)
        var rows: [HistoryRow] = []
        var previous: HistoryVersionInput?
        for version in published {
            let lapse = lapses.first { $0.nextName == version.name && $0.nextSeq == version.pubSeq }
            rows.append(row(version, basis: previous, lapse: lapse))
            previous = version
        }
        for version in offSequence {
            let basis = published.last { $0.list.timestamp.instant <= version.list.timestamp.instant }
            rows.append(row(version, basis: basis, lapse: nil))
        }
        let summary = summarize(rows: rows, published: published, lapses: lapses)
        return HistoryReport(generatedAt: generatedAt, rows: rows, summary: summary)
    }

    static func row(_ version: HistoryVersionInput, basis: HistoryVersionInput?, lapse: HistoryLapse?) -> HistoryRow {
        let list = version.list
        let diff = ListDiff.compare(basis?.list, list)
        var enforce = 0
        var testing = 0
        for definition in list.effectiveByDomain().values {
            if definition.mode == .enforce { enforce += 1 } else { testing += 1 }
        }
        let change: VersionChange
        if let basis {
            let sameOrder = basis.list.aliases == list.aliases && basis.list.policies == list.policies
            let sameContent =
                sameOrder
                || (basis.list.policies.count == list.policies.count && Set(basis.list.policies) == Set(list.policies)
                    && basis.list.aliases.count == list.aliases.count && Set(basis.list.aliases) == Set(list.aliases))
            if !sameContent {
                change = .policies
            } else if basis.list.version != list.version || basis.list.author != list.author
                || Set(basis.topLevelKeys) != Set(version.topLevelKeys)
            {
                change = .metadata
            } else if !sameOrder {
                change = .reorderOnly
            } else if basis.list.timestamp.raw != list.timestamp.raw || basis.list.expires.raw != list.expires.raw {
                change = .timestampOnly
            } else {
                change = .formatOnly
            }
        } else {
            change = .first
        }
        return HistoryRow(
            input: version, basis: basis?.name, change: change, diff: diff, effectiveEnforce: enforce,
            effectiveTesting: testing,
            windowSeconds: list.expires.instant.secondsDouble(since: list.timestamp.instant),
            signatureLagSeconds: version.signatureCreated.map { $0.secondsDouble(since: list.timestamp.instant) },
            lapseBefore: lapse)
    }

    /// Lapses along the published sequence, by the same rule the ingest stage records them with.
    static func computeLapses(_ published: [HistoryVersionInput]) -> [HistoryLapse] {
        let sequenced = published.map {
            SequencedVersion(
                label: $0.name, timestamp: $0.list.timestamp, expires: $0.list.expires, landed: $0.landed,
                contentKey: "")
        }
        return SequenceAnalysis.analyze(sequenced).lapses.map { lapse in
            let expired = published[lapse.expiredIndex]
            let next = published[lapse.nextIndex]
            return HistoryLapse(
                expiredName: expired.name, expiredSeq: expired.pubSeq ?? 0, nextName: next.name,
                nextSeq: next.pubSeq ?? 0, from: lapse.from, until: lapse.until, untilIsLanding: next.landed != nil)
        }
    }

    static func summarize(rows: [HistoryRow], published: [HistoryVersionInput], lapses: [HistoryLapse])
        -> HistorySummary
    {
        var summary = HistorySummary()
        let publishedRows = rows.filter(\.published)
        summary.publishedVersions = published.count
        summary.offSequenceVersions = rows.count - published.count
        summary.firstTimestamp = published.first?.list.timestamp.instant
        summary.lastTimestamp = published.last?.list.timestamp.instant
        summary.lastExpires = published.last?.list.expires.instant
        if let last = publishedRows.last {
            let counts = last.input.list.modeCounts
            summary.finalDomains = EntryIndex(last.input.list).domains.count
            summary.finalEnforce = counts.enforce
            summary.finalTesting = counts.testing
            summary.finalAliasReferences = counts.aliasReferences
            summary.finalEffectiveTesting = last.effectiveTesting
        }
        summary.firstDomains = publishedRows.first.map { EntryIndex($0.input.list).domains.count } ?? 0
        summary.lapses = lapses
        for row in publishedRows {
            summary.maxDomains = max(summary.maxDomains, EntryIndex(row.input.list).domains.count)
            summary.versionsByChange[row.change, default: 0] += 1
            summary.publishedSignatures[row.input.signature, default: 0] += 1
            if row.change != .first {
                summary.added += row.diff.added.count
                summary.removed += row.diff.removed.count
            }
            for change in row.diff.changed {
                summary.changed[change.kind, default: 0] += 1
                if change.from.mode == .testing && change.to.mode == .enforce { summary.testingToEnforce += 1 }
                if change.from.mode == .enforce && change.to.mode == .testing { summary.enforceToTesting += 1 }
            }
            for item in row.diff.reExpressed { summary.reExpressed[item.kind, default: 0] += 1 }
            for anomaly in row.input.anomalies where anomaly.origin == "sequence" {
                guard ["timestamp-not-bumped", "timestamp-backwards", "expired-when-published"].contains(anomaly.kind)
                else { continue }
                summary.irregularities.append(
                    TimestampIrregularity(
                        kind: anomaly.kind, name: row.input.name, seq: row.input.pubSeq ?? 0,
                        timestampRaw: row.input.list.timestamp.raw, publishedAt: row.input.publishedAt,
                        detail: anomaly.detail))
            }
        }
        for row in rows {
            summary.allSignatures[row.input.signature, default: 0] += 1
            for kind in Set(row.input.anomalies.map(\.kind)) { summary.anomalyVersions[kind, default: 0] += 1 }
        }
        presence(published, into: &summary)
        return summary
    }

    /// Presence runs per domain: distinct domains, returns, and time from addition to enforce.
    static func presence(_ published: [HistoryVersionInput], into summary: inout HistorySummary) {
        var everSeen: Set<String> = []
        var present: Set<String> = []
        var lastGone: [String: Int] = [:]
        var runStart: [String: (seq: Int, at: Instant)] = [:]
        var enforced: Set<String> = []
        for version in published {
            let seq = version.pubSeq ?? 0
            let index = EntryIndex(version.list)
            let now = Set(index.domains)
            for domain in present.subtracting(now) { lastGone[domain] = seq }
            for domain in now.subtracting(present) {
                if everSeen.contains(domain), let gone = lastGone[domain] {
                    summary.returns.append(ReturnEpisode(domain: domain, goneSeq: gone, backSeq: seq))
                }
                runStart[domain] = (seq, version.publishedAt)
            }
            for domain in now where !enforced.contains(domain) && index.effective[domain]?.mode == .enforce {
                enforced.insert(domain)
                if let start = runStart[domain] {
                    summary.timeToEnforce.append(
                        TimeToEnforce(
                            domain: domain, addedSeq: start.seq, enforcedSeq: seq,
                            seconds: version.publishedAt.secondsDouble(since: start.at)))
                }
            }
            everSeen.formUnion(now)
            present = now
        }
        summary.distinctDomains = everSeen.count
        summary.goneFromFinal = everSeen.subtracting(present).count
        summary.returns.sort { ($0.backSeq, $0.domain) < ($1.backSeq, $1.domain) }
        summary.timeToEnforce.sort { ($0.enforcedSeq, $0.domain) < ($1.enforcedSeq, $1.domain) }
    }
}
