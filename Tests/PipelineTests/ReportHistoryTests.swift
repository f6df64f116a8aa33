import Foundation
import PolicyListCore
import PolicyListIO
import PolicyListPipeline
import PolicyListStore
import Testing

/// The real history (65 versions) ingested once into a temporary store, shared by the report tests.
enum ReportHistoryFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let data = root + "/data"
    static let keyring = data + "/keys/starttls-policy-authority-B693F33372E965D76D55368616EEA65D03326C9D.gpg"
    static let now = Instant(seconds: 1_700_000_000)

    static func tempDir(_ label: String) -> String {
        let path = NSTemporaryDirectory() + "policylist-\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A store with the 65 real versions, ingested with the manifest's sequence and the publisher's key.
    static let database: String = {
        let path = tempDir("report-history") + "/p.sqlite"
        if let context = try? StageContext(StageOptions(databasePath: path, now: now)) {
            _ = try? SnapshotIngest.files(
                context, paths: [data + "/policy-history/history.tar.gz"], keyring: keyring,
                order: .sequenceFile(data + "/policy-history/MANIFEST.tsv"))
        }
        return path
    }()

    static func context() throws -> StageContext {
        try StageContext(StageOptions(databasePath: database, now: now), readOnly: true)
    }

    /// MANIFEST.tsv rows as dictionaries.
    static let manifest: [[String: String]] = {
        guard let text = try? String(contentsOfFile: data + "/policy-history/MANIFEST.tsv", encoding: .utf8) else {
            return []
        }
        let lines = text.split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }()

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

@Suite(.serialized) struct ReportHistoryTests {
    static let out = ReportHistoryFixture.tempDir("report-out")

    /// Written once through the stage (the files) and computed once from the same store (the figures).
    static let shared: HistoryReport? = {
        guard let context = try? ReportHistoryFixture.context() else { return nil }
        _ = try? ReportStage.history(context, out: out)
        guard let versions = try? ReportStage.loadVersions(context) else { return nil }
        return HistoryReport.build(versions, generatedAt: context.now)
    }()

    static func report() throws -> HistoryReport { try #require(shared) }

    @Test func publishedSequenceAndFinalList() throws {
        let s = try Self.report().summary
        #expect(s.publishedVersions == 56 && s.offSequenceVersions == 9)
        #expect(s.firstTimestamp.map(ReportFormat.date) == "2018-03-30")
        #expect(s.lastTimestamp.map(ReportFormat.date) == "2020-05-20")
        #expect(s.finalDomains == 926 && s.finalEnforce == 361 && s.finalTesting == 553 && s.finalAliasReferences == 12)
        #expect(s.finalEffectiveTesting == 565)
        #expect(s.distinctDomains == 943 && s.goneFromFinal == 17)
        #expect(s.testingToEnforce == 361 && s.enforceToTesting == 0)
        #expect(s.returns.count == 11 && s.returns.allSatisfy { $0.goneSeq == 15 && $0.backSeq == 29 })
        #expect(s.versionsByChange[.first] == 1 && s.versionsByChange[.policies] == 10)
        #expect(s.versionsByChange[.metadata] == 1)
        // history-stats §1 counts 44 timestamp-only versions; seq 2 only re-sorted the entries, which we tell apart.
        #expect(s.versionsByChange[.timestampOnly] == 43 && s.versionsByChange[.reorderOnly] == 1)
    }

    @Test func perVersionNumbersAgreeWithHistoryStats() throws {
        let rows = try Self.report().publishedRows
        // (seq, domains, effective enforce, effective testing, alias refs, added, removed, changed) from §3.
        let expected: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
            (4, 89, 0, 89, 13, 71, 0, 0), (8, 225, 0, 225, 13, 37, 0, 0), (15, 213, 0, 213, 13, 0, 12, 0),
            (19, 335, 0, 335, 14, 25, 0, 14), (29, 466, 0, 466, 14, 114, 0, 1), (53, 926, 0, 926, 14, 476, 16, 3),
            (54, 926, 361, 565, 12, 0, 0, 361), (56, 926, 361, 565, 12, 0, 0, 0),
        ]
        for (seq, domains, enforce, testing, refs, added, removed, changed) in expected {
            let row = try #require(rows.first { $0.input.pubSeq == seq })
            let counts = row.input.list.modeCounts
            #expect(row.effectiveEnforce == enforce && row.effectiveTesting == testing, "seq \(seq)")
            #expect(row.effectiveEnforce + row.effectiveTesting == domains, "seq \(seq)")
            #expect(counts.aliasReferences == refs, "seq \(seq)")
            #expect(row.diff.added.count == added && row.diff.removed.count == removed, "seq \(seq)")
            #expect(row.diff.changed.count == changed, "seq \(seq)")
        }
        let seq19 = try #require(rows.first { $0.input.pubSeq == 19 })
        #expect(seq19.diff.changed.filter { $0.kind == .mxCaseOnly }.map(\.domain) == ["technikumnukleoniczne.pl"])
        let seq54 = try #require(rows.first { $0.input.pubSeq == 54 })
        #expect(seq54.diff.count(.mode) == 281 && seq54.diff.count(.modeAndMxs) == 80)
    }

    @Test func signatureStatusPerVersionEqualsTheManifest() throws {
        let rows = try Self.report().rows
        #expect(rows.count == 65)
        for entry in ReportHistoryFixture.manifest {
            let file = entry["file"] ?? ""
            let row = try #require(rows.first { $0.input.name == file }, "\(file)")
            let expected = entry["asc_verify"] == "none" ? "missing" : entry["asc_verify"] ?? ""
            #expect(row.input.signature == expected, "\(file)")
            if let created = entry["asc_sig_created_utc"], !created.isEmpty, expected == "good" {
                #expect(row.input.signatureCreated?.rfc3339 == created, "\(file)")
            }
            #expect(row.published == !(entry["master_tip_seq"] ?? "").isEmpty, "\(file)")
        }
        let s = try Self.report().summary
        #expect(s.allSignatures == ["good": 58, "bad": 5, "missing": 2])
    }

    @Test func lapsesWithTheirDatesAndTheUnbumpedTimestamp() throws {
        let s = try Self.report().summary
        #expect(s.lapses.count == 16)
        let expected: [(Int, String, String)] = [
            (1, "2018-04-30T19:45:16Z", "2018-06-20T18:56:53Z"), (2, "2018-07-16T16:41:50Z", "2018-07-16T17:23:03Z"),
            (5, "2018-08-24T17:30:32Z", "2018-08-24T20:27:59Z"), (6, "2018-09-07T16:55:04Z", "2018-09-07T23:09:02Z"),
            (7, "2018-09-21T17:46:28Z", "2018-09-28T18:52:52Z"), (16, "2019-01-02T00:08:57Z", "2019-01-03T22:58:43Z"),
            (25, "2019-04-17T07:44:59Z", "2019-04-17T11:22:54Z"), (26, "2019-05-01T11:18:25Z", "2019-05-01T15:56:46Z"),
            (28, "2019-05-28T17:27:57Z", "2019-05-29T17:18:02Z"), (29, "2019-05-28T17:27:57Z", "2019-05-30T17:13:46Z"),
            (30, "2019-06-13T17:09:40Z", "2019-06-14T17:54:34Z"), (35, "2019-08-22T04:04:05Z", "2019-08-22T04:26:30Z"),
            (40, "2019-10-30T21:43:08Z", "2019-10-30T22:57:46Z"), (42, "2019-11-27T19:29:52Z", "2019-11-29T16:55:26Z"),
            (51, "2020-04-01T17:19:58Z", "2020-04-01T18:02:21Z"), (52, "2020-04-15T18:01:57Z", "2020-04-15T18:22:45Z"),
        ]
        for (lapse, (seq, from, until)) in zip(s.lapses, expected) {
            #expect(lapse.expiredSeq == seq && lapse.nextSeq == seq + 1)
            #expect(lapse.from.rfc3339Seconds == from && lapse.until.rfc3339Seconds == until, "seq \(seq)")
        }
        #expect(ReportFormat.days(s.lapseSeconds) == "66.74")
        let unbumped = s.irregularities.filter { $0.kind == "timestamp-not-bumped" }
        #expect(unbumped.count == 1)
        #expect(unbumped.first?.seq == 29 && unbumped.first?.publishedAt.rfc3339Seconds == "2019-05-29T17:18:02Z")
        #expect(unbumped.first?.timestampRaw == "2019-05-14T10:27:57.213845-07:00")
        #expect(s.irregularities.contains { $0.kind == "expired-when-published" && $0.seq == 29 })
    }

    @Test func writesFourFilesWithSchemaVersionAndMarksOffSequence() throws {
        _ = try Self.report()
        for ext in ["json", "csv", "md", "html"] {
            #expect(FileManager.default.fileExists(atPath: Self.out + "/history." + ext), "\(ext)")
        }
        let json = try ReportHistoryFixture.json(Self.out + "/history.json")
        #expect(json["schemaVersion"] as? Int == 1)
        let versions = try #require(json["versions"] as? [[String: Any]])
        #expect(versions.count == 65 && versions.filter { $0["published"] as? Bool == false }.count == 9)
        let markdown = try String(contentsOfFile: Self.out + "/history.md", encoding: .utf8)
        #expect(markdown.contains("2019-05-29T17:18:02Z") && markdown.contains("timestamp-not-bumped"))
        #expect(markdown.contains("## Off-sequence versions"))
        let csv = try String(contentsOfFile: Self.out + "/history.csv", encoding: .utf8)
        #expect(csv.components(separatedBy: "\r\n").filter { $0.contains(",off-sequence,") }.count == 9)
    }
}
