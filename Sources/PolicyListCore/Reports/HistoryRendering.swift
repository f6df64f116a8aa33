/// The history report's outputs: JSON (schema 1), CSV (one row per version) and the document for Markdown/HTML.
extension HistoryReport {
    /// Colours shared by the charts.
    enum Palette {
        static let enforce = "#1a7f37"
        static let testing = "#0969da"
        static let alias = "#8250df"
        static let added = "#2da44e"
        static let removed = "#cf222e"
        static let changed = "#bf8700"
    }

    /// The JSON document (`schemaVersion` first; key order fixed).
    public var json: JSONValue {
        .object([
            JSONMember("schemaVersion", .int(Self.schemaVersion)),
            JSONMember("report", "history"),
            JSONMember("generatedAt", .string(generatedAt.rfc3339)),
            JSONMember("summary", summaryJSON),
            JSONMember("versions", .array(rows.map(Self.rowJSON))),
        ])
    }

    static func seqLabel(_ seq: Int?) -> String { seq.map { "#\($0)" } ?? "off-sequence" }

    var summaryJSON: JSONValue {
        let s = summary
        let enforceDays = s.timeToEnforce.map { $0.seconds / 86_400 }
        return .object([
            JSONMember("publishedVersions", .int(s.publishedVersions)),
            JSONMember("offSequenceVersions", .int(s.offSequenceVersions)),
            JSONMember("firstTimestamp", .optional(s.firstTimestamp?.rfc3339)),
            JSONMember("lastTimestamp", .optional(s.lastTimestamp?.rfc3339)),
            JSONMember("lastExpires", .optional(s.lastExpires?.rfc3339)),
            JSONMember(
                "final",
                .object([
                    JSONMember("domains", .int(s.finalDomains)), JSONMember("enforce", .int(s.finalEnforce)),
                    JSONMember("testing", .int(s.finalTesting)),
                    JSONMember("aliasReferences", .int(s.finalAliasReferences)),
                    JSONMember("effectiveTesting", .int(s.finalEffectiveTesting)),
                ])),
            JSONMember(
                "growth",
                .object([
                    JSONMember("firstDomains", .int(s.firstDomains)), JSONMember("finalDomains", .int(s.finalDomains)),
                    JSONMember("netGrowth", .int(s.finalDomains - s.firstDomains)),
                    JSONMember("maxDomains", .int(s.maxDomains)),
                    JSONMember("distinctDomains", .int(s.distinctDomains)),
                    JSONMember("goneFromFinal", .int(s.goneFromFinal)),
                ])),
            JSONMember(
                "churn",
                .object([
                    JSONMember("added", .int(s.added)), JSONMember("removed", .int(s.removed)),
                    JSONMember("changed", .int(s.changedTotal)),
                    JSONMember(
                        "changedByKind",
                        .object(EntryChangeKind.allCases.map { JSONMember($0.rawValue, .int(s.changed[$0] ?? 0)) })),
                    JSONMember(
                        "reExpressedByKind",
                        .object(ReExpressionKind.allCases.map { JSONMember($0.rawValue, .int(s.reExpressed[$0] ?? 0)) })
                    ),
                    JSONMember(
                        "versionsByChange",
                        .object(
                            VersionChange.allCases.map { JSONMember($0.rawValue, .int(s.versionsByChange[$0] ?? 0)) })),
                ])),
            JSONMember(
                "modeTransitions",
                .object([
                    JSONMember("testingToEnforce", .int(s.testingToEnforce)),
                    JSONMember("enforceToTesting", .int(s.enforceToTesting)),
                ])),
            JSONMember(
                "timeToEnforce",
                .object([
                    JSONMember("domains", .int(s.timeToEnforce.count)),
                    JSONMember("minDays", enforceDays.min().map { ReportFormat.number($0) } ?? .null),
                    JSONMember("medianDays", ReportFormat.median(enforceDays).map { ReportFormat.number($0) } ?? .null),
                    JSONMember("maxDays", enforceDays.max().map { ReportFormat.number($0) } ?? .null),
                    JSONMember(
                        "items",
                        .array(
                            s.timeToEnforce.map {
                                .object([
                                    JSONMember("domain", .string($0.domain)), JSONMember("addedSeq", .int($0.addedSeq)),
                                    JSONMember("enforcedSeq", .int($0.enforcedSeq)),
                                    JSONMember("days", ReportFormat.number($0.seconds / 86_400)),
                                ])
                            })),
                ])),
            JSONMember(
                "returns",
                .array(
                    s.returns.map {
                        .object([
                            JSONMember("domain", .string($0.domain)), JSONMember("goneSeq", .int($0.goneSeq)),
                            JSONMember("backSeq", .int($0.backSeq)),
                        ])
                    })),
            JSONMember(
                "lapses",
                .object([
                    JSONMember("count", .int(s.lapses.count)),
                    JSONMember("totalSeconds", ReportFormat.number(s.lapseSeconds)),
                    JSONMember("totalDays", ReportFormat.number(s.lapseSeconds / 86_400)),
                    JSONMember(
                        "longestSeconds", s.lapses.map(\.seconds).max().map { ReportFormat.number($0) } ?? .null),
                    JSONMember("items", .array(s.lapses.map(Self.lapseJSON))),
                ])),
            JSONMember(
                "irregularities",
                .array(
                    s.irregularities.map {
                        .object([
                            JSONMember("kind", .string($0.kind)), JSONMember("seq", .int($0.seq)),
                            JSONMember("name", .string($0.name)), JSONMember("timestamp", .string($0.timestampRaw)),
                            JSONMember("publishedAt", .string($0.publishedAt.rfc3339)),
                            JSONMember("detail", .string($0.detail)),
                        ])
                    })),
            JSONMember(
                "signatures",
                .object([
                    JSONMember("published", Self.countsJSON(s.publishedSignatures)),
                    JSONMember("all", Self.countsJSON(s.allSignatures)),
                ])),
            JSONMember("anomalyVersions", Self.countsJSON(s.anomalyVersions)),
        ])
    }

    static func countsJSON(_ counts: [String: Int]) -> JSONValue {
        .object(counts.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) })
    }

    static func lapseJSON(_ lapse: HistoryLapse) -> JSONValue {
        .object([
            JSONMember("expiredSeq", .int(lapse.expiredSeq)), JSONMember("expiredName", .string(lapse.expiredName)),
            JSONMember("nextSeq", .int(lapse.nextSeq)), JSONMember("nextName", .string(lapse.nextName)),
            JSONMember("from", .string(lapse.from.rfc3339)), JSONMember("until", .string(lapse.until.rfc3339)),
            JSONMember("untilIs", .string(lapse.untilIsLanding ? "landing" : "timestamp")),
            JSONMember("seconds", ReportFormat.number(lapse.seconds)),
            JSONMember("days", ReportFormat.number(lapse.seconds / 86_400)),
        ])
    }

    static func definitionJSON(_ definition: PolicyDefinition) -> JSONValue {
        .object([JSONMember("mode", .string(definition.mode.rawValue)), JSONMember("mxs", .strings(definition.mxs))])
    }

    static func rowJSON(_ row: HistoryRow) -> JSONValue {
        let version = row.input
        let list = version.list
        let counts = list.modeCounts
        return .object([
            JSONMember("seq", version.pubSeq.map { .int($0) } ?? .null),
            JSONMember("name", .string(version.name)),
            JSONMember("published", .bool(row.published)),
            JSONMember("sha256", .string(version.sha256)),
            JSONMember("bytes", .int(version.byteCount)),
            JSONMember("commit", .optional(version.commit)),
            JSONMember("basis", .optional(row.basis)),
            JSONMember("change", .string(row.change.rawValue)),
            JSONMember(
                "timestamp",
                .object([
                    JSONMember("raw", .string(list.timestamp.raw)),
                    JSONMember("utc", .string(list.timestamp.instant.rfc3339)),
                ])),
            JSONMember(
                "expires",
                .object([
                    JSONMember("raw", .string(list.expires.raw)),
                    JSONMember("utc", .string(list.expires.instant.rfc3339)),
                ])),
            JSONMember("windowSeconds", ReportFormat.number(row.windowSeconds)),
            JSONMember("landed", .optional(version.landed?.rfc3339)),
            JSONMember("version", .optional(list.version)),
            JSONMember("author", .optional(list.author)),
            JSONMember("domains", .int(EntryIndex(list).domains.count)),
            JSONMember("enforce", .int(counts.enforce)),
            JSONMember("testing", .int(counts.testing)),
            JSONMember("aliasReferences", .int(counts.aliasReferences)),
            JSONMember(
                "effective",
                .object([
                    JSONMember("enforce", .int(row.effectiveEnforce)),
                    JSONMember("testing", .int(row.effectiveTesting)),
                ])),
            JSONMember("aliases", .strings(list.aliases.map(\.name))),
            JSONMember("added", .int(row.change == .first ? 0 : row.diff.added.count)),
            JSONMember("removed", .int(row.diff.removed.count)),
            JSONMember("changed", .int(row.diff.changed.count)),
            JSONMember(
                "changedByKind",
                .object(EntryChangeKind.allCases.map { JSONMember($0.rawValue, .int(row.diff.count($0))) })),
            JSONMember(
                "reExpressedByKind",
                .object(ReExpressionKind.allCases.map { JSONMember($0.rawValue, .int(row.diff.count($0))) })),
            JSONMember("addedDomains", .strings(row.change == .first ? [] : row.diff.added)),
            JSONMember("removedDomains", .strings(row.diff.removed)),
            JSONMember(
                "changedDomains",
                .array(
                    row.diff.changed.map {
                        .object([
                            JSONMember("domain", .string($0.domain)), JSONMember("kind", .string($0.kind.rawValue)),
                            JSONMember("from", definitionJSON($0.from)), JSONMember("to", definitionJSON($0.to)),
                        ])
                    })),
            JSONMember(
                "reExpressedDomains",
                .array(
                    row.diff.reExpressed.map {
                        .object([
                            JSONMember("domain", .string($0.domain)), JSONMember("kind", .string($0.kind.rawValue)),
                        ])
                    })),
            JSONMember(
                "signature",
                .object([
                    JSONMember("status", .string(version.signature)),
                    JSONMember("created", .optional(version.signatureCreated?.rfc3339)),
                    JSONMember("lagSeconds", row.signatureLagSeconds.map { ReportFormat.number($0) } ?? .null),
                ])),
            JSONMember("lapseBefore", row.lapseBefore.map(lapseJSON) ?? .null),
            JSONMember(
                "anomalies",
                .array(
                    version.anomalies.map {
                        .object([
                            JSONMember("origin", .string($0.origin)), JSONMember("kind", .string($0.kind)),
                            JSONMember("severity", .string($0.severity)), JSONMember("detail", .string($0.detail)),
                        ])
                    })),
        ])
    }

    /// CSV columns, one row per version.
    public static let csvColumns = [
        "seq", "name", "where", "basis", "change", "timestamp", "timestamp_utc", "expires", "expires_utc",
        "window_days", "landed_utc", "domains", "enforce", "testing", "alias_refs", "aliases", "effective_enforce",
        "effective_testing", "added", "removed", "changed", "changed_mode", "changed_mxs", "changed_mode_mxs",
        "changed_mx_case_only", "reexpressed_mx_order_only", "reexpressed_alias", "reexpressed_key_case",
        "signature", "signature_created_utc", "signature_lag_days", "lapse_before_days", "anomalies", "author",
        "sha256",
    ]

    /// The CSV document.
    public var csv: String {
        ReportEscape.csvDocument(columns: Self.csvColumns, rows: rows.map(Self.csvRow))
    }

    static func csvRow(_ row: HistoryRow) -> [String] {
        let version = row.input
        let list = version.list
        let counts = list.modeCounts
        let diff = row.diff
        return [
            version.pubSeq.map(String.init) ?? "", version.name, row.published ? "published" : "off-sequence",
            row.basis ?? "", row.change.rawValue, list.timestamp.raw, list.timestamp.instant.rfc3339, list.expires.raw,
            list.expires.instant.rfc3339, ReportFormat.days(row.windowSeconds), version.landed?.rfc3339 ?? "",
            String(EntryIndex(list).domains.count), String(counts.enforce), String(counts.testing),
            String(counts.aliasReferences), list.aliases.map(\.name).joined(separator: ";"),
            String(row.effectiveEnforce), String(row.effectiveTesting),
            String(row.change == .first ? 0 : diff.added.count), String(diff.removed.count), String(diff.changed.count),
            String(diff.count(.mode)), String(diff.count(.mxs)), String(diff.count(.modeAndMxs)),
            String(diff.count(.mxCaseOnly)), String(diff.count(.mxOrderOnly)), String(diff.count(.alias)),
            String(diff.count(.keyCase)), version.signature, version.signatureCreated?.rfc3339 ?? "",
            row.signatureLagSeconds.map(ReportFormat.days) ?? "",
            row.lapseBefore.map { ReportFormat.days($0.seconds) } ?? "",
            Array(Set(version.anomalies.map(\.kind))).sorted().joined(separator: ";"), list.author ?? "",
            version.sha256,
        ]
    }
}
