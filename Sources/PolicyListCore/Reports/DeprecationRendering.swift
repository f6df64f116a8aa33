/// The deprecation report's outputs: JSON (schema 1), CSV (one row per listed domain) and the document.
extension DeprecationReport {
    static let stateColors: [AdoptionState: String] = [
        .enforce: "#1a7f37", .testing: "#0969da", .none: "#8c959f", .broken: "#cf222e", .absent: "#57606a",
        .unobserved: "#d0d7de",
    ]

    static let provenanceColors: [Provenance: String] = [
        .mtaSts: "#1a7f37", .queueAtFreeze: "#bf8700", .manual: "#0969da",
    ]

    var modeCounts: (enforce: Int, testing: Int, aliasReferences: Int, effectiveEnforce: Int, effectiveTesting: Int) {
        let counts = basis.list.modeCounts
        let effectiveEnforce = entries.filter { $0.effective?.mode == .enforce }.count
        return (
            counts.enforce, counts.testing, counts.aliasReferences, effectiveEnforce, entries.count - effectiveEnforce
        )
    }

    /// The JSON document.
    public var json: JSONValue {
        let modes = modeCounts
        let provenance = provenanceCounts
        let listed = entries.count
        let stateCounts = adoptionCounts
        let needless = entries.filter { noLongerNeedsList($0.domain) }.count
        let expires = basis.list.expires.instant
        var adoptionJSON: JSONValue = .null
        if let adoption {
            let tlsrpt = entries.filter { adoption[$0.domain]?.tlsrpt == true }.count
            let tlsrptObserved = entries.filter { adoption[$0.domain]?.tlsrpt != nil }.count
            let dane = entries.filter { adoption[$0.domain]?.dane == true }.count
            let daneObserved = entries.filter { adoption[$0.domain]?.dane != nil }.count
            adoptionJSON = .object([
                JSONMember("listedDomains", .int(listed)),
                JSONMember("observed", .int(listed - (stateCounts[.unobserved] ?? 0))),
                JSONMember(
                    "mtaSts",
                    .object(AdoptionState.allCases.map { JSONMember($0.rawValue, .int(stateCounts[$0] ?? 0)) })),
                JSONMember(
                    "tlsrpt",
                    .object([JSONMember("present", .int(tlsrpt)), JSONMember("lookedUp", .int(tlsrptObserved))])),
                JSONMember(
                    "dane", .object([JSONMember("usable", .int(dane)), JSONMember("lookedUp", .int(daneObserved))])),
                JSONMember("noLongerNeedList", .int(needless)),
                JSONMember("noLongerNeedListShare", ReportFormat.share(needless, of: listed)),
            ])
        }
        return .object([
            JSONMember("schemaVersion", .int(Self.schemaVersion)),
            JSONMember("report", "deprecation"),
            JSONMember("generatedAt", .string(generatedAt.rfc3339)),
            JSONMember("asOf", .optional(asOf?.rfc3339)),
            JSONMember(
                "list",
                .object([
                    JSONMember("basis", .string(basis.kind)), JSONMember("ref", .string(basis.ref)),
                    JSONMember("sha256", .string(basis.sha256)),
                    JSONMember("timestamp", .string(basis.list.timestamp.raw)),
                    JSONMember("expires", .string(basis.list.expires.raw)),
                    JSONMember("expiresUtc", .string(expires.rfc3339)),
                    JSONMember(
                        "daysSinceExpiry",
                        generatedAt > expires
                            ? ReportFormat.number(generatedAt.secondsDouble(since: expires) / 86_400) : .null),
                    JSONMember("freeze", .optional(freeze?.rfc3339)),
                    JSONMember("domains", .int(listed)), JSONMember("enforce", .int(modes.enforce)),
                    JSONMember("testing", .int(modes.testing)),
                    JSONMember("aliasReferences", .int(modes.aliasReferences)),
                    JSONMember(
                        "effective",
                        .object([
                            JSONMember("enforce", .int(modes.effectiveEnforce)),
                            JSONMember("testing", .int(modes.effectiveTesting)),
                        ])),
                ])),
            JSONMember(
                "provenance",
                .object(
                    Provenance.allCases.map { kind in
                        let counts = provenance[kind] ?? (0, 0)
                        return JSONMember(
                            kind.rawValue,
                            .object([
                                JSONMember("domains", .int(counts.enforce + counts.testing)),
                                JSONMember("enforce", .int(counts.enforce)),
                                JSONMember("testing", .int(counts.testing)),
                            ]))
                    })),
            JSONMember(
                "windDown",
                .object(
                    actions.map { action in
                        JSONMember(
                            action.key,
                            .object([
                                JSONMember("count", .int(action.domains.count)),
                                JSONMember("domains", .strings(action.domains)),
                            ]))
                    })),
            JSONMember("adoption", adoptionJSON),
            JSONMember(
                "aggregatedScans",
                aggregated.map { points in
                    .array(
                        points.map {
                            .object([
                                JSONMember("time", .string($0.time.rfc3339)), JSONMember("source", .string($0.source)),
                                JSONMember("attempted", .int($0.attempted)), JSONMember("withMxs", .int($0.withMXs)),
                                JSONMember("mtaStsTesting", .int($0.testing)),
                                JSONMember("mtaStsEnforce", .int($0.enforce)),
                            ])
                        })
                } ?? .null),
        ])
    }

    /// CSV columns, one row per listed domain.
    public static let csvColumns = [
        "position", "domain", "mode", "entry", "mxs", "provenance", "adoption", "observed_at", "observation",
        "tlsrpt", "dane", "no_longer_needs_list",
    ]

    /// The CSV document.
    public var csv: String {
        let rows = entries.enumerated().map { index, entry -> [String] in
            let observation = adoption?[entry.domain]
            let entryText: String
            switch entry.value {
            case .explicit: entryText = "explicit"
            case .alias(let name): entryText = "alias:" + name
            }
            let flag: (Bool?) -> String = { $0.map { $0 ? "yes" : "no" } ?? "" }
            return [
                String(index + 1), entry.domain, entry.effective?.mode.rawValue ?? "", entryText,
                (entry.effective?.mxs ?? []).joined(separator: " "), entry.provenance.rawValue,
                state(entry.domain).rawValue, observation?.observedAt.rfc3339 ?? "", observation?.ref ?? "",
                flag(observation?.tlsrpt), flag(observation?.dane), noLongerNeedsList(entry.domain) ? "yes" : "no",
            ]
        }
        return ReportEscape.csvDocument(columns: Self.csvColumns, rows: rows)
    }

    /// The document for Markdown and HTML.
    public var document: ReportDocument {
        let modes = modeCounts
        let listed = entries.count
        let expires = basis.list.expires.instant
        var preface = [
            "Generated \(generatedAt.rfc3339Seconds). Figures are defined in docs/statistics.md.",
            "The list: \(basis.kind) \(basis.ref), timestamp \(basis.list.timestamp.raw), expires \(basis.list.expires.raw).",
        ]
        if let asOf { preface.append("As of \(asOf.rfc3339).") }
        var listFacts: [(String, String)] = [
            ("domains", String(listed)), ("enforce entries", String(modes.enforce)),
            ("testing entries", String(modes.testing)), ("alias references", String(modes.aliasReferences)),
            ("effective enforce", String(modes.effectiveEnforce)),
            ("effective testing", String(modes.effectiveTesting)),
            ("expires (UTC)", expires.rfc3339), ("freeze", freeze?.rfc3339 ?? "-"),
            ("aliases", basis.list.aliases.map(\.name).joined(separator: ", ")), ("author", basis.list.author ?? "-"),
        ]
        if generatedAt > expires {
            listFacts.append(("days since expiry", ReportFormat.days(generatedAt.secondsDouble(since: expires))))
        }
        let provenance = provenanceCounts
        var sections = [ReportSection("The frozen list", [.facts(listFacts)])]
        sections.append(
            ReportSection(
                "Provenance",
                [
                    .chart(
                        .categories(
                            title: "Frozen list by provenance",
                            items: Provenance.allCases.map { kind in
                                let counts = provenance[kind] ?? (0, 0)
                                return (
                                    kind.rawValue, counts.enforce + counts.testing,
                                    Self.provenanceColors[kind] ?? "#888888"
                                )
                            }, total: listed)),
                    .table(
                        ReportTable(
                            columns: ["provenance", "domains", "enforce", "testing"],
                            rows: Provenance.allCases.map { kind in
                                let counts = provenance[kind] ?? (0, 0)
                                return [
                                    kind.rawValue, String(counts.enforce + counts.testing), String(counts.enforce),
                                    String(counts.testing),
                                ]
                            }, numeric: [1, 2, 3])),
                ]))
        sections.append(
            ReportSection(
                "What the wind-down did",
                [
                    .table(
                        ReportTable(
                            columns: ["action", "domains", "examples"],
                            rows: Self.actionKeys.map { key in
                                let domains = self.domains(key.key)
                                let sample =
                                    domains.prefix(8).joined(separator: ", ") + (domains.count > 8 ? ", …" : "")
                                return [key.label, String(domains.count), sample]
                            }, numeric: [1]))
                ]))
        sections.append(ReportSection("Replacement adoption among listed domains", adoptionBlocks))
        if let aggregated, !aggregated.isEmpty {
            var blocks: [ReportBlock] = []
            for source in Array(Set(aggregated.map(\.source))).sorted() {
                let points = aggregated.filter { $0.source == source }
                blocks.append(
                    .chart(
                        .stackedSteps(
                            title: "Backend aggregated scans, \(source): MTA-STS domains (raw modes)",
                            x: points.map(\.time),
                            series: [
                                ChartSeries(
                                    name: "enforce", color: "#1a7f37", values: points.map { Double($0.enforce) }),
                                ChartSeries(
                                    name: "testing", color: "#0969da", values: points.map { Double($0.testing) }),
                            ], until: nil)))
                blocks.append(
                    .table(
                        ReportTable(
                            columns: ["time", "attempted", "with MXs", "testing", "enforce"],
                            rows: points.map {
                                [
                                    $0.time.rfc3339Seconds, String($0.attempted), String($0.withMXs),
                                    String($0.testing), String($0.enforce),
                                ]
                            }, numeric: [1, 2, 3, 4])))
            }
            sections.append(ReportSection("Backend aggregated scans", blocks))
        }
        return ReportDocument(title: "STARTTLS policy list: deprecation", preface: preface, sections: sections)
    }

    var adoptionBlocks: [ReportBlock] {
        guard let adoption else {
            return [.paragraph("No MTA-STS observations are ingested; adoption cannot be computed.")]
        }
        let listed = entries.count
        let counts = adoptionCounts
        let needless = entries.filter { noLongerNeedsList($0.domain) }.count
        let tlsrpt = entries.filter { adoption[$0.domain]?.tlsrpt == true }.count
        let tlsrptObserved = entries.filter { adoption[$0.domain]?.tlsrpt != nil }.count
        let dane = entries.filter { adoption[$0.domain]?.dane == true }.count
        let daneObserved = entries.filter { adoption[$0.domain]?.dane != nil }.count
        return [
            .chart(
                .categories(
                    title: "Replacement adoption: MTA-STS state of listed domains (latest observation)",
                    items: AdoptionState.allCases.map {
                        ($0.rawValue, counts[$0] ?? 0, Self.stateColors[$0] ?? "#888888")
                    }, total: listed)),
            .facts(
                AdoptionState.allCases.map {
                    (
                        "MTA-STS \($0.rawValue)",
                        "\(counts[$0] ?? 0) (\(ReportFormat.percent(counts[$0] ?? 0, of: listed)))"
                    )
                } + [
                    ("TLSRPT present", "\(tlsrpt) of \(tlsrptObserved) looked up"),
                    ("DANE usable (TLSA, AD bit)", "\(dane) of \(daneObserved) looked up"),
                    (
                        "no longer need the list (MTA-STS enforce or DANE)",
                        "\(needless) of \(listed) (\(ReportFormat.percent(needless, of: listed)))"
                    ),
                ]),
        ]
    }
}
