import Foundation
import PolicyListCore
import PolicyListPipeline
import PolicyListStore
import Testing

@Suite("ObservationMerge: shard databases merged into one store")
struct ObserveMergeTests {
    /// Native lines over a few domains and times, one invalid JSON line and one line with a bad field.
    static func nativeFixture(_ dir: String) throws -> String {
        var lines: [String] = []
        for day in 1...3 {
            for domain in ["a.example", "b.example", "c.example", "d.example", "e.example", "f.example"] {
                lines.append(
                    nativeLine(domain, at: "2024-01-0\(day)T00:00:00Z", mode: day == 2 ? "testing" : "enforce"))
            }
        }
        lines.insert("{not json", at: 4)
        lines.insert(nativeLine("g.example", at: "2024-01-01T00:00:00", mode: "enforce"), at: 9)
        return try writeFixture(dir, "live.jsonl", lines.joined(separator: "\n") + "\n")
    }

    /// Every column of every observation but the row id, in identity order.
    static func observationRows(_ db: Database) throws -> [[SQLValue]] {
        try db.query(
            """
            SELECT domain, observed_at, observed_at_ns, source, ref, line_sha256, kind, scan_id, txt_status,
                txt_records, txt_error, policy_status, http_status, content_type, location, policy_sha256,
                policy_error, tlsrpt, tlsa, backend_status, backend_checks, parser_version, valid, strict_valid,
                txt_valid, txt_strict_valid, txt_id, policy_valid, policy_strict_valid, mode, max_age, mx, list_mxs,
                reason, strict_reason, warnings
            FROM observations ORDER BY domain, observed_at_ns, source
            """
        ).map(\.values)
    }

    /// Every observation's input line, read back from the store, by identity.
    static func lines(_ db: Database) throws -> [String: [UInt8]] {
        let store = Observations(db)
        var rows: [StoredObservation] = []
        try store.forEach { rows.append($0) }
        var lines: [String: [UInt8]] = [:]
        for row in rows { lines["\(row.domain) \(row.observedAt) \(row.source)"] = try store.line(id: row.id) }
        return lines
    }

    static func blobRows(_ db: Database) throws -> [[SQLValue]] {
        try db.query("SELECT sha256, size, data FROM blobs ORDER BY sha256").map(\.values)
    }

    static func rejectionRows(_ db: Database) throws -> [[SQLValue]] {
        try db.query("SELECT kind, source, location, blob, error FROM rejected_inputs ORDER BY kind, source, location")
            .map(\.values)
    }

    static func count(_ summary: JSONValue, _ key: String) -> Int? {
        if case .number(let text) = summary[key] { return Int(text) }
        return nil
    }

    @Test("two shard databases merged hold exactly what one import holds; merging again adds nothing")
    func shardsEqualSingle() throws {
        try withObserveTempDirectory { dir in
            let native = try Self.nativeFixture(dir)
            func importAll(_ context: StageContext, shard: Shard.Selection?) throws {
                _ = try ObservationImport.run(
                    .init(paths: [ReplayGroups.scans], format: .backendScans, shard: shard, progress: false),
                    context: context)
                _ = try ObservationImport.run(
                    .init(paths: [native], format: .native, shard: shard, progress: false), context: context)
            }
            let single = try observeContext(dir, name: "single.sqlite")
            try importAll(single, shard: nil)
            for index in 1...2 {
                try importAll(
                    observeContext(dir, name: "shard\(index).sqlite"), shard: Shard.Selection(index: index, count: 2))
            }
            let merged = try observeContext(dir, name: "merged.sqlite")
            let request = ObservationMerge.Request(
                paths: [dir + "/shard1.sqlite", dir + "/shard2.sqlite"], batchRows: 50)
            let outcome = try ObservationMerge.run(request, context: merged)
            #expect(outcome.exitCode == .ok)
            let total = try Observations(single.db).count()
            #expect(total == 434 + 18)
            #expect(Self.count(outcome.summary, "accepted") == total)
            #expect(Self.count(outcome.summary, "alreadyKnown") == 0)
            #expect(try Self.observationRows(merged.db) == Self.observationRows(single.db))
            #expect(try Self.blobRows(merged.db) == Self.blobRows(single.db))
            // The lines sit in other segments (one per shard batch) but read back the same, byte for byte.
            let lines = try Self.lines(merged.db)
            #expect(lines.count == total)
            #expect(try lines == Self.lines(single.db))
            // The invalid JSON line is rejected by both shards; the ledger keeps one record of it, as in one import.
            #expect(try Self.rejectionRows(merged.db) == Self.rejectionRows(single.db))
            #expect(try Self.rejectionRows(merged.db).count == 2)
            #expect(
                try Observations(merged.db).latestSummaries(asOf: Instant(seconds: 1_800_000_000))
                    == Observations(single.db).latestSummaries(asOf: Instant(seconds: 1_800_000_000)))

            let before = (try Self.blobRows(merged.db).count, try Self.rejectionRows(merged.db).count)
            let again = try ObservationMerge.run(request, context: merged)
            #expect(again.exitCode == .ok)
            #expect(Self.count(again.summary, "accepted") == 0)
            #expect(Self.count(again.summary, "alreadyKnown") == total)
            #expect(try Self.observationRows(merged.db) == Self.observationRows(single.db))
            #expect(try Self.blobRows(merged.db).count == before.0)
            #expect(try Self.rejectionRows(merged.db).count == before.1)
        }
    }

    @Test("a row with the same identity but other bytes is a conflict: the stored row is kept, the line recorded")
    func conflict() throws {
        try withObserveTempDirectory { dir in
            let first = try writeFixture(dir, "one.jsonl", nativeLine("a.example", at: "2024-01-01T00:00:00Z") + "\n")
            let second = try writeFixture(
                dir, "two.jsonl", nativeLine("a.example", at: "2024-01-01T00:00:00Z", mode: "testing") + "\n")
            let target = try observeContext(dir, name: "target.sqlite")
            _ = try ObservationImport.run(.init(paths: [first], format: .native, progress: false), context: target)
            let other = try observeContext(dir, name: "other.sqlite")
            _ = try ObservationImport.run(.init(paths: [second], format: .native, progress: false), context: other)
            let outcome = try ObservationMerge.run(.init(paths: [dir + "/other.sqlite"]), context: target)
            #expect(outcome.exitCode == .dataError)
            #expect(Self.count(outcome.summary, "accepted") == 0)
            #expect(Self.count(outcome.summary, "rejectedCount") == 1)
            #expect(
                try Observations(target.db).latestSummaries(asOf: Instant(seconds: 1_800_000_000)).first?.mode
                    == "enforce")
            let rejected = try Rejections(target.db).list()
            #expect(rejected.count == 1)
            #expect(rejected.first?.location == "other.sqlite: observation two.jsonl:1")
            #expect(rejected.first.flatMap(\.blob).map { try? BlobStore(target.db).get($0) } != nil)
        }
    }

    @Test("a file that is not a policylist database is rejected (65), an unreadable one is an I/O error (74)")
    func badSources() throws {
        try withObserveTempDirectory { dir in
            let target = try observeContext(dir, name: "target.sqlite")
            let text = try writeFixture(dir, "notes.sqlite", "hello")
            let bad = try ObservationMerge.run(.init(paths: [text]), context: target)
            #expect(bad.exitCode == .dataError)
            let missing = try ObservationMerge.run(.init(paths: [dir + "/missing.sqlite"]), context: target)
            #expect(missing.exitCode == .ioError)
            let itself = try ObservationMerge.run(.init(paths: [dir + "/target.sqlite"]), context: target)
            #expect(itself.exitCode == .dataError)
        }
    }
}
