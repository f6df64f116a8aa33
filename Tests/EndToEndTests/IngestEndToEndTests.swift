import Foundation
import PolicyListIO
import PolicyListStore
import Testing

@Suite struct IngestEndToEndTests {
    func ingestHistory(_ db: String, extra: [String] = []) throws -> E2E.Result {
        try E2E.run(
            "policylist-ingest",
            [
                "snapshots", "--db", db, "--keyring", E2E.keyring, "--sequence",
                E2E.data + "/policy-history/MANIFEST.tsv", "--json",
            ]
                + extra + [E2E.historyDir])
    }

    @Test func realHistoryFromScratchAndAgain() throws {
        let db = E2E.tempDir("ingest") + "/p.sqlite"
        let first = try ingestHistory(db)
        #expect(first.status == 0, "\(first.stderr)")
        let summary = first.summary
        #expect(summary["command"] as? String == "ingest snapshots")
        #expect(summary["accepted"] as? Int == 65)
        #expect((summary["rejected"] as? [Any])?.count == 0)
        let signatures = summary["signatures"] as? [String: Int] ?? [:]
        #expect(signatures["good"] == 58)
        #expect(signatures["bad"] == 5)
        #expect(signatures["missing"] == 2)
        #expect(signatures["unknownKey"] == 0)
        let anomalies = summary["anomalies"] as? [String: Int] ?? [:]
        #expect(anomalies["duplicate-key"] == 15)
        #expect(anomalies["pinsets-field"] == 15)
        #expect(anomalies["lapse"] == 16)
        #expect(anomalies["timestamp-not-bumped"] == 1)
        #expect(anomalies["expired-when-published"] == 1)
        #expect(first.stderr.contains("duplicate key \"salesforce.com\" in policies"))

        let store = try Database(path: db, mode: .readOnly)
        let published = try SnapshotStore(store).published()
        #expect(published.count == 56)
        let final = try #require(published.last)
        #expect(final.name == "20200520T172606Z-eab6c9f.policy.json")
        #expect(final.policies == 926)
        #expect(final.enforce == 361)
        #expect(final.testing == 553)
        #expect(final.aliasRefs == 12)
        let aliases = try store.scalar(
            "SELECT aliases FROM snapshots WHERE id = ?", [.int(final.id)], as: Int64.self)
        #expect(aliases == 4)
        #expect(published.first?.timestampRaw == "2018-03-30T19:45:16+00:00")
        let bumped = try store.scalar(
            """
            SELECT s.name FROM snapshot_anomalies a JOIN snapshots s ON s.id = a.snapshot_id
            WHERE a.kind = 'timestamp-not-bumped'
            """, as: String.self)
        #expect(bumped == "20190529T171802Z-a30b853.policy.json")

        let again = try ingestHistory(db)
        #expect(again.status == 0)
        #expect(again.summary["accepted"] as? Int == 0)
        #expect(again.summary["alreadyKnown"] as? Int == 65)
    }

    @Test func gzipCopiesAreTheSameSnapshots() throws {
        let dir = E2E.tempDir("gz")
        for name in ["20180331T015808Z-1431d81.policy.json", "20200520T172606Z-eab6c9f.policy.json"] {
            let bytes = [UInt8](E2E.read(E2E.historyDir + "/" + name))
            FileManager.default.createFile(atPath: dir + "/" + name + ".gz", contents: Data(gzip(bytes)))
        }
        let db = E2E.tempDir("gzdb") + "/p.sqlite"
        let plain = try E2E.run(
            "policylist-ingest",
            ["snapshots", "--db", db, "--json", E2E.historyDir + "/20180331T015808Z-1431d81.policy.json"])
        #expect(plain.summary["accepted"] as? Int == 1)
        let compressed = try E2E.run("policylist-ingest", ["snapshots", "--db", db, "--json", dir])
        #expect(compressed.status == 0, "\(compressed.stderr)")
        #expect(compressed.summary["alreadyKnown"] as? Int == 1)
        #expect(compressed.summary["accepted"] as? Int == 1)
    }

    /// One commit per version, in file-name order; the git ingest must see the same 65 contents in that order.
    @Test func gitHistoryGivesTheSameSequence() throws {
        let repo = E2E.tempDir("git")
        func git(_ args: [String]) throws {
            let result = try E2E.run(
                "/usr/bin/git", ["-C", repo] + args,
                environment: [
                    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
                    "GIT_COMMITTER_EMAIL": "t@example.org",
                ])
            #expect(result.status == 0, "git \(args): \(result.stderr)")
        }
        try git(["init", "-q", "-b", "main"])
        let names = try FileManager.default.contentsOfDirectory(atPath: E2E.historyDir).filter {
            $0.hasSuffix(".policy.json")
        }
        .sorted()
        #expect(names.count == 65)
        for (index, name) in names.enumerated() {
            let json = E2E.read(E2E.historyDir + "/" + name)
            FileManager.default.createFile(atPath: repo + "/policy.json", contents: json)
            let asc = E2E.historyDir + "/" + name + ".asc"
            if FileManager.default.fileExists(atPath: asc) {
                FileManager.default.createFile(atPath: repo + "/policy.json.asc", contents: E2E.read(asc))
            } else {
                try? FileManager.default.removeItem(atPath: repo + "/policy.json.asc")
            }
            try git(["add", "-A"])
            try git(["commit", "-q", "--allow-empty", "-m", "version \(index + 1)"])
        }
        let db = E2E.tempDir("gitdb") + "/p.sqlite"
        let result = try E2E.run("policylist-ingest", ["git", repo, "--keyring", E2E.keyring, "--db", db, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.summary["command"] as? String == "ingest git")
        #expect(result.summary["accepted"] as? Int == 65)
        let signatures = result.summary["signatures"] as? [String: Int] ?? [:]
        #expect(signatures["good"] == 58)
        #expect(signatures["bad"] == 5)
        #expect(signatures["missing"] == 2)
        let published = try SnapshotStore(try Database(path: db, mode: .readOnly)).published()
        let expected = names.map { SHA256.hex([UInt8](E2E.read(E2E.historyDir + "/" + $0))) }
        #expect(published.map(\.sha256) == expected)
        #expect(published.map(\.pubSeq) == Array(1...65))
    }
}
