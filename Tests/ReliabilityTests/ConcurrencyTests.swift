import Foundation
import PolicyListStore
import Testing

/// Two writers on one database, and a reader during a write (docs/reliability.md, "Concurrency"). Two pipeline
/// runs at once (the second exits 75) are shown by RunnerEndToEndTests
/// "two concurrent runs: the second exits 75 naming the holder; SIGTERM is forwarded and the run resumes".
@Suite("Concurrency")
struct ConcurrencyTests {
    static let history = Rel.data + "/policy-history/history.tar.gz"
    static let scans = Rel.data + "/replay-2020/scans.jsonl.gz"

    @Test("two stages writing one new database at once: both succeed, integrity_check ok, same data as in turn")
    func twoWriters() async throws {
        let together = Rel.tempDir("two-writers") + "/p.sqlite"
        let inTurn = Rel.tempDir("in-turn") + "/p.sqlite"
        let ingest = ["snapshots", "--sequence", Rel.data + "/policy-history/MANIFEST.tsv", Self.history]
        let importScans = ["import-backend-scans", "--batch", "5", Self.scans]
        // Both start on a missing file: they also race to create it and run the migrations.
        let a = try Rel.start("policylist-ingest", ingest + ["--db", together])
        let b = try Rel.start("policylist-observe", importScans + ["--db", together])
        let ra = await a.wait()
        let rb = await b.wait()
        #expect(ra.status == 0, "\(ra.stderr)")
        #expect(rb.status == 0, "\(rb.stderr)")
        let db = try Database(path: together, mode: .readOnly)
        #expect(try db.scalar("PRAGMA integrity_check", as: String.self) == "ok")
        #expect(try db.scalar("PRAGMA foreign_key_check", as: String.self) == nil)
        db.close()

        try await Rel.run("policylist-ingest", ingest + ["--db", inTurn])
        try await Rel.run("policylist-observe", importScans + ["--db", inTurn])
        #expect(try StoreDump.dump(together) == StoreDump.dump(inTurn))
    }

    @Test("a reader during a write sees only whole transactions: observation counts are multiples of the batch")
    func readerDuringWrite() async throws {
        let path = Rel.tempDir("reader") + "/p.sqlite"
        try await Rel.run("policylist-ingest", ["requests", Rel.data + "/replay-2020/removals.json", "--db", path])
        let writer = try Rel.start(
            "policylist-observe", ["import-backend-scans", "--batch", "7", Self.scans, "--db", path])
        var counts = try await Rel.offPool { () throws -> [Int] in
            let reader = try Database(path: path, mode: .readOnly, busyTimeout: .seconds(5))
            defer { reader.close() }
            var counts: [Int] = []
            while writer.process.isRunning {
                counts.append(try reader.scalar("SELECT COUNT(*) FROM observations", as: Int.self) ?? -1)
            }
            return counts
        }
        let result = await writer.wait()
        let reader = try Database(path: path, mode: .readOnly)
        counts.append(try reader.scalar("SELECT COUNT(*) FROM observations", as: Int.self) ?? -1)
        reader.close()
        #expect(result.status == 0, "\(result.stderr)")
        let distinct = Array(Set(counts)).sorted()
        print("reader during write: \(counts.count) reads, \(distinct.count) distinct counts: \(distinct.prefix(12))…")
        #expect(counts.last == 434)
        #expect(counts == counts.sorted(), "a count went backwards")
        #expect(distinct.allSatisfy { $0 % 7 == 0 || $0 == 434 }, "a partial batch was visible: \(distinct)")
        #expect(distinct.count > 2, "the reader never ran during the write")
    }

    @Test("a writer waits for another writer's transaction (busy timeout) instead of failing")
    func busyTimeout() async throws {
        let path = Rel.tempDir("busy") + "/p.sqlite"
        try await Rel.run("policylist-ingest", ["requests", Rel.data + "/replay-2020/removals.json", "--db", path])
        let holder = try Database(path: path)
        try holder.execute("BEGIN IMMEDIATE")
        let blocked = try Rel.start(
            "policylist-ingest", ["requests", Rel.data + "/replay-2020/edits.json", "--db", path])
        try await Task.sleep(for: .seconds(1.5))
        #expect(blocked.process.isRunning, "the second writer did not wait for the lock")
        try holder.execute("COMMIT")
        holder.close()
        let result = await blocked.wait()
        #expect(result.status == 0, "\(result.stderr)")
    }
}
