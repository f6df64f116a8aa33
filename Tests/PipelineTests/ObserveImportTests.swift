import Foundation
import PolicyListCore
import PolicyListPipeline
import PolicyListStore
import Testing

/// The replay fixture's distractor groups (data/replay-2020/README.md).
enum ReplayGroups {
    static let scans = observeRepositoryRoot.appendingPathComponent("data/replay-2020/scans.jsonl.gz").path
    /// 2020-04-22T20:00:00Z, the as-of of replay step (b).
    static let asOf = Instant(seconds: 1_587_585_600)
    /// 2020-04-15T07:20:35Z, the freeze (step a): every scan is later.
    static let freeze = Instant(seconds: 1_586_935_235)
    static let testingA: Set<String> = [
        "0xheap.org", "alio.fr", "babioch.de", "bodis.nl", "cavew.com", "cock.li", "cpexre.com", "davidkevork.me",
        "dombox.org", "ecki-netz.de", "expertisale.com", "fbreest.de", "frenchsmart.net", "grupoicot.es",
        "hesketh.net.au", "icloud.com", "it4sure.nl", "jordibelgraver.email", "kgtv.tk", "ksoft.si", "lifechurch.at",
        "luup.info", "martinploug.dk", "michaelpjohnson.com", "mrwacky.com", "netera.com", "o9z.de",
        "piratenpartei.at", "psharp.net", "rdcdesign.com", "riechsteiner.tech", "salford.gov.uk", "scribnerd.com",
        "shivering-isles.com", "sylvan.io", "the.sexy", "tityrus.be", "tynan.com", "vulnscan.org",
        "wto.economy.gov.ru",
    ]
    /// B and C with the kind of their latest scan.
    static let failing: [String: String] = [
        "accretus.com": "no_txt", "belgraver.eu": "bad_max_age", "cert.br": "no_policy", "curttech.com": "no_txt",
        "downey.net": "bad_max_age", "facebook.com": "no_policy", "fruweb.de": "no_txt", "hklbgd.org": "bad_max_age",
        "jarus-rpas.org": "no_policy", "klinikum-oldenburg.de": "no_txt", "linuxfirewall.no-ip.org": "bad_max_age",
        "mblmail.net": "no_policy", "mystia.org": "no_txt", "outlook.com": "bad_max_age", "quatulo.net": "no_policy",
        "rocketmail.com": "no_txt", "secumail.nl": "bad_max_age", "tala.dk": "no_policy", "tresdouteux.com": "no_txt",
        "waldkindergarten-ausstattung.de": "bad_max_age",
        // C: valid enforce first, failing latest.
        "aixm.aero": "no_txt", "e9a.at": "bad_max_age", "jkdhn.me": "no_txt", "netcompany.com": "bad_max_age",
        "shintag.com": "no_txt",
    ]
    static let notListedF: Set<String> = ["alpha.example", "mike.example", "whiskey.example"]
    static let reasonPrefix = [
        "no_txt": "txt-lookup-failed: ", "bad_max_age": "max-age-out-of-range: 63072000",
        "no_policy": "http-status-not-200: 404",
    ]
}

@Suite("ObservationImport: backend scans of the 2020 replay, broken lines, shards")
struct ObserveImportTests {
    @Test(
        "scans.jsonl: 434 accepted; latest as of step (b): 361 + 3 (F) valid enforce, 40 (A) valid testing, 25 (B, C) invalid with the reason"
    )
    func replay() throws {
        try withObserveTempDirectory { dir in
            let context = try observeContext(dir)
            let request = ObservationImport.Request(paths: [ReplayGroups.scans], format: .backendScans, progress: false)
            let outcome = try ObservationImport.run(request, context: context)
            #expect(outcome.exitCode == .ok)
            #expect(outcome.summary["accepted"] == 434 && outcome.summary["alreadyKnown"] == 0)
            let latest = try Observations(context.db).latestSummaries(asOf: ReplayGroups.asOf)
            #expect(latest.count == 361 + 40 + 25 + 3)
            let enforce = latest.filter { $0.valid && $0.mode == "enforce" }
            #expect(enforce.count == 361 + 3)
            #expect(ReplayGroups.notListedF.isSubset(of: Set(enforce.map(\.domain))))
            #expect(Set(latest.filter { $0.valid && $0.mode == "testing" }.map(\.domain)) == ReplayGroups.testingA)
            let invalid = latest.filter { !$0.valid }
            #expect(
                Dictionary(uniqueKeysWithValues: invalid.map { ($0.domain, $0) }).keys.sorted()
                    == ReplayGroups.failing.keys.sorted())
            for observation in invalid {
                let prefix = ReplayGroups.reasonPrefix[ReplayGroups.failing[observation.domain] ?? ""] ?? "?"
                #expect(
                    observation.reason?.hasPrefix(prefix) == true,
                    "\(observation.domain): \(observation.reason ?? "nil")")
            }
            let gmail = latest.first { $0.domain == "gmail.com" }
            #expect(gmail?.listMXs == ["gmail-smtp-in.l.google.com", ".gmail-smtp-in.l.google.com"])
            #expect(gmail?.ref.hasPrefix("scans.jsonl.gz:") == true && gmail?.ref.hasSuffix(")") == true)
            // Step (a): every scan is after the freeze.
            #expect(try Observations(context.db).latestSummaries(asOf: ReplayGroups.freeze).isEmpty)
            // Importing again adds nothing.
            let again = try ObservationImport.run(request, context: context)
            #expect(again.summary["accepted"] == 0 && again.summary["alreadyKnown"] == 434)
            #expect(again.exitCode == .ok)
        }
    }

    @Test("shards 1/4 … 4/4 into one store hold exactly the rows of a single import")
    func shards() throws {
        try withObserveTempDirectory { dir in
            func rows(_ context: StageContext) throws -> [String] {
                var out: [String] = []
                try Observations(context.db).forEach {
                    out.append(
                        "\($0.domain) \($0.observedAt) \($0.source) \($0.ref) \($0.verdict.valid) \($0.verdict.listMXs)"
                    )
                }
                return out
            }
            let single = try observeContext(dir, name: "single.sqlite")
            _ = try ObservationImport.run(
                .init(paths: [ReplayGroups.scans], format: .backendScans, progress: false), context: single)
            let merged = try observeContext(dir, name: "merged.sqlite")
            var accepted = 0
            for index in 1...4 {
                let shard = Shard.Selection(index: index, count: 4)
                let outcome = try ObservationImport.run(
                    .init(paths: [ReplayGroups.scans], format: .backendScans, shard: shard, progress: false),
                    context: merged)
                if case .number(let text) = outcome.summary["accepted"] { accepted += Int(text) ?? 0 }
                #expect(outcome.summary["shard"] == .string("\(index)/4"))
            }
            #expect(accepted == 434)
            #expect(try rows(merged) == rows(single))
        }
    }

    @Test("every stored row's input line reads back byte for byte from its segment, across batches and re-imports")
    func linesRecoverable() throws {
        try withObserveTempDirectory { dir in
            let context = try observeContext(dir)
            var lines: [String] = []
            for index in 0..<23 {
                // Shared and distinct bodies, odd bytes (a tab between members, a JSON escape).
                let mode = index % 3 == 0 ? "testing" : "enforce"
                let domain = "d\(index).example"
                var line = nativeLine(domain, at: "2024-01-01T00:00:0\(index % 10)Z", mode: mode, mx: ["mx.\(domain)"])
                if index % 5 == 0 { line = line.replacingOccurrences(of: "\"source\"", with: "\t\"source\"") }
                if index % 7 == 0 { line = line.replacingOccurrences(of: "mx: ", with: "mx:\\u0020") }
                lines.append(line)
            }
            lines.insert(lines[4], at: 9)  // the same line again: alreadyKnown within the file
            lines.insert("{broken", at: 2)
            let first = try writeFixture(dir, "first.jsonl", lines.joined(separator: "\n") + "\n")
            let request = ObservationImport.Request(paths: [first], format: .native, batchSize: 5, progress: false)
            let outcome = try ObservationImport.run(request, context: context)
            #expect(outcome.summary["accepted"] == 23 && outcome.summary["alreadyKnown"] == 1)
            // A second file: old lines (alreadyKnown) mixed with new ones, so a batch's segment holds only the
            // new rows' lines.
            let extra = (0..<4).map { nativeLine("e\($0).example", at: "2024-02-01T00:00:00Z") }
            let second = try writeFixture(
                dir, "second.jsonl",
                [lines[0], extra[0], lines[3], extra[1], extra[2], lines[5], extra[3]].joined(separator: "\n"))
            let again = try ObservationImport.run(
                .init(paths: [second], format: .native, batchSize: 3, progress: false), context: context)
            #expect(again.summary["accepted"] == 4 && again.summary["alreadyKnown"] == 3)
            let files = [
                "first.jsonl": lines.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false),
                "second.jsonl": [lines[0], extra[0], lines[3], extra[1], extra[2], lines[5], extra[3]].map {
                    Substring($0)
                },
            ]
            let store = Observations(context.db)
            var stored: [StoredObservation] = []
            try store.forEach { stored.append($0) }
            var checked = 0
            for row in stored {
                let parts = row.ref.split(separator: ":")
                guard parts.count == 2, let file = files[String(parts[0])], let number = Int(parts[1]) else {
                    Issue.record("unexpected ref \(row.ref)")
                    continue
                }
                let line = try store.line(id: row.id)
                #expect(line == Array(file[number - 1].utf8), "\(row.ref)")
                checked += 1
            }
            #expect(checked == 27)
            // One segment per batch that stored something, not one per line.
            let segments = try context.db.scalar("SELECT count(*) FROM observation_segments", as: Int.self)
            #expect(segments == 5 + 3)
            #expect(
                try context.db.scalar("SELECT count(*) FROM observations WHERE line_segment IS NULL", as: Int.self) == 0
            )
        }
    }
}
