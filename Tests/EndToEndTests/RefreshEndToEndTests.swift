import Foundation
import Testing

/// A throw-away GnuPG home with one unprotected signing key, made by the test with the real `gpg`.
struct TestSigningKey {
    let home: String
    let fingerprint: String
    let keyring: String

    static func make(in dir: String) async throws -> TestSigningKey {
        // gpg-agent's socket path must stay short: a home under /tmp, not the test's long temp path.
        let home = "/tmp/pl-gpg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(
            atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let generate = try await runOffPool(
            "/usr/bin/gpg",
            [
                "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
                "policylist refresh test <refresh-test@example.invalid>", "default", "default", "never",
            ])
        guard generate.status == 0 else {
            throw LiveServers.Failure(description: "gpg --quick-gen-key failed: \(generate.stderr)")
        }
        let listing = try await runOffPool(
            "/usr/bin/gpg", ["--homedir", home, "--batch", "--with-colons", "--list-secret-keys"])
        let fingerprint =
            listing.stdout.split(separator: "\n").first { $0.hasPrefix("fpr:") }
            .map { String($0.split(separator: ":", omittingEmptySubsequences: false)[9]) } ?? ""
        let keyring = dir + "/publisher.gpg"
        let export = try await runOffPool(
            "/usr/bin/gpg", ["--homedir", home, "--batch", "--output", keyring, "--export"])
        guard export.status == 0, !fingerprint.isEmpty else {
            throw LiveServers.Failure(description: "gpg export failed: \(export.stderr) \(listing.stdout)")
        }
        return TestSigningKey(home: home, fingerprint: fingerprint, keyring: keyring)
    }

    /// Signs `file` (detached, armored) into `file.asc`.
    func sign(_ file: String) async throws {
        let result = try await runOffPool(
            "/usr/bin/gpg",
            [
                "--homedir", home, "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "",
                "--local-user",
                fingerprint, "--armor", "--detach-sign", "--output", file + ".asc", file,
            ])
        guard result.status == 0 else { throw LiveServers.Failure(description: "gpg sign: \(result.stderr)") }
    }

    /// `gpgv` against the exported public key, as a consumer of the list checks it.
    func verify(_ file: String) async throws -> E2E.Result {
        try await runOffPool("/usr/bin/gpgv", ["--keyring", keyring, file + ".asc", file])
    }

    func cleanUp() {
        _ = try? E2E.run("/usr/bin/gpgconf", ["--homedir", home, "--kill", "gpg-agent"])
        try? FileManager.default.removeItem(atPath: home)
    }
}

extension LiveNetworkTests {
    @Suite("pipelines/refresh.json end to end against the loopback servers")
    struct Refresh {
        @Test(
            "ingest, live observation, reconcile, signed publish, reports; an unchanged rerun is a timestamp-only republication"
        )
        func refreshTwice() async throws {
            let servers = try liveServers()
            let dir = E2E.tempDir("refresh")
            let key = try await TestSigningKey.make(in: dir)
            defer { key.cleanUp() }

            // The currently published list: three testing entries whose domains now serve valid enforce policies
            // (R4), one testing entry that stays testing (R5), and entries whose observations fail (R6).
            let current = dir + "/current/policy.json"
            try FileManager.default.createDirectory(atPath: dir + "/current", withIntermediateDirectories: true)
            try LiveLists.write(
                current, timestamp: "2026-01-20T04:00:00Z",
                entries: [
                    ("enforce.sts.test", "testing", ["mx1.enforce.sts.test"]),
                    ("split.sts.test", "testing", ["mx1.split.sts.test"]),
                    ("dane.test", "testing", ["mx.dane.test"]),
                    ("testing.sts.test", "testing", ["mx1.testing.sts.test"]),
                    ("http404.sts.test", "enforce", ["mx1.http404.sts.test"]),
                    ("nope.sts.test", "testing", ["mx.nope.sts.test"]),
                    ("mxmismatch.sts.test", "testing", ["mx.mxmismatch.sts.test"]),
                ])
            try await key.sign(current)

            let db = dir + "/state/policylist.sqlite"
            let site = dir + "/out/site"
            func refresh(now: String, extra: [String]) async throws -> E2E.Result {
                try await runOffPool(
                    "policylist",
                    [
                        "run", E2E.root + "/pipelines/refresh.json", "--db", db, "--now", now, "--json",
                        "--var", "OUT=\(dir)/out", "--var", "KEYRING=\(key.keyring)", "--var",
                        "SIGN_KEY=\(key.fingerprint)", "--var", "GNUPGHOME=\(key.home)", "--var",
                        "NAMESERVER=\(servers.nameserver)", "--var", "CA_FILE=\(servers.caFile)", "--var",
                        "CONNECT_TO=\(servers.connectTo)", "--var", "TIMEOUT=3",
                    ] + extra,
                    cwd: dir)
            }
            func stage(_ result: E2E.Result, _ name: String) -> [String: Any] {
                let stages = result.summary["stages"] as? [[String: Any]] ?? []
                return stages.first { $0["name"] as? String == name }?["summary"] as? [String: Any] ?? [:]
            }

            // First run: the list as published today.
            let first = try await refresh(now: "2026-02-01T04:00:00Z", extra: ["--var", "CURRENT=\(current)"])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.summary["status"] as? String == "ok")
            #expect(stage(first, "observe")["observed"] as? Int == 7)
            let reconcile = stage(first, "reconcile")
            #expect(reconcile["updated"] as? Int == 3, "\(reconcile)")
            #expect(reconcile["removed"] as? Int == 0)
            #expect(stage(first, "publish")["republication"] as? Bool == false)
            let list = try #require(
                try JSONSerialization.jsonObject(with: E2E.read(site + "/policy.json")) as? [String: Any])
            let policies = list["policies"] as? [String: [String: Any]] ?? [:]
            #expect(policies["enforce.sts.test"]?["mode"] as? String == "enforce")
            #expect(policies["enforce.sts.test"]?["mxs"] as? [String] == ["mx1.enforce.sts.test", ".enforce.sts.test"])
            #expect(policies["dane.test"]?["mode"] as? String == "enforce")
            #expect(policies["testing.sts.test"]?["mode"] as? String == "testing")
            #expect(policies["mxmismatch.sts.test"]?["mode"] as? String == "testing", "an invalid observation (R6)")
            #expect(policies.count == 7)
            let verified = try await key.verify(site + "/policy.json")
            #expect(verified.status == 0, "gpgv: \(verified.stderr)")
            let changelog = String(decoding: E2E.read(site + "/CHANGELOG.md"), as: UTF8.self)
            #expect(changelog.contains("R4"), "\(changelog)")
            #expect(FileManager.default.fileExists(atPath: dir + "/out/observations/live.jsonl"))
            for report in ["deprecation.json", "deprecation.html", "history.json", "history.md"] {
                #expect(FileManager.default.fileExists(atPath: dir + "/out/reports/" + report), "\(report)")
            }
            #expect((first.summary["stages"] as? [[String: Any]])?.count == 6)

            // Second run a day later, nothing changed on the servers: it ingests what it published itself
            // (CURRENT's default) and republishes with a fresh timestamp only.
            let second = try await refresh(now: "2026-02-02T04:00:00Z", extra: [])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(stage(second, "publish")["republication"] as? Bool == true, "\(second.stdout)")
            #expect(stage(second, "reconcile")["updated"] as? Int == 0)
            let changelog2 = String(decoding: E2E.read(site + "/CHANGELOG.md"), as: UTF8.self)
            #expect(changelog2.contains("Timestamp-only republication (R10)"), "\(changelog2)")
            let list2 = try #require(
                try JSONSerialization.jsonObject(with: E2E.read(site + "/policy.json")) as? [String: Any])
            #expect(list2["policies"] as? NSDictionary == list["policies"] as? NSDictionary)
            #expect((list2["timestamp"] as? String ?? "") > (list["timestamp"] as? String ?? ""))
            #expect(try await key.verify(site + "/policy.json").status == 0)

            let status = try await runOffPool("policylist", ["status", "--db", db, "--json"])
            let runs = status.summary["runs"] as? [[String: Any]] ?? []
            #expect(runs.count == 2 && runs.allSatisfy { $0["status"] as? String == "ok" })
        }
    }
}
