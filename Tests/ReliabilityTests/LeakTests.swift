import Foundation
import PolicyListStore
import Testing

/// No e-mail address from `domains.csv` and no key material in any output, log or ledger entry.
@Suite("Leaks", .serialized)
struct LeakTests {
    /// The submitters' addresses in the replay's domains.csv.
    static func queueAddresses() async throws -> Set<String> {
        let csv = try await Rel.run("/bin/gzip", ["-dc", Rel.data + "/replay-2020/domains.csv.gz"]).stdout
        return Set(
            csv.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").dropFirst().first }.map(
                String.init))
    }

    static func leaked(_ text: String, _ addresses: Set<String>) -> [String] {
        guard let address = try? Regex(#"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+"#) else { return [] }
        return text.matches(of: address).map { String(text[$0.range]) }.filter { addresses.contains($0) }
    }

    @Test("the full pipeline (make run's job): no queue e-mail address in any output file, stdout, stderr or ledger")
    func noAddressAnywhere() async throws {
        let addresses = try await Self.queueAddresses()
        #expect(addresses.count > 900)
        let work = Rel.tempDir("leaks")
        let db = work + "/p.sqlite"
        let run = try await Rel.run(
            "policylist",
            ["run", "pipelines/final-publication.json", "--db", db, "--var", "OUT=\(work)/out", "--json"],
            cwd: Rel.root)
        #expect(run.status == 0, "\(run.stderr.suffix(2000))")
        let status = try await Rel.run("policylist", ["status", "--db", db, "--json"])
        var texts: [(String, String)] = [
            ("run stdout", run.stdout), ("run stderr", run.stderr), ("status", status.stdout),
        ]
        for (name, data) in Rel.tree(work + "/out") {
            // Compressed outputs (the history archive) are checked inflated.
            let text =
                name.hasSuffix(".gz")
                ? try await Rel.run("/bin/gzip", ["-dc", work + "/out/" + name]).stdout
                : String(decoding: data, as: UTF8.self)
            texts.append((name, text))
        }
        let store = try Database(path: db, mode: .readOnly)
        for row in try store.query("SELECT name, coalesce(summary, ''), coalesce(message, '') FROM run_stages") {
            texts.append(
                ("ledger \(try row.get(0, as: String.self))", try row.get(1) + " " + (try row.get(2, as: String.self))))
        }
        for row in try store.query("SELECT coalesce(error, '') FROM rejected_inputs") {
            texts.append(("rejected_inputs", try row.get(0)))
        }
        store.close()
        var leaks: [String] = []
        for (name, text) in texts {
            leaks += Self.leaked(text, addresses).prefix(3).map { "\(name): \($0)" }
        }
        print("leaks: \(texts.count) outputs, logs and ledger entries checked, \(leaks.count) addresses found")
        #expect(texts.count >= 20)
        #expect(leaks.isEmpty, "\(leaks.prefix(10))")
    }

    @Test("signing: no private key block, no passphrase option, gpg always in --batch mode")
    func noKeyMaterial() async throws {
        let home = Rel.tempDir("gpghome")
        defer { _ = try? Rel.runBlocking("/usr/bin/gpgconf", ["--homedir", home, "--kill", "all"]) }
        let made = try await Rel.run(
            "/usr/bin/gpg",
            [
                "--homedir", home, "--batch", "--passphrase", "", "--pinentry-mode", "loopback", "--quick-gen-key",
                "policylist test <signing@example.invalid>", "ed25519", "sign", "never",
            ])
        try #require(made.status == 0, "\(made.stderr)")
        let db = Rel.tempDir("signed") + "/p.sqlite"
        try await Rel.replayStore(db)
        let out = Rel.tempDir("signed-out")
        let publish = try await Rel.run(
            "policylist-publish",
            [
                "--db", db, "--out", out, "--sign-key", "signing@example.invalid", "--gnupg-home", home, "--json",
                "--now", "2020-04-15T18:20:00Z",
            ] + Rel.seq53)
        #expect(publish.status == 0, "\(publish.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/policy.json.asc"))
        var texts = [publish.stdout, publish.stderr]
        texts += Rel.tree(out).values.map { String(decoding: $0, as: UTF8.self) }
        #expect(!texts.contains { $0.contains("PRIVATE KEY") || $0.contains(home + "/private-keys") })
        // Sources: gpg never gets a passphrase from us, and runs non-interactively.
        let gpg = Rel.text(Rel.root + "/Sources/PolicyListIO/GPG.swift")
        #expect(!gpg.contains("passphrase"))
        #expect(gpg.contains("\"--batch\""))
    }
}
