import Foundation
import Testing

/// One fixture of `scripts/testservers` and what `policylist-observe live` must record for it.
struct LiveCase: Sendable, CustomTestStringConvertible {
    var domain: String
    var txt: String
    var policy: String
    var httpStatus: Int? = nil
    var valid: Bool
    var mode: String? = nil
    /// The verdict's reason starts with this (nil: no reason).
    var reason: String? = nil
    var listMXs: String? = nil
    var what: String

    var testDescription: String { "\(what) (\(domain))" }
}

let liveCases: [LiveCase] = [
    LiveCase(
        domain: "enforce.sts.test", txt: "ok", policy: "ok", httpStatus: 200, valid: true, mode: "enforce",
        listMXs: #"["mx1.enforce.sts.test",".enforce.sts.test"]"#, what: "a valid enforce policy"),
    LiveCase(
        domain: "testing.sts.test", txt: "ok", policy: "ok", httpStatus: 200, valid: true, mode: "testing",
        what: "a valid testing policy"),
    LiveCase(
        domain: "none.sts.test", txt: "ok", policy: "ok", httpStatus: 200, valid: true, mode: "none",
        what: "a valid none policy"),
    LiveCase(
        domain: "multi.sts.test", txt: "ok", policy: "ok", httpStatus: 200, valid: false, mode: "enforce",
        reason: "multiple-sts-records: 2 records", what: "two v=STSv1 TXT records: no policy (§3.1)"),
    LiveCase(
        domain: "split.sts.test", txt: "ok", policy: "ok", httpStatus: 200, valid: true, mode: "enforce",
        what: "a TXT record split across two strings is joined"),
    LiveCase(
        domain: "bigtxt.sts.test", txt: "ok", policy: "ok", httpStatus: 200, valid: true, mode: "enforce",
        what: "a TXT answer truncated over UDP is fetched over TCP"),
    LiveCase(
        domain: "nope.sts.test", txt: "nxdomain", policy: "error", valid: false,
        reason: "no-sts-record: nxdomain", what: "NXDOMAIN: no policy, nothing fetched"),
    LiveCase(
        domain: "nodata.sts.test", txt: "nodata", policy: "error", valid: false, reason: "no-sts-record: nodata",
        what: "NODATA: no policy, nothing fetched"),
    LiveCase(
        domain: "bogus.test", txt: "servfail", policy: "error", valid: false, reason: "txt-lookup-failed: servfail",
        what: "SERVFAIL (DNSSEC validation failure in unbound)"),
    LiveCase(
        domain: "http404.sts.test", txt: "ok", policy: "http-status", httpStatus: 404, valid: false,
        reason: "http-status-not-200: 404", what: "HTTP 404"),
    LiveCase(
        domain: "redirect.sts.test", txt: "ok", policy: "redirect", httpStatus: 301, valid: false,
        reason: "redirect-not-followed: 301", what: "a 301 redirect is not followed"),
    LiveCase(
        domain: "html.sts.test", txt: "ok", policy: "content-type", httpStatus: 200, valid: false,
        reason: "content-type-not-text-plain: text/html", what: "Content-Type text/html"),
    LiveCase(
        domain: "bigbody.sts.test", txt: "ok", policy: "too-large", valid: false, reason: "too-large",
        what: "a 100 KiB body with Content-Length is cut at 64 KiB and rejected"),
    LiveCase(
        domain: "bigchunked.sts.test", txt: "ok", policy: "too-large", valid: false, reason: "too-large",
        what: "a 100 KiB chunked body is cut at 64 KiB and rejected"),
    LiveCase(
        domain: "slow.sts.test", txt: "ok", policy: "timeout", valid: false, reason: "policy-fetch-failed: timeout",
        what: "one byte per second: the total timeout ends it"),
    LiveCase(
        domain: "wrongname.sts.test", txt: "ok", policy: "tls-error", valid: false,
        reason: "policy-tls-error: SSL: no alternative certificate subject name matches",
        what: "a certificate for the wrong name"),
    LiveCase(
        domain: "expired.sts.test", txt: "ok", policy: "tls-error", valid: false,
        reason: "policy-tls-error: SSL certificate problem: certificate has expired", what: "an expired certificate"),
    LiveCase(
        domain: "selfsigned.sts.test", txt: "ok", policy: "tls-error", valid: false,
        reason: "policy-tls-error: SSL certificate problem: self-signed certificate",
        what: "a self-signed certificate not under the test CA"),
    LiveCase(
        domain: "mxmismatch.sts.test", txt: "ok", policy: "ok", httpStatus: 200, valid: false, mode: "enforce",
        reason: "mx-not-covered: mail.elsewhere.test",
        what: "policy mx patterns that do not cover the domain's MX (§4.1)"),
    LiveCase(
        domain: "dane.test", txt: "ok", policy: "ok", httpStatus: 200, valid: true, mode: "enforce",
        listMXs: #"["mx.dane.test"]"#, what: "a DNSSEC-signed domain with TLSA and TLSRPT"),
]

/// One `live` run over every fixture, shared by the tests of the suite (run once, on first use).
actor LiveFixtureRun {
    static let shared = LiveFixtureRun()

    struct Outcome: Sendable {
        var dir: String
        var db: String
        var out: String
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
        /// The `--out` lines as written.
        var lines: [String]

        /// The domains of the `--out` lines, in order.
        var domains: [String] { lines.map { parseObject($0)["domain"] as? String ?? "" } }
    }

    private var running: Task<Outcome, any Error>?

    /// The run, started by the first caller; later callers wait for the same one.
    func get() async throws -> Outcome {
        if running == nil {
            let servers = try liveServers()
            running = Task { try await Self.make(servers) }
        }
        guard let running else { throw LiveServers.Failure(description: "no run") }
        return try await running.value
    }

    private static func make(_ servers: LiveServers) async throws -> Outcome {
        let dir = E2E.tempDir("live-fixtures")
        let domains = dir + "/domains.txt"
        let text =
            "# every fixture of scripts/testservers\n" + liveCases.map(\.domain).joined(separator: "\n")
            + "\n\nENFORCE.sts.test.   # a repeat, in another spelling\nnot a domain!\n"
        try text.write(toFile: domains, atomically: true, encoding: .utf8)
        let start = ContinuousClock.now
        let result = try await runOffPool(
            "policylist-observe",
            [
                "live", "--domains", domains, "--db", dir + "/db.sqlite", "--out", dir + "/out.jsonl", "--tlsrpt",
                "--dane",
                "--timeout", "3", "--json", "--now", "2026-01-01T00:00:00Z",
            ] + servers.networkArguments)
        let elapsed = ContinuousClock.now - start
        let lines = (try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8)).split(separator: "\n").map(
            String.init)
        let made = Outcome(
            dir: dir, db: dir + "/db.sqlite", out: dir + "/out.jsonl", status: result.status, stdout: result.stdout,
            stderr: result.stderr,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, lines: lines)
        print(
            "live fixtures: \(liveCases.count) domains in \(String(format: "%.2f", made.seconds)) s (timeout 3 s); "
                + (result.stderr.split(separator: "\n").last.map(String.init) ?? ""))
        return made
    }

    /// The `--out` line of `domain`.
    func line(_ domain: String) async throws -> String {
        try await get().lines.first { parseObject($0)["domain"] as? String == domain } ?? "{}"
    }
}

/// A JSON object line as a dictionary (empty when it is not one).
func parseObject(_ line: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
}

extension LiveNetworkTests {
    @Suite("policylist-observe live against the loopback DNS and HTTPS servers")
    struct Observe {
        @Test("each fixture yields the right stored observation and verdict", arguments: liveCases)
        func fixture(_ expected: LiveCase) async throws {
            let run = try await LiveFixtureRun.shared.get()
            let row = try #require(try LiveDB.row(run.db, expected.domain), "no observation of \(expected.domain)")
            #expect(row.txtStatus == expected.txt, "\(row)")
            #expect(row.policyStatus == expected.policy, "\(row)")
            #expect(row.httpStatus == expected.httpStatus, "\(row)")
            #expect(row.valid == expected.valid, "\(row)")
            #expect(row.mode == expected.mode, "\(row)")
            #expect(row.source == "live")
            #expect(row.observedAt == "2026-01-01T00:00:00Z")
            if let reason = expected.reason {
                #expect(row.reason?.hasPrefix(reason) == true, "\(row)")
            } else {
                #expect(row.reason == nil, "\(row)")
            }
            if let listMXs = expected.listMXs { #expect(row.listMXs == listMXs) }
        }

        @Test("the run: exit 65 for the rejected line, duplicates skipped, summary counts, within the timeouts")
        func summary() async throws {
            let run = try await LiveFixtureRun.shared.get()
            #expect(run.status == 65, "\(run.stderr)")
            #expect(
                run.stderr.contains("domains.txt:") && run.stderr.contains("\"not a domain!\" is not a domain name"))
            let summary = parseObject(run.stdout)
            #expect(summary["command"] as? String == "observe live")
            #expect(summary["observed"] as? Int == liveCases.count)
            #expect(summary["valid"] as? Int == liveCases.filter(\.valid).count)
            #expect(summary["invalid"] as? Int == liveCases.filter { !$0.valid }.count)
            #expect(summary["accepted"] as? Int == liveCases.count)
            #expect(summary["duplicates"] as? Int == 1)
            #expect(summary["rejectedCount"] as? Int == 1)
            #expect(summary["mxNotCovered"] as? Int == 1)
            #expect(summary["dnsUnavailable"] as? Bool == false)
            #expect((summary["policy"] as? [String: Int])?["not-fetched"] == 3)
            // The slow server is the longest: bounded by the 3 s total timeout, not by its 60-byte body.
            #expect(run.seconds < 12, "the run took \(run.seconds) s")
        }

        @Test("--out holds one native JSONL line per domain in input order, the bytes stored in the database")
        func outFile() async throws {
            let run = try await LiveFixtureRun.shared.get()
            #expect(run.domains == liveCases.map(\.domain))
            // The importer reads the file back to the very same rows (same line hashes and verdicts).
            let imported = run.dir + "/imported.sqlite"
            let result = try await runOffPool("policylist-observe", ["import", run.out, "--db", imported, "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try LiveDB.rows(imported) == LiveDB.rows(run.db))
        }

        @Test("a TXT record split across strings is recorded as one record of two strings")
        func splitTXT() async throws {
            let line = parseObject(try await LiveFixtureRun.shared.line("split.sts.test"))
            let txt = line["txt"] as? [String: Any]
            #expect((txt?["records"] as? [[String]]) == [["v=STSv1; ", "id=split1;"]])
        }

        @Test("TLSRPT present (enforce, dane) and absent (testing)")
        func tlsrpt() async throws {
            for (domain, present) in [("enforce.sts.test", true), ("dane.test", true), ("testing.sts.test", false)] {
                let tlsrpt = parseObject(try await LiveFixtureRun.shared.line(domain))["tlsrpt"] as? [String: Any]
                let records = tlsrpt?["records"] as? [String] ?? []
                #expect(
                    records.contains { $0.hasPrefix("v=TLSRPTv1") } == present,
                    "\(domain): \(String(describing: tlsrpt))")
                #expect(tlsrpt?["status"] as? String == (present ? "ok" : "nxdomain"))
            }
        }

        @Test("TLSA with the AD bit (signed dane.test) and without it (unsigned sts.test)")
        func tlsa() async throws {
            let servers = try liveServers()
            for (domain, host, authenticated) in [
                ("dane.test", "mx.dane.test", true), ("enforce.sts.test", "mx1.enforce.sts.test", false),
            ] {
                let line = parseObject(try await LiveFixtureRun.shared.line(domain))
                let tlsa = try #require(line["tlsa"] as? [String: Any], "\(domain) has no tlsa")
                let hosts = tlsa["hosts"] as? [[String: Any]] ?? []
                let entry = try #require(hosts.first { $0["host"] as? String == host }, "\(domain): \(hosts)")
                #expect(entry["status"] as? String == "ok")
                #expect(entry["authenticated"] as? Bool == authenticated, "\(domain)")
                #expect(tlsa["mxAuthenticated"] as? Bool == authenticated)
                let record = (entry["records"] as? [[String: Any]])?.first
                #expect(record?["usage"] as? Int == 3 && record?["selector"] as? Int == 1)
                #expect(record?["data"] as? String == servers.env["TLSA_SHA256"])
            }
        }

        @Test("the MX lookup is recorded and the uncovered MX is a verdict reason and warning")
        func mxCoverage() async throws {
            let run = try await LiveFixtureRun.shared.get()
            let row = try #require(try LiveDB.row(run.db, "mxmismatch.sts.test"))
            #expect(row.warnings.contains("mx-not-covered: mail.elsewhere.test"))
            let mx = parseObject(try await LiveFixtureRun.shared.line("mxmismatch.sts.test"))["mx"] as? [String: Any]
            #expect((mx?["records"] as? [[String: Any]])?.first?["exchange"] as? String == "mail.elsewhere.test")
            // The enforce fixture's wildcard covers mx2: no warning there.
            #expect(try LiveDB.row(run.db, "enforce.sts.test")?.warnings.contains("mx-not-covered") == false)
        }

        @Test("a DNS server that never answers: every lookup times out within the timeout, exit 69, still recorded")
        func dnsTimeout() async throws {
            let servers = try liveServers()
            let dir = E2E.tempDir("live-blackhole")
            try "enforce.sts.test\ntesting.sts.test\ndane.test\n".write(
                toFile: dir + "/d.txt", atomically: true, encoding: .utf8)
            let start = ContinuousClock.now
            let result = try await runOffPool(
                "policylist-observe",
                [
                    "live", "--domains", dir + "/d.txt", "--db", dir + "/db.sqlite", "--nameserver",
                    "127.0.0.1:\(servers.blackholePort)", "--timeout", "2", "--json", "--now", "2026-01-01T00:00:00Z",
                ])
            let elapsed = ContinuousClock.now - start
            print("black-hole nameserver, --timeout 2: exit \(result.status) after \(elapsed)")
            #expect(result.status == 69, "\(result.stderr)")
            #expect(result.stderr.contains("the resolver is unavailable"))
            #expect(elapsed >= .milliseconds(1900) && elapsed < .seconds(6), "\(elapsed)")
            let rows = try LiveDB.rows(dir + "/db.sqlite")
            #expect(rows.count == 3)
            #expect(rows.allSatisfy { $0.txtStatus == "timeout" && $0.reason == "txt-lookup-failed: timeout" })
            #expect(result.summary["dnsUnavailable"] as? Bool == true)
        }

        @Test("a server sending one byte per second is cut by --timeout (total), not later")
        func slowServer() async throws {
            let servers = try liveServers()
            let dir = E2E.tempDir("live-slow")
            try "slow.sts.test\n".write(toFile: dir + "/d.txt", atomically: true, encoding: .utf8)
            let start = ContinuousClock.now
            let result = try await runOffPool(
                "policylist-observe",
                ["live", "--domains", dir + "/d.txt", "--db", dir + "/db.sqlite", "--timeout", "2", "--json"]
                    + servers.networkArguments)
            let elapsed = ContinuousClock.now - start
            print("slow server, --timeout 2: \(elapsed)")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try LiveDB.row(dir + "/db.sqlite", "slow.sts.test")?.policyStatus == "timeout")
            #expect(elapsed >= .milliseconds(1900) && elapsed < .seconds(5), "\(elapsed)")
        }

        @Test("--listed observes the current list's domains in the list's order")
        func listed() async throws {
            let servers = try liveServers()
            let dir = E2E.tempDir("live-listed")
            try LiveLists.write(
                dir + "/policy.json", timestamp: "2025-12-01T00:00:00Z",
                entries: [
                    ("testing.sts.test", "testing", ["mx1.testing.sts.test"]),
                    ("enforce.sts.test", "testing", ["mx1.enforce.sts.test"]),
                    ("dane.test", "enforce", ["mx.dane.test"]),
                ])
            let db = dir + "/db.sqlite"
            let ingest = try await runOffPool(
                "policylist-ingest", ["snapshots", dir + "/policy.json", "--db", db, "--json"])
            #expect(ingest.status == 0, "\(ingest.stderr)")
            let result = try await runOffPool(
                "policylist-observe",
                ["live", "--listed", "--db", db, "--out", dir + "/out.jsonl", "--json"] + servers.networkArguments)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.summary["observed"] as? Int == 3)
            let domains = (try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8)).split(separator: "\n")
                .compactMap {
                    (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["domain"] as? String
                }
            #expect(domains == ["testing.sts.test", "enforce.sts.test", "dane.test"])
        }

        @Test(
            "usage errors exit 64",
            arguments: [
                ["live"], ["live", "--domains", "x", "--listed"], ["live", "--listed", "--no-store"],
                ["live", "--domains", "x", "--shard", "5/4"], ["live", "--domains", "x", "--nameserver", "not-an-ip"],
                ["live", "--domains", "x", "--concurrency", "0"],
            ])
        func usage(_ arguments: [String]) async throws {
            let result = try await runOffPool(
                "policylist-observe", arguments + ["--db", E2E.tempDir("live-usage") + "/db.sqlite"])
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
        }
    }
}

/// Writes small schema-0.1 lists for tests.
enum LiveLists {
    static func write(_ path: String, timestamp: String, entries: [(String, String, [String])]) throws {
        let policies = entries.map { domain, mode, mxs in
            "    \"\(domain)\": {\n      \"mode\": \"\(mode)\",\n      \"mxs\": [\n"
                + mxs.map { "        \"\($0)\"" }.joined(separator: ",\n") + "\n      ]\n    }"
        }.joined(separator: ",\n")
        let text = """
            {
              "timestamp": "\(timestamp)",
              "expires": "2099-01-01T00:00:00Z",
              "version": "0.1",
              "author": "policylist tests",
              "policy-aliases": {},
              "policies": {
            \(policies)
              }
            }
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
