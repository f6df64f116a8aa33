import Foundation
import PolicyListCore
import PolicyListPipeline
import PolicyListStore
import Testing

@Suite("Observation store: idempotency, latest per domain, ties")
struct ObserveStoreTests {
    static func facts(_ line: String) throws -> ObservationFacts {
        .native(try Observation.read(jsonLine: Array(line.utf8)).0)
    }

    static func insert(_ store: Observations, _ line: String, ref: String) throws -> Observations.InsertOutcome {
        let facts = try facts(line)
        return try store.insert(facts, verdict: facts.verdict, ref: ref, line: Array(line.utf8))
    }

    @Test("the same line twice is alreadyKnown; different bytes for the same identity are a conflict")
    func idempotent() throws {
        try withObserveTempDirectory { dir in
            let context = try observeContext(dir)
            let store = Observations(context.db)
            let line = nativeLine("a.example", at: "2024-01-01T00:00:00Z")
            guard case .inserted = try Self.insert(store, line, ref: "f:1") else {
                Issue.record("first insert was not new")
                return
            }
            #expect(try Self.insert(store, line, ref: "g:9") == .alreadyKnown(ref: "f:1"))
            let changed = nativeLine("a.example", at: "2024-01-01T00:00:00Z", mode: "testing")
            #expect(try Self.insert(store, changed, ref: "g:10") == .conflict(ref: "f:1"))
            #expect(try store.count() == 1)
            // Another source at the same instant is another observation.
            guard
                case .inserted = try Self.insert(
                    store, nativeLine("a.example", at: "2024-01-01T00:00:00Z", source: "other"), ref: "h:1")
            else {
                Issue.record("other source was not new")
                return
            }
            #expect(try store.count() == 2)
        }
    }

    @Test("latest per domain as of T; ties prefer valid, then the greater ref; matches Reconciler.latestObservations")
    func latest() throws {
        try withObserveTempDirectory { dir in
            let context = try observeContext(dir)
            let store = Observations(context.db)
            let lines: [(String, String)] = [
                (nativeLine("a.example", at: "2024-01-01T00:00:00Z", mode: "testing"), "f:1"),
                (nativeLine("a.example", at: "2024-02-01T00:00:00Z", mode: "enforce"), "f:2"),
                (nativeLine("a.example", at: "2024-03-01T00:00:00Z", txtStatus: "nxdomain"), "f:3"),
                // A tie on the instant: the valid one wins although its ref is smaller.
                (nativeLine("b.example", at: "2024-02-01T00:00:00Z", txtStatus: "servfail", source: "z"), "f:5"),
                (nativeLine("b.example", at: "2024-02-01T00:00:00Z", source: "a"), "f:4"),
                // A tie between two valid ones: the greater ref wins.
                (
                    nativeLine("c.example", at: "2024-02-01T00:00:00.000000001Z", mx: ["one.example"], source: "s1"),
                    "f:6"
                ),
                (
                    nativeLine("c.example", at: "2024-02-01T00:00:00.000000001Z", mx: ["two.example"], source: "s2"),
                    "f:7"
                ),
                (nativeLine("d.example", at: "2024-06-01T00:00:00Z"), "f:8"),
            ]
            try context.db.transaction { _ in
                for (line, ref) in lines { _ = try Self.insert(store, line, ref: ref) }
            }
            let asOf = Instant(seconds: 1_709_251_200)  // 2024-03-01T00:00:00Z, inclusive
            let latest = try store.latestSummaries(asOf: asOf)
            #expect(latest.map(\.domain) == ["a.example", "b.example", "c.example"])
            #expect(latest.map(\.ref) == ["f:3", "f:4", "f:7"])
            #expect(latest[0].valid == false && latest[0].reason == "no-sts-record: nxdomain")
            #expect(latest[2].listMXs == ["two.example"])
            let earlier = try store.latestSummaries(asOf: Instant(seconds: 1_709_251_199))
            #expect(earlier.first?.ref == "f:2" && earlier.first?.mode == "enforce")
            // The same answer as the pure rule over every stored observation.
            var all: [ObservationSummary] = []
            try store.forEach { all.append($0.summary) }
            let pure = Reconciler.latestObservations(all, asOf: asOf)
            #expect(Dictionary(uniqueKeysWithValues: latest.map { ($0.domain, $0) }) == pure)
        }
    }

    @Test("stored verdicts read back equal to the computed ones, with the parser version")
    func roundTrip() throws {
        try withObserveTempDirectory { dir in
            let context = try observeContext(dir)
            let store = Observations(context.db)
            let line = nativeLine("e.example", at: "2024-01-01T00:00:00.25Z", mx: ["MX.Example.net", "*.example.org"])
            let facts = try Self.facts(line)
            _ = try store.insert(facts, verdict: facts.verdict, ref: "f:1", line: Array(line.utf8))
            var stored: [StoredObservation] = []
            try store.forEach { stored.append($0) }
            #expect(stored.count == 1)
            #expect(stored.first?.verdict == facts.verdict)
            #expect(stored.first?.observedAt == Instant(seconds: 1_704_067_200, nanoseconds: 250_000_000))
            #expect(stored.first?.verdict.listMXs == ["MX.Example.net", ".example.org"])
            #expect(stored.first.map { try? store.line(id: $0.id) } == Array(line.utf8))
        }
    }

    @Test("0008 keeps a 0005 database working: rows copied with their ids, lines still read from their blobs")
    func migratesFrom0005() throws {
        try withObserveTempDirectory { dir in
            let db = try Database(path: dir + "/old.sqlite")
            let upTo0007 = Array(Migrations.all.prefix { $0.name != "0008-observations-lean" })
            try Migrations.migrate(db, now: "2024-01-01T00:00:00Z", migrations: upTo0007)
            // A row as 0005 stored it: the line as a blob of its own, referenced by line_sha256.
            let line = Array(nativeLine("old.example", at: "2024-01-01T00:00:00Z").utf8)
            let hash = try BlobStore(db).put(line).hash
            try db.execute(
                """
                INSERT INTO observations (id, domain, observed_at, observed_at_ns, source, kind, ref, line_sha256,
                    txt_status, txt_records, policy_status, parser_version, valid, mx, list_mxs, reason, warnings)
                VALUES (7, 'old.example', '2024-01-01T00:00:00Z', 1704067200000000000, 'live', 'native', 'f:1', ?,
                    'ok', '[]', 'ok', 1, 0, '[]', '[]', 'stale', '[]')
                """, [.text(hash)])
            try Migrations.migrate(db, now: "2024-01-02T00:00:00Z")
            let store = Observations(db)
            #expect(try store.count() == 1)
            #expect(try store.line(id: 7) == line)
            #expect(
                try store.latestSummaries(asOf: Instant(seconds: 1_800_000_000, nanoseconds: 0)).map(\.ref) == ["f:1"])
            // New rows go into segments next to the old one; the identity rule spans both forms.
            let facts = try Self.facts(String(decoding: line, as: UTF8.self))
            #expect(try store.insert(facts, ref: "g:1", line: line) == .alreadyKnown(ref: "f:1"))
            let newLine = nativeLine("new.example", at: "2024-01-01T00:00:00Z")
            guard case .inserted(let id) = try Self.insert(store, newLine, ref: "g:2") else {
                Issue.record("new row was not inserted")
                return
            }
            #expect(id == 8)
            #expect(try store.line(id: id) == Array(newLine.utf8))
        }
    }
}

@Suite("AggregatedStats: ingest stats from CSV and JSONL")
struct AggregatedStatsTests {
    @Test("CSV: first write wins per (time, source), a bad row is rejected and kept, the rest stored")
    func csv() throws {
        try withObserveTempDirectory { dir in
            let context = try observeContext(dir)
            let path = try writeFixture(dir, "aggregated_scans.csv", aggregatedScansCSV)
            let outcome = try AggregatedStats.run(paths: [path], context: context)
            #expect(outcome.exitCode == .dataError)
            #expect(outcome.summary["command"] == "ingest stats")
            #expect(outcome.summary["accepted"] == 4)
            #expect(outcome.summary["alreadyKnown"] == 1)
            #expect(outcome.summary["rejectedCount"] == 1)
            let rejected = outcome.summary["rejected"]?.arrayValue?.first
            #expect(rejected?["line"] == 6)
            #expect(rejected?["error"]?.stringValue?.hasPrefix("attempted: expected a count") == true)
            let rows = try AggregatedScans(context.db).all()
            let local15 = rows.first { $0.source == "LOCAL" && $0.time == Instant(seconds: 1_560_556_800) }
            #expect(local15?.withMXs == 1431)
            #expect(try Rejections(context.db).list().map(\.location) == ["line 6"])
            // Idempotent.
            let again = try AggregatedStats.run(paths: [path], context: context)
            #expect(again.summary["accepted"] == 0 && again.summary["alreadyKnown"] == 5)
        }
    }

    @Test("JSONL over every schema: UTC times, list lengths as counts; CSV and JSONL of one instant agree")
    func jsonl() throws {
        try withObserveTempDirectory { dir in
            let context = try observeContext(dir)
            let path = try writeFixture(dir, "aggregated_scans.jsonl", aggregatedScansJSONL)
            let outcome = try AggregatedStats.run(paths: [path], context: context)
            #expect(outcome.summary["accepted"] == 3 && outcome.summary["rejectedCount"] == 1)
            #expect(outcome.exitCode == .dataError)
            let rows = try AggregatedScans(context.db).all()
            let old = rows.first { $0.source == "top-1m.csv" }
            #expect(old?.time == Instant(seconds: 1_549_011_600, nanoseconds: 123_000_000))
            #expect(old?.withMXs == 700 && old?.testing == 1 && old?.enforce == 2 && old?.schema == .domainTotals)
            let may = rows.first { $0.time == Instant(seconds: 1_558_310_400) }
            #expect(may?.testing == 2 && may?.enforce == 1)
            // 2019-06-14T10:03:12.481516-07:00 is the CSV's 2019-06-14 17:03:12.481516 UTC: first write wins.
            let csvPath = try writeFixture(dir, "aggregated_scans.csv", aggregatedScansCSV)
            let csv = try AggregatedStats.run(paths: [csvPath], context: context)
            #expect(csv.summary["alreadyKnown"] == 2)
        }
    }

    @Test("a file in neither format is rejected at its first line")
    func unknownFormat() throws {
        try withObserveTempDirectory { dir in
            let context = try observeContext(dir)
            let path = try writeFixture(dir, "x.txt", "hello,world\n1,2\n")
            let outcome = try AggregatedStats.run(paths: [path], context: context)
            #expect(outcome.summary["rejectedCount"] == 1 && outcome.exitCode == .dataError)
            let missing = try AggregatedStats.run(paths: [dir + "/missing.csv"], context: context)
            #expect(missing.exitCode == .ioError)
        }
    }
}
