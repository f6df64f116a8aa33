import Foundation
import PolicyListStore
import Testing

/// The 2020 wind-down replay (data/replay-2020/README.md), run with the built executables.
@Suite(.serialized) struct ReplayEndToEndTests {
    static let timestamps: [Int: (String, String)] = {
        let text = String(decoding: E2E.read(E2E.data + "/replay-2020/expected/timestamps.tsv"), as: UTF8.self)
        var out: [Int: (String, String)] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: "\t").map(String.init)
            if fields.count == 3, let seq = Int(fields[0]) { out[seq] = (fields[1], fields[2]) }
        }
        return out
    }()

    static func expected(_ seq: Int) -> Data {
        E2E.read(E2E.plain("replay-2020/expected/seq\(seq).policy.json"))
    }

    static func gpgvVerifies(signature: String, data: String) throws -> Bool {
        let home = E2E.tempDir("gnupg")
        let result = try E2E.run(
            "/usr/bin/gpgv", ["--keyring", E2E.keyring, signature, data], environment: ["GNUPGHOME": home])
        return result.status == 0 && result.stderr.contains("Good signature")
    }

    struct Replay {
        let db = E2E.tempDir("replay") + "/p.sqlite"
        let out = E2E.tempDir("replay-out")

        func run(_ tool: String, _ args: [String]) throws -> E2E.Result {
            try E2E.run(tool, args + ["--db", db, "--json"])
        }

        func ingestStepA() throws {
            let seq52 = E2E.historyDir + "/20200401T180221Z-2860d94.policy.json"
            #expect(try run("policylist-ingest", ["snapshots", "--keyring", E2E.keyring, seq52]).status == 0)
            #expect(try run("policylist-ingest", ["queue", E2E.data + "/replay-2020/domains.csv.gz"]).status == 0)
            let requests = try run(
                "policylist-ingest",
                ["requests", E2E.data + "/replay-2020/removals.json", E2E.data + "/replay-2020/edits.json"])
            #expect(requests.status == 0)
        }

        func publish(_ seq: Int, now: String) throws -> E2E.Result {
            let (timestamp, expires) = ReplayEndToEndTests.timestamps[seq] ?? ("", "")
            return try run(
                "policylist-publish",
                ["--out", out + "/\(seq)", "--timestamp", timestamp, "--expires", expires, "--now", now])
        }
    }

    @Test func stepAReproducesSeq53AndThePublishersSignatureVerifies() throws {
        let replay = Replay()
        try replay.ingestStepA()
        let reconcile = try replay.run(
            "policylist-reconcile", ["--as-of", "2020-04-15T07:20:35Z", "--freeze", "2020-04-15T07:20:35Z"])
        #expect(reconcile.status == 0, "\(reconcile.stderr)")
        let summary = reconcile.summary
        #expect(summary["command"] as? String == "reconcile")
        #expect(summary["added"] as? Int == 476)
        #expect(summary["removed"] as? Int == 16)
        #expect(summary["updated"] as? Int == 3)
        #expect(summary["domains"] as? Int == 926)
        let explain = try E2E.run("policylist-reconcile", ["explain", "thijs.amsterdam", "--db", replay.db])
        #expect(explain.stdout.contains("R3"))
        #expect(explain.stdout.contains("removals.json"))
        let alpha = try E2E.run("policylist-reconcile", ["explain", "alpha.example", "--db", replay.db])
        #expect(alpha.stdout.contains("R1"))
        #expect(alpha.stdout.contains("unvalidated at the freeze"))

        let publish = try replay.publish(53, now: "2020-04-15T18:20:00Z")
        #expect(publish.status == 0, "\(publish.stderr)")
        let written = replay.out + "/53/policy.json"
        #expect(E2E.read(written) == Self.expected(53))
        #expect(
            try Self.gpgvVerifies(signature: E2E.data + "/replay-2020/expected/seq53.policy.json.asc", data: written))
        for name in ["SHA256SUMS", "manifest.json", "CHANGELOG.md", "postfix/tls_policy"] {
            #expect(FileManager.default.fileExists(atPath: replay.out + "/53/" + name), "\(name) missing")
        }
        let sums = try E2E.run("/usr/bin/sha256sum", ["-c", "SHA256SUMS"], cwd: replay.out + "/53")
        #expect(sums.status == 0, "\(sums.stdout)\(sums.stderr)")
        let changelog = String(decoding: E2E.read(replay.out + "/53/CHANGELOG.md"), as: UTF8.self)
        #expect(changelog.contains("## Added (476)"))
        #expect(changelog.contains("## Removed (16)"))
        #expect(changelog.contains("## Updated (3)"))

        // Publishing the same thing again is not a new publication (timestamp not after the previous one)...
        let again = try replay.run(
            "policylist-publish",
            [
                "--out", replay.out + "/53b", "--timestamp", "2020-04-15T11:19:10.581595-07:00", "--now",
                "2020-04-15T18:20:00Z",
            ])
        #expect(again.status == 65)
        #expect(again.stderr.contains("not after the previous publication"))
        #expect(!FileManager.default.fileExists(atPath: replay.out + "/53b/policy.json"))
    }

    @Test func noEmailAddressFromTheQueueReachesAnyPublishedFile() throws {
        let replay = Replay()
        try replay.ingestStepA()
        _ = try replay.run(
            "policylist-reconcile", ["--as-of", "2020-04-15T07:20:35Z", "--freeze", "2020-04-15T07:20:35Z"])
        _ = try replay.publish(53, now: "2020-04-15T18:20:00Z")
        let csv = String(decoding: E2E.read(E2E.plain("replay-2020/domains.csv")), as: UTF8.self)
        let emails = Set(
            csv.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").dropFirst().first })
        #expect(emails.count > 900)
        let files = FileManager.default.enumerator(atPath: replay.out)?.compactMap { $0 as? String } ?? []
        var checked = 0
        for file in files {
            let text = String(decoding: E2E.read(replay.out + "/" + file), as: UTF8.self)
            guard !text.isEmpty else { continue }
            checked += 1
            #expect(!text.contains("postmaster@"), "\(file) contains an e-mail address")
            for email in emails.prefix(50) { #expect(!text.contains(email)) }
        }
        #expect(checked >= 5)
    }
}
