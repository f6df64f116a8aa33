import Foundation
import PolicyListCore
import Testing

@Suite struct ReportDiffTests {
    static func list(_ aliases: [PolicyAlias], _ entries: [(String, PolicyValue)]) -> PolicyList {
        PolicyList(
            timestamp: ListTime.placeholder, expires: ListTime.placeholder, version: "0.1", author: nil,
            aliases: aliases, policies: entries.map { PolicyEntry(domain: $0.0, value: $0.1) })
    }

    static func explicit(_ mode: ListMode, _ mxs: [String]) -> PolicyValue {
        .explicit(PolicyDefinition(mode: mode, mxs: mxs))
    }

    static let alias = PolicyAlias(name: "g", definition: PolicyDefinition(mode: .testing, mxs: [".g.example"]))

    /// (before, after, expected change kind or re-expression kind or "none").
    static let cases: [(String, PolicyValue, PolicyValue, String)] = [
        ("mode", explicit(.testing, ["a"]), explicit(.enforce, ["a"]), "mode"),
        ("mode and mxs", explicit(.testing, ["a"]), explicit(.enforce, ["b"]), "mode+mxs"),
        ("mxs", explicit(.testing, ["a"]), explicit(.testing, ["a", "b"]), "mxs"),
        ("case only", explicit(.testing, ["mx.A.example"]), explicit(.testing, ["mx.a.example"]), "mx-case-only"),
        ("order only", explicit(.testing, ["a", "b"]), explicit(.testing, ["b", "a"]), "mx-order-only"),
        ("into an alias, same policy", explicit(.testing, [".g.example"]), .alias("g"), "alias"),
        ("out of an alias, new mode", .alias("g"), explicit(.enforce, [".g.example"]), "mode"),
        ("unchanged", explicit(.testing, ["a"]), explicit(.testing, ["a"]), "none"),
    ]

    @Test(arguments: cases.indices)
    func classifiesOneDomainChange(_ index: Int) {
        let (label, before, after, expected) = Self.cases[index]
        let diff = ListDiff.compare(
            Self.list([Self.alias], [("x.example", before)]), Self.list([Self.alias], [("x.example", after)]))
        let actual = diff.changed.first?.kind.rawValue ?? diff.reExpressed.first?.kind.rawValue ?? "none"
        #expect(actual == expected, "\(label)")
        #expect(diff.added.isEmpty && diff.removed.isEmpty)
    }

    @Test func aliasContentsAreResolvedBeforeDiffing() {
        let changedAlias = PolicyAlias(name: "g", definition: PolicyDefinition(mode: .testing, mxs: [".h.example"]))
        let diff = ListDiff.compare(
            Self.list([Self.alias], [("x.example", .alias("g")), ("y.example", .alias("g"))]),
            Self.list([changedAlias], [("x.example", .alias("g")), ("y.example", .alias("g"))]))
        #expect(diff.changed.map(\.domain) == ["x.example", "y.example"])
        #expect(diff.changed.allSatisfy { $0.kind == .mxs })
    }

    @Test func addedRemovedAndKeyCase() {
        let diff = ListDiff.compare(
            Self.list(
                [], [("Old.example", Self.explicit(.testing, ["a"])), ("gone.example", Self.explicit(.testing, ["a"]))]),
            Self.list(
                [], [("old.example", Self.explicit(.testing, ["a"])), ("new.example", Self.explicit(.testing, ["a"]))]))
        #expect(diff.added == ["new.example"])
        #expect(diff.removed == ["gone.example"])
        #expect(diff.reExpressed.map { "\($0.domain) \($0.kind.rawValue)" } == ["old.example key-case"])
    }
}

@Suite struct ReportEscapeTests {
    @Test(arguments: [
        ("=1+2", "'=1+2"), ("+1", "'+1"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"), ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""), ("=x,\"y\"", "\"'=x,\"\"y\"\"\""), ("plain", "plain"), ("", ""),
    ])
    func csvCellsAreQuotedAndFormulasNeutralised(_ input: String, _ expected: String) {
        #expect(ReportEscape.csv(input) == expected)
    }

    @Test func htmlEscapesMarkupQuotesAndAmpersands() {
        #expect(
            ReportEscape.html("<script>alert(\"x\")</script>&'")
                == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;")
    }

    @Test func markdownNeutralisesHTMLPipesAndEmphasis() {
        let out = ReportEscape.markdown("<script>|*a*_b_`c`\nnext")
        #expect(!out.contains("<") && !out.contains("\n"))
        #expect(out == "&lt;script&gt;\\|\\*a\\*\\_b\\_\\`c\\` next")
    }

    @Test(arguments: [(12.345, 2, "12.35"), (-0.5, 0, "-1"), (3, 0, "3"), (0.004, 2, "0.00"), (1.5, 1, "1.5")])
    func decimalsAreLocaleFree(_ value: Double, _ digits: Int, _ expected: String) {
        #expect(ReportFormat.decimal(value, digits: digits) == expected)
    }
}

@Suite struct ReportFixtureTests {
    static let report = HistoryReport.build(ReportFixtures.inputs(), generatedAt: ReportFixtures.generatedAt)

    @Test func fixtureHistoryFigures() throws {
        let report = Self.report
        let s = report.summary
        #expect(s.publishedVersions == 4 && s.offSequenceVersions == 1)
        #expect(report.rows.map { $0.input.pubSeq } == [1, 2, 3, 4, nil])
        let rows = report.publishedRows
        #expect(rows.map(\.change) == [.first, .policies, .policies, .policies])
        #expect(rows[1].diff.added == ["c.example"])
        #expect(rows[1].diff.changed.map(\.kind) == [.mxCaseOnly])
        #expect(rows[2].diff.removed == ["c.example"] && rows[2].diff.added == ["d.example"])
        #expect(rows[2].diff.changed.map(\.kind) == [.mode])
        #expect(Set(rows[2].diff.reExpressed.map(\.kind)) == [.alias, .mxOrderOnly])
        #expect(rows[3].diff.changed.map(\.kind) == [.modeAndMxs])
        #expect(s.returns.map { "\($0.domain) \($0.goneSeq) \($0.backSeq)" } == ["c.example 3 4"])
        #expect(s.lapses.count == 2)
        #expect(s.lapses.map(\.from.rfc3339) == ["2020-01-15T00:00:00Z", "2020-02-08T00:00:00Z"])
        #expect(s.lapses.map(\.until.rfc3339) == ["2020-01-20T08:00:00Z", "2020-02-10T00:00:00Z"])
        #expect(s.lapses.map(\.untilIsLanding) == [false, true])
        #expect(s.timeToEnforce.map(\.domain) == ["a.example", "d.example"])
        #expect(s.distinctDomains == 5 && s.goneFromFinal == 0)
        let side = try #require(report.rows.last)
        #expect(
            side.basis == "v2.policy.json" && side.diff.added == ["z.example"]
                && side.diff.removed == ["c.example", "e.example"])
    }

    @Test func historyJSONAndMarkdownMatchTheGoldenFiles() {
        ReportFixtures.checkGolden(JSONWriter.pythonIndented(Self.report.json) + "\n", "history.json")
        ReportFixtures.checkGolden(
            MarkdownRenderer.render(Self.report.document, htmlName: "history.html"), "history.md")
    }

    static func deprecation() -> DeprecationReport {
        let inputs = ReportFixtures.inputs()
        let final = inputs[3]
        let at = ReportFixtures.instant("2020-02-09T00:00:00Z")
        let decisions = [
            DeprecationDecision(
                candidateID: 1, asOf: at, domain: "c.example", action: .added, rule: "R2", detail: "queued"),
            DeprecationDecision(
                candidateID: 1, asOf: at, domain: "gone.example", action: .removed, rule: "R3", detail: "asked"),
            DeprecationDecision(
                candidateID: 2, asOf: at, domain: "d.example", action: .updated, rule: "R4", detail: "enforce"),
            DeprecationDecision(
                candidateID: 2, asOf: at, domain: "new.example", action: .refused, rule: "R1", detail: "frozen"),
        ]
        let observations = [
            AdoptionObservation(
                domain: "a.example", observedAt: at, ref: "obs:1", state: .enforce, tlsrpt: true, dane: false),
            AdoptionObservation(
                domain: "b.example", observedAt: at, ref: "obs:2", state: .broken, tlsrpt: nil, dane: nil),
            AdoptionObservation(
                domain: "c.example", observedAt: at, ref: "obs:3", state: .absent, tlsrpt: false, dane: true),
            AdoptionObservation(
                domain: "d.example", observedAt: at, ref: "obs:4", state: .testing, tlsrpt: nil, dane: nil),
            AdoptionObservation(
                domain: "unlisted.example", observedAt: at, ref: "obs:5", state: .enforce, tlsrpt: nil, dane: nil),
        ]
        return DeprecationReport.build(
            basis: DeprecationBasis(kind: "snapshot", ref: "#4 v4.policy.json", sha256: final.sha256, list: final.list),
            decisions: decisions, freeze: at, observations: observations,
            aggregated: [AggregatedPoint(time: at, source: "LOCAL", attempted: 0, withMXs: 8, testing: 3, enforce: 2)],
            asOf: nil, generatedAt: ReportFixtures.generatedAt)
    }

    @Test func deprecationFiguresAndGoldenFiles() {
        let report = Self.deprecation()
        #expect(report.entries.count == 5)
        #expect(report.domains("added-at-freeze") == ["c.example"])
        #expect(report.domains("removed-on-request") == ["gone.example"])
        #expect(report.domains("refreshed-to-enforce") == ["d.example"])
        #expect(report.domains("refused") == ["new.example"])
        #expect(report.entries.map(\.provenance) == [.manual, .manual, .manual, .mtaSts, .queueAtFreeze])
        #expect(report.adoptionCounts == [.enforce: 1, .broken: 1, .absent: 1, .testing: 1, .unobserved: 1])
        #expect(
            report.entries.filter { report.noLongerNeedsList($0.domain) }.map(\.domain) == ["a.example", "c.example"])
        ReportFixtures.checkGolden(JSONWriter.pythonIndented(report.json) + "\n", "deprecation.json")
        ReportFixtures.checkGolden(
            MarkdownRenderer.render(report.document, htmlName: "deprecation.html"), "deprecation.md")
    }

    @Test func hostileStringsAreEscapedInEveryFormat() {
        let report = Self.report
        let html = HTMLRenderer.render(report.document)
        let markdown = MarkdownRenderer.render(report.document, htmlName: "history.html")
        let csv = report.csv
        #expect(!html.contains("<script>") && !html.contains("<b>"))
        #expect(html.contains("mx&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
        #expect(!html.lowercased().contains("<script"))
        #expect(!markdown.contains("<script>") && !markdown.contains("<b>"))
        #expect(markdown.contains("mx&lt;script&gt;"))
        #expect(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")&<b>'ops'</b>\""))
        #expect(!csv.contains(",=HYPERLINK"))
        #expect(csv.contains("mx<script>alert(\"\"x\"\")</script>&'"))
        let deprecation = Self.deprecation()
        let depHTML = HTMLRenderer.render(deprecation.document)
        #expect(!depHTML.contains("<script>") && depHTML.contains("mx&lt;script&gt;"))
        #expect(!MarkdownRenderer.render(deprecation.document, htmlName: "d.html").contains("<script>"))
    }

    @Test func htmlIsSelfContained() {
        let html = HTMLRenderer.render(Self.report.document)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 3)
        for banned in ["<script", "src=", "href=", "@import", "url("] { #expect(!html.contains(banned), "\(banned)") }
    }
}
