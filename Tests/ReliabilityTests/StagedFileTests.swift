import Foundation
import Glibc
import PolicyListIO
import Testing

/// The pieces of the publish fix: staged files are invisible until committed, and leftovers of dead writers go.
@Suite("Staged files")
struct StagedFileTests {
    @Test("a staged file is not visible under its name until commit; discard leaves nothing")
    func stageCommitDiscard() async throws {
        let dir = Rel.tempDir("staged")
        let kept = try StagedFile(Array("new".utf8), for: dir + "/a.json")
        let dropped = try StagedFile(Array("x".utf8), for: dir + "/b.json")
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.json"))
        try kept.commit()
        dropped.discard()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.json"])
        #expect(Rel.text(dir + "/a.json") == "new")
    }

    @Test("temporary files of dead writers are removed, those of live ones and other names are kept")
    func staleTemporaries() async throws {
        let dir = Rel.tempDir("stale")
        let dead = try Rel.start("/bin/true", [])
        let deadPID = dead.process.processIdentifier
        _ = await dead.wait()
        let names = [
            ".policy.json.tmp-\(deadPID)-1f", ".SHA256SUMS.tmp-\(deadPID)-2", ".policy.json.tmp-\(getppid())-3",
            ".other.tmp-\(deadPID)-4", "policy.json",
        ]
        for name in names { #expect(FileManager.default.createFile(atPath: dir + "/" + name, contents: Data())) }
        removeStaleTemporaries(in: dir, names: ["policy.json", "SHA256SUMS"])
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == [".other.tmp-\(deadPID)-4", ".policy.json.tmp-\(getppid())-3", "policy.json"])
    }
}
