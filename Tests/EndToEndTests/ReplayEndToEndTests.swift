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

    /// Runs a → b → c; with `scansFirst` every input is ingested before the first reconcile.
    static func fullReplay(scansFirst: Bool) throws -> Replay {
        let replay = Replay()
        try replay.ingestStepA()
        let scans = ["import-backend-scans", E2E.data + "/replay-2020/scans.jsonl.gz"]
        if scansFirst { #expect(try replay.run("policylist-observe", scans).status == 0) }
        let a = try replay.run(
            "policylist-reconcile", ["--as-of", "2020-04-15T07:20:35Z", "--freeze", "2020-04-15T07:20:35Z"])
        #expect(a.summary["added"] as? Int == 476)
        #expect(a.summary["removed"] as? Int == 16)
        #expect(a.summary["updated"] as? Int == 3)
        #expect(try replay.publish(53, now: "2020-04-15T18:20:00Z").status == 0)
        if !scansFirst {
            let imported = try replay.run("policylist-observe", scans)
            #expect(imported.summary["accepted"] as? Int == 434)
        }
        let b = try replay.run("policylist-reconcile", ["--as-of", "2020-04-22T20:00:00Z"])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(b.summary["added"] as? Int == 0)
        #expect(b.summary["removed"] as? Int == 0)
        #expect(b.summary["updated"] as? Int == 361)
        #expect(b.summary["unchanged"] as? Int == 565)
        #expect(try replay.publish(54, now: "2020-04-22T20:40:00Z").status == 0)
        let c = try replay.run("policylist-reconcile", ["--as-of", "2020-05-20T17:00:00Z"])
        #expect(c.summary["added"] as? Int == 0)
        #expect(c.summary["removed"] as? Int == 0)
        #expect(c.summary["updated"] as? Int == 0)
        let published = try replay.publish(56, now: "2020-05-20T17:26:00Z")
        #expect(published.summary["republication"] as? Bool == true)
        return replay
    }

    @Test(arguments: [false, true])
    func stepsBAndCReproduceSeq54And56(scansFirst: Bool) throws {
        let replay = try Self.fullReplay(scansFirst: scansFirst)
        for seq in [53, 54, 56] {
            let written = replay.out + "/\(seq)/policy.json"
            #expect(E2E.read(written) == Self.expected(seq), "seq \(seq) differs")
            let asc = E2E.data + "/replay-2020/expected/seq\(seq).policy.json.asc"
            #expect(try Self.gpgvVerifies(signature: asc, data: written), "seq \(seq): signature does not verify")
        }
        let gmail = try E2E.run("policylist-reconcile", ["explain", "gmail.com", "--db", replay.db, "--json"])
        let decisions = (gmail.summary["decisions"] as? [[String: Any]]) ?? []
        let r4 = try #require(decisions.first { $0["rule"] as? String == "R4" && $0["action"] as? String == "updated" })
        let evidence = (r4["evidence"] as? [[String: Any]])?.first
        #expect((evidence?["ref"] as? String)?.contains("scans.jsonl") == true)
        #expect((evidence?["at"] as? String)?.hasPrefix("2020-04-2") == true)
        // Distractors: a valid testing scan (A), failing (B), old enforce then failing (C) change nothing.
        for domain in ["0xheap.org", "accretus.com", "aixm.aero"] {
            let explained = try E2E.run("policylist-reconcile", ["explain", domain, "--db", replay.db, "--json"])
            let chain = (explained.summary["decisions"] as? [[String: Any]]) ?? []
            #expect(!chain.contains { $0["action"] as? String == "updated" }, "\(domain) changed")
        }
        let whiskey = try E2E.run("policylist-reconcile", ["explain", "whiskey.example", "--db", replay.db])
        #expect(whiskey.stdout.contains("not on the list"))
    }

    /// The published list as its real consumers see it: the publisher's CLI, postmap, a JSON Schema validator.
    @Test func consumersAcceptThePublishedList() throws {
        let replay = try Self.fullReplay(scansFirst: true)
        // A fresh publication (timestamp now) so the consumer does not treat it as expired.
        let now = try E2E.run("/bin/date", ["-u", "+%Y-%m-%dT%H:%M:%SZ"]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(try replay.run("policylist-reconcile", ["--as-of", now]).status == 0)
        let fresh = try replay.run("policylist-publish", ["--out", replay.out + "/fresh", "--now", now])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        let dir = replay.out + "/fresh"
        let venv = ProcessInfo.processInfo.environment["POLICYLIST_VENV"] ?? E2E.root + "/.venv"
        let python = venv + "/bin/python"
        #expect(FileManager.default.fileExists(atPath: python), "no Python venv at \(venv): run scripts/install-deps")
        let cliDir = E2E.tempDir("cli")
        try FileManager.default.copyItem(atPath: dir + "/policy.json", toPath: cliDir + "/policy.json")
        let cli = try E2E.run(
            python,
            [E2E.root + "/scripts/peers/run_starttls_policy_cli.py", "--generate", "postfix", "--policy-dir", cliDir])
        #expect(cli.status == 0, "\(cli.stderr)")
        let theirs = String(decoding: E2E.read(cliDir + "/postfix_tls_policy"), as: UTF8.self)
        let ours = String(decoding: E2E.read(dir + "/postfix/tls_policy"), as: UTF8.self)
        #expect(theirs.split(separator: "\n").count == 926)
        #expect(theirs == ours, "the publisher's CLI generates a different Postfix map")

        let mapDir = E2E.tempDir("postmap")
        try FileManager.default.copyItem(atPath: dir + "/postfix/tls_policy", toPath: mapDir + "/tls_policy")
        let postmap = try E2E.run("/usr/sbin/postmap", ["hash:" + mapDir + "/tls_policy"])
        #expect(postmap.status == 0, "\(postmap.stderr)")
        let gmail = try E2E.run("/usr/sbin/postmap", ["-q", "gmail.com", "hash:" + mapDir + "/tls_policy"])
        #expect(gmail.stdout == "secure match=gmail-smtp-in.l.google.com:.gmail-smtp-in.l.google.com\n")
        let testing = try E2E.run("/usr/sbin/postmap", ["-q", "0xheap.org", "hash:" + mapDir + "/tls_policy"])
        #expect(testing.status == 1 && testing.stdout.isEmpty)  // testing entries are comments: no policy

        let schema = E2E.data + "/schema/policy-0.1.schema.json"
        let validate = try E2E.run(
            python,
            [
                "-c",
                "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1]))); print('ok')",
                schema, dir + "/policy.json",
            ])
        #expect(validate.stdout == "ok\n", "\(validate.stderr)")
    }

    /// R8 through the commands: a post-freeze edit of a manual entry is refused (exit 65, listed), and
    /// `--force-edit` applies it with the override recorded.
    @Test func postFreezeEditIsRefusedUnlessForced() throws {
        let replay = Replay()
        try replay.ingestStepA()
        _ = try replay.run(
            "policylist-reconcile", ["--as-of", "2020-04-15T07:20:35Z", "--freeze", "2020-04-15T07:20:35Z"])
        #expect(try replay.publish(53, now: "2020-04-15T18:20:00Z").status == 0)
        let edits = E2E.tempDir("edits") + "/late-edits.json"
        let text =
            #"{"schemaVersion": 1, "edits": [{"domain": "0xheap.org", "mxs": ["mx9.0xheap.org"], "at": "2020-04-20T00:00:00Z", "reason": "owner mail"}]}"#
        FileManager.default.createFile(atPath: edits, contents: Data(text.utf8))
        #expect(try replay.run("policylist-ingest", ["requests", edits]).status == 0)
        let refused = try replay.run("policylist-reconcile", ["--as-of", "2020-04-21T00:00:00Z"])
        #expect(refused.status == 65)
        #expect(refused.summary["refused"] as? Int == 1)
        #expect(refused.stderr.contains("refused: 0xheap.org"))
        #expect(refused.stderr.contains("R8"))
        let forced = try replay.run(
            "policylist-reconcile",
            ["--as-of", "2020-04-21T00:00:00Z", "--force-edit", "0xheap.org=owner confirmed by phone"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.summary["updated"] as? Int == 1)
        let explain = try E2E.run("policylist-reconcile", ["explain", "0xheap.org", "--db", replay.db])
        #expect(explain.stdout.contains("forced by the operator: owner confirmed by phone"))
        #expect(explain.stdout.contains("mx9.0xheap.org"))
    }
}
