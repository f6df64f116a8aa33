import Foundation
import Glibc
import Testing

/// A full disk during publish and a read-only database (docs/reliability.md, "Failures of the outside world").
@Suite("Full disk and read-only database", .serialized)
struct OutsideWorldTests {
    @Test("disk full during publish: exit 74, 'disk full', the previous publication intact, nothing recorded")
    func diskFullDuringPublish() async throws {
        let work = Rel.tempDir("diskfull")
        let db = work + "/p.sqlite"
        try await Rel.replayStore(db, scans: true)
        let mount = work + "/site"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        try #require(Rel.mountTmpfs(mount, size: "1m"), "needs root to mount a tmpfs")
        defer { Rel.unmount(mount) }
        let out = mount + "/list"
        let first = try await Rel.run(
            "policylist-publish", ["--db", db, "--out", out, "--now", "2020-04-15T18:20:00Z"] + Rel.seq53)
        try #require(first.status == 0, "\(first.stderr)")
        let before = Rel.tree(out)
        #expect(before.count == 5)

        // The next publication (seq 54) needs about 210 KB: leave 120 KB, room for the Postfix map, the
        // changelog and the manifest but not for policy.json, so a writer that renamed file by file would
        // have replaced those three before failing.
        #expect(try await Rel.run("policylist-reconcile", ["--db", db, "--as-of", "2020-04-22T20:00:00Z"]).status == 0)
        var info = statvfs()
        #expect(statvfs(mount, &info) == 0)
        let free = Int(info.f_bavail) * Int(info.f_frsize)
        #expect(
            FileManager.default.createFile(atPath: mount + "/filler", contents: Data(count: max(0, free - 122_880))))
        let full = try await Rel.run(
            "policylist-publish", ["--db", db, "--out", out, "--now", "2020-04-22T20:40:00Z"] + Rel.seq54)
        print("disk full: exit \(full.status): \(full.stderr)")
        #expect(full.status == 74)
        #expect(full.stderr.contains("disk full"))
        #expect(Rel.tree(out) == before, "the previous publication changed or a temp file was left")
        let sums = try await Rel.run("/usr/bin/sha256sum", ["-c", "--quiet", "SHA256SUMS"], cwd: out)
        #expect(sums.status == 0, "\(sums.stdout)")

        // Nothing was recorded: with space again, the same command publishes seq 54 exactly.
        try FileManager.default.removeItem(atPath: mount + "/filler")
        let again = try await Rel.run(
            "policylist-publish", ["--db", db, "--out", out, "--now", "2020-04-22T20:40:00Z"] + Rel.seq54)
        #expect(again.status == 0, "\(again.stderr)")
        let expected = try await Rel.run("/bin/gzip", ["-dc", Rel.data + "/replay-2020/expected/seq54.policy.json.gz"])
            .stdout
        #expect(Rel.text(out + "/policy.json") == expected)
    }

    @Test("a read-only database file: exit 74 and a message naming the file, for every stage that writes")
    func readOnlyDatabase() async throws {
        let work = Rel.tempDir("readonly")
        let dir = work + "/ro"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Root ignores file modes, so as root the database lives on a tmpfs remounted read-only.
        let mounted = Rel.mountTmpfs(dir, size: "16m")
        defer { if mounted { Rel.unmount(dir) } }
        let db = dir + "/p.sqlite"
        try await Rel.replayStore(db)
        if mounted {
            #expect(try await Rel.run("/bin/mount", ["-o", "remount,ro", dir]).status == 0)
        } else {
            #expect(chmod(db, 0o444) == 0)
        }
        let commands: [(String, [String])] = [
            ("policylist-ingest", ["requests", Rel.data + "/replay-2020/removals.json"]),
            ("policylist-observe", ["import-backend-scans", Rel.data + "/replay-2020/scans.jsonl.gz"]),
            ("policylist-reconcile", ["--as-of", "2020-04-22T20:00:00Z"]),
            ("policylist-publish", ["--out", work + "/out", "--now", "2020-04-15T18:20:00Z"] + Rel.seq53),
        ]
        for (tool, arguments) in commands {
            let result = try await Rel.run(tool, arguments + ["--db", db])
            print("read-only: \(tool): exit \(result.status): \(result.stderr)")
            #expect(result.status == 74, "\(tool): \(result.stderr)")
            #expect(result.stderr.contains(db), "\(tool): \(result.stderr)")
            #expect(result.stderr.lowercased().contains("read-only") || result.stderr.contains("readonly"))
        }
        #expect(!FileManager.default.fileExists(atPath: work + "/out/policy.json"))
    }
}
