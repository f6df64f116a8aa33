/// The history report laid out for people (rendered to Markdown and HTML).
extension HistoryReport {
    /// The document.
    public var document: ReportDocument {
        let s = summary
        let published = publishedRows
        let offSequence = rows.filter { !$0.published }
        var preface = ["Generated \(generatedAt.rfc3339Seconds). Figures are defined in docs/statistics.md."]
        if let first = s.firstTimestamp, let last = s.lastTimestamp {
            preface.append(
                "\(s.publishedVersions) published versions from \(ReportFormat.date(first)) to \(ReportFormat.date(last)); "
                    + "\(s.offSequenceVersions) off-sequence versions (never published) listed separately.")
        }
        var sections: [ReportSection] = []
        sections.append(ReportSection("Overview", [.facts(overviewFacts)]))
        sections.append(
            ReportSection(
                "Growth and churn",
                [
                    .chart(sizeChart(published)), .chart(churnChart(published)),
                    .facts(churnFacts),
                ]))
        sections.append(ReportSection("Lapses", lapseBlocks(published)))
        sections.append(ReportSection("Timestamp and publication irregularities", irregularityBlocks))
        sections.append(
            ReportSection(
                "Published versions",
                [
                    .paragraph(
                        "Differences are against the previous published version, aliases resolved. "
                            + "+ added, − removed, ~ changed effective policy (mode or MX set, case-only included); "
                            + "case = MX case-only changes; order = MX order-only re-expressions; alias = moved into or "
                            + "out of an alias with the same effective policy."),
                    .table(versionTable(published, showBasis: false)),
                ]))
        sections.append(
            ReportSection(
                "Off-sequence versions",
                [
                    .paragraph(
                        "Ingested versions that never became the published list (side branches, forks, intermediate "
                            + "commits). Each is compared with the published version current at its timestamp; none of "
                            + "their figures enter the cross-version totals."),
                    .table(versionTable(offSequence, showBasis: true)),
                ]))
        sections.append(ReportSection("Changes by version", [.list(changeLines(published))]))
        sections.append(ReportSection("Time from addition to enforce", enforceBlocks))
        sections.append(
            ReportSection(
                "Domains that left and came back",
                [
                    .table(
                        ReportTable(
                            columns: ["domain", "gone at", "back at"],
                            rows: s.returns.map { [$0.domain, "#\($0.goneSeq)", "#\($0.backSeq)"] }))
                ]))
        sections.append(ReportSection("Signatures", signatureBlocks))
        sections.append(
            ReportSection(
                "Anomalies",
                [
                    .table(
                        ReportTable(
                            columns: ["kind", "versions"],
                            rows: s.anomalyVersions.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] },
                            numeric: [1]))
                ]))
        return ReportDocument(title: "STARTTLS policy list: history", preface: preface, sections: sections)
    }

    var finalList: PolicyList? { publishedRows.last?.input.list }

    var overviewFacts: [(String, String)] {
        let s = summary
        return [
            ("published versions", String(s.publishedVersions)),
            ("off-sequence versions", String(s.offSequenceVersions)),
            ("first published timestamp", s.firstTimestamp?.rfc3339 ?? "-"),
            ("last published timestamp", s.lastTimestamp?.rfc3339 ?? "-"),
            ("last expires", s.lastExpires?.rfc3339 ?? "-"),
            ("final list: domains", String(s.finalDomains)),
            ("final list: enforce entries", String(s.finalEnforce)),
            ("final list: testing entries", String(s.finalTesting)),
            ("final list: alias references", String(s.finalAliasReferences)),
            ("final list: effective testing (aliases resolved)", String(s.finalEffectiveTesting)),
            ("final list: aliases", finalList?.aliases.map(\.name).joined(separator: ", ") ?? "-"),
            ("final list: author", finalList?.author ?? "-"),
            ("lapses", "\(s.lapses.count), \(ReportFormat.days(s.lapseSeconds)) days in total"),
        ]
    }

    var churnFacts: [(String, String)] {
        let s = summary
        var out: [(String, String)] = [
            ("domains in the first published version", String(s.firstDomains)),
            ("domains in the final version", String(s.finalDomains)),
            ("largest published list", String(s.maxDomains)),
            ("distinct domains ever published", String(s.distinctDomains)),
            ("published once, absent from the final list", String(s.goneFromFinal)),
            ("additions (after the first version)", String(s.added)),
            ("removals", String(s.removed)),
            ("effective changes", String(s.changedTotal)),
        ]
        for kind in EntryChangeKind.allCases {
            out.append(("  changes: \(kind.rawValue)", String(s.changed[kind] ?? 0)))
        }
        for kind in ReExpressionKind.allCases {
            out.append(("  re-expressed: \(kind.rawValue)", String(s.reExpressed[kind] ?? 0)))
        }
        out.append(("mode transitions testing → enforce", String(s.testingToEnforce)))
        out.append(("mode transitions enforce → testing", String(s.enforceToTesting)))
        for change in VersionChange.allCases {
            out.append(("versions: \(change.rawValue)", String(s.versionsByChange[change] ?? 0)))
        }
        return out
    }

    func sizeChart(_ published: [HistoryRow]) -> ReportChart {
        .stackedSteps(
            title: "List size by mode over time (published versions; aliases counted separately)",
            x: published.map(\.input.publishedAt),
            series: [
                ChartSeries(
                    name: "enforce", color: Palette.enforce,
                    values: published.map { Double($0.input.list.modeCounts.enforce) }),
                ChartSeries(
                    name: "testing", color: Palette.testing,
                    values: published.map { Double($0.input.list.modeCounts.testing) }),
                ChartSeries(
                    name: "via alias", color: Palette.alias,
                    values: published.map { Double($0.input.list.modeCounts.aliasReferences) }),
            ],
            until: published.last.map { max($0.input.list.expires.instant, $0.input.publishedAt) })
    }

    func churnChart(_ published: [HistoryRow]) -> ReportChart {
        .divergingBars(
            title: "Additions, changes and removals per published version",
            labels: published.map { "#\($0.input.pubSeq ?? 0)" },
            up: [
                ChartSeries(
                    name: "added", color: Palette.added,
                    values: published.map { Double($0.change == .first ? 0 : $0.diff.added.count) }),
                ChartSeries(
                    name: "changed", color: Palette.changed, values: published.map { Double($0.diff.changed.count) }),
            ],
            down: [
                ChartSeries(
                    name: "removed", color: Palette.removed, values: published.map { Double($0.diff.removed.count) })
            ])
    }

    func lapseBlocks(_ published: [HistoryRow]) -> [ReportBlock] {
        let s = summary
        var blocks: [ReportBlock] = [
            .paragraph(
                "A lapse is a period when the newest published list had already expired: from its expires until the "
                    + "next version was published (landing time when known, else its timestamp). "
                    + "\(s.lapses.count) lapses, \(ReportFormat.days(s.lapseSeconds)) days in total.")
        ]
        if let first = published.first, let last = published.last {
            let start = first.input.publishedAt
            let end = max(last.input.list.expires.instant, last.input.publishedAt)
            blocks.append(
                .chart(
                    .timeline(
                        title: "Lapse intervals on a time line (red), publications (blue ticks)", start: start,
                        end: end,
                        intervals: s.lapses.map {
                            ChartInterval(
                                label: "#\($0.expiredSeq) expired, #\($0.nextSeq) published", from: $0.from,
                                until: $0.until)
                        },
                        marks: published.map(\.input.publishedAt))))
        }
        blocks.append(
            .table(
                ReportTable(
                    columns: [
                        "#", "expired version", "expired at", "next version", "next published", "length", "days",
                    ],
                    rows: s.lapses.enumerated().map { index, lapse in
                        [
                            String(index + 1), "#\(lapse.expiredSeq) \(lapse.expiredName)", lapse.from.rfc3339Seconds,
                            "#\(lapse.nextSeq) \(lapse.nextName)",
                            lapse.until.rfc3339Seconds + (lapse.untilIsLanding ? "" : " (timestamp)"),
                            ReportFormat.duration(lapse.seconds), ReportFormat.days(lapse.seconds),
                        ]
                    }, numeric: [0, 6])))
        return blocks
    }

    var irregularityBlocks: [ReportBlock] {
        let items = summary.irregularities.map {
            "#\($0.seq) \($0.name) (published \($0.publishedAt.rfc3339Seconds), timestamp \($0.timestampRaw)): "
                + "\($0.kind): \($0.detail)"
        }
        return [.list(items.isEmpty ? ["none"] : items)]
    }

    func versionTable(_ rows: [HistoryRow], showBasis: Bool) -> ReportTable {
        var columns = [
            "#", "version", "timestamp", "expires", "window", "landed", "domains", "enforce", "testing", "alias refs",
            "+", "−", "~", "case", "order", "alias", "change", "signature", "signed", "anomalies",
        ]
        if showBasis { columns.insert("compared with", at: 2) }
        let table = rows.map { row -> [String] in
            let version = row.input
            let list = version.list
            let counts = list.modeCounts
            let seq: String = version.pubSeq.map { "#\($0)" } ?? "off"
            let added: Int = row.change == .first ? 0 : row.diff.added.count
            let anomalies: String = Array(Set(version.anomalies.map(\.kind))).sorted().joined(separator: ", ")
            var cells: [String] = [seq, version.name, list.timestamp.raw, list.expires.raw]
            cells.append(ReportFormat.duration(row.windowSeconds))
            cells.append(version.landed?.rfc3339Seconds ?? "")
            cells += [String(EntryIndex(list).domains.count), String(counts.enforce), String(counts.testing)]
            cells += [String(counts.aliasReferences), String(added), String(row.diff.removed.count)]
            cells += [String(row.diff.changed.count), String(row.diff.count(.mxCaseOnly))]
            cells += [String(row.diff.count(.mxOrderOnly)), String(row.diff.count(.alias)), row.change.rawValue]
            cells += [version.signature, version.signatureCreated?.rfc3339Seconds ?? "", anomalies]
            if showBasis { cells.insert(row.basis ?? "", at: 2) }
            return cells
        }
        let offset = showBasis ? 1 : 0
        return ReportTable(columns: columns, rows: table, numeric: Set((6...15).map { $0 + offset }))
    }

    func changeLines(_ published: [HistoryRow]) -> [String] {
        func sample(_ domains: [String]) -> String {
            domains.count <= 12
                ? domains.joined(separator: ", ")
                : domains.prefix(12).joined(separator: ", ") + ", … (\(domains.count))"
        }
        var lines: [String] = []
        for row in published where row.change != .first {
            let diff = row.diff
            guard !diff.added.isEmpty || !diff.removed.isEmpty || !diff.changed.isEmpty || !diff.reExpressed.isEmpty
            else { continue }
            var parts = [
                "#\(row.input.pubSeq ?? 0) \(row.input.name): +\(diff.added.count) −\(diff.removed.count) ~\(diff.changed.count)"
            ]
            if !diff.added.isEmpty { parts.append("added: " + sample(diff.added)) }
            if !diff.removed.isEmpty { parts.append("removed: " + sample(diff.removed)) }
            if !diff.changed.isEmpty {
                let kinds = EntryChangeKind.allCases.compactMap { kind -> String? in
                    let n = diff.count(kind)
                    return n == 0 ? nil : "\(kind.rawValue) \(n)"
                }
                parts.append("changed (\(kinds.joined(separator: ", "))): " + sample(diff.changed.map(\.domain)))
            }
            if !diff.reExpressed.isEmpty {
                parts.append("re-expressed: " + sample(diff.reExpressed.map { "\($0.domain) (\($0.kind.rawValue))" }))
            }
            lines.append(parts.joined(separator: "; "))
        }
        return lines.isEmpty ? ["no domain-level changes"] : lines
    }

    var enforceBlocks: [ReportBlock] {
        let items = summary.timeToEnforce
        let days = items.map { $0.seconds / 86_400 }
        var groups: [String: (count: Int, minDays: Double, maxDays: Double)] = [:]
        for item in items {
            let key = "#\(item.addedSeq) → #\(item.enforcedSeq)"
            let d = item.seconds / 86_400
            let current = groups[key] ?? (0, d, d)
            groups[key] = (current.count + 1, min(current.minDays, d), max(current.maxDays, d))
        }
        let rows = items.reduce(into: [String]()) { keys, item in
            let key = "#\(item.addedSeq) → #\(item.enforcedSeq)"
            if !keys.contains(key) { keys.append(key) }
        }.compactMap { key -> [String]? in
            guard let group = groups[key] else { return nil }
            return [
                key, String(group.count), ReportFormat.decimal(group.minDays, digits: 2),
                ReportFormat.decimal(group.maxDays, digits: 2),
            ]
        }
        return [
            .facts([
                ("domains that became enforce", String(items.count)),
                ("minimum days", days.min().map { ReportFormat.decimal($0, digits: 2) } ?? "-"),
                ("median days", ReportFormat.median(days).map { ReportFormat.decimal($0, digits: 2) } ?? "-"),
                ("maximum days", days.max().map { ReportFormat.decimal($0, digits: 2) } ?? "-"),
            ]),
            .table(
                ReportTable(
                    columns: ["added → enforced", "domains", "min days", "max days"], rows: rows, numeric: [1, 2, 3])),
        ]
    }

    var signatureBlocks: [ReportBlock] {
        let s = summary
        let statuses = Set(s.allSignatures.keys).union(s.publishedSignatures.keys).sorted()
        return [
            .table(
                ReportTable(
                    columns: ["status", "published versions", "all versions"],
                    rows: statuses.map {
                        [$0, String(s.publishedSignatures[$0] ?? 0), String(s.allSignatures[$0] ?? 0)]
                    },
                    numeric: [1, 2])),
            .paragraph(
                "Signing time and lag (signature creation minus the list's timestamp) are in the per-version tables "
                    + "and in history.json."),
        ]
    }
}
