import Glibc
import PolicyListCore
import Testing

@testable import PolicyListIO

@Suite("Inputs")
struct InputsTests {
    static let history = repositoryRoot + "/data/policy-history/history.tar.gz"

    @Test("a directory: recursive, sorted by path, .json.gz inflated, .asc paired by the uncompressed name")
    func directory() throws {
        let root = try temporaryDirectory()
        defer { removeTree(root) }
        let dir = root + "/snaps"
        try put("{\"v\":1}", dir + "/a.json")
        try put("SIG-A", dir + "/a.json.asc")
        try put(gzip(Array("{\"v\":2}".utf8)), dir + "/b.json.gz")
        try put("SIG-B", dir + "/b.json.asc")
        try put("{\"v\":3}", dir + "/sub/c.json")
        try put("notes", dir + "/README.txt")
        try put("ORPHAN", dir + "/orphan.json.asc")
        try put("{\"v\":4}", root + "/outside.json")
        #expect(symlink(root + "/outside.json", dir + "/linked.json") == 0)

        let batch = collectSnapshotInputs(paths: [dir])
        #expect(batch.rejections.isEmpty)
        #expect(batch.items.map(\.displayPath) == [dir + "/a.json", dir + "/b.json.gz", dir + "/sub/c.json"])
        #expect(batch.items.map(\.name) == ["a.json", "b.json", "c.json"])
        #expect(batch.items.map(\.wasCompressed) == [false, true, false])
        #expect(batch.items[1].bytes == Array("{\"v\":2}".utf8))
        #expect(batch.items.map(\.ascBytes) == [Array("SIG-A".utf8), Array("SIG-B".utf8), nil])
        #expect(batch.items.map(\.ascPath) == [dir + "/a.json.asc", dir + "/b.json.asc", nil])
        #expect(batch.skippedCount == 3)
        #expect(
            Set(batch.skipped.map(\.reason))
                == ["not a snapshot file", "signature without a matching .json", "symbolic link not followed"])
    }

    @Test("named files: supported ones read, unsupported and missing ones rejected, bad gzip kept as bytes")
    func explicitFiles() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        try put("{}", dir + "/one.json")
        try put("x,y", dir + "/table.csv")
        let broken = Array(gzip(Array("{\"a\":1}".utf8)).dropLast(4))
        try put(broken, dir + "/broken.json.gz")
        let batch = collectSnapshotInputs(paths: [
            dir + "/one.json", dir + "/table.csv", dir + "/missing.json", dir + "/broken.json.gz",
        ])
        #expect(batch.items.map(\.name) == ["one.json"])
        #expect(batch.rejections.map(\.path) == [dir + "/table.csv", dir + "/missing.json", dir + "/broken.json.gz"])
        #expect(batch.rejections[0].error.hasPrefix("unsupported file type"))
        #expect(batch.rejections[1].error == "stat: No such file or directory")
        #expect(batch.rejections[1].exitCode == .ioError)
        #expect(batch.rejections[2].error == "gzip: truncated stream: input ends at compressed byte \(broken.count)")
        #expect(batch.rejections[2].bytes == broken)
        #expect(batch.rejections[2].description.hasPrefix(dir + "/broken.json.gz: gzip: truncated"))
    }

    @Test("a file larger than the input limit is rejected without being read")
    func sizeLimit() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        try put(pseudoRandomBytes(5000), dir + "/big.json")
        let batch = collectSnapshotInputs(paths: [dir], limits: Limits(maxInputFileBytes: 4096))
        #expect(batch.items.isEmpty)
        #expect(batch.rejections.first?.error == "read: 5000 bytes exceeds the 4 KiB limit")
    }

    @Test("archive members: display paths, .asc pairing inside the archive, unsafe members rejected")
    func archive() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        let archive = try writeTar([
            TarEntry(name: "h/a.json", bytes: Array("{\"v\":1}".utf8)),
            TarEntry(name: "h/a.json.asc", bytes: Array("SIG-A".utf8)),
            TarEntry(name: "h/b.json.gz", bytes: gzip(Array("{\"v\":2}".utf8))),
            TarEntry(name: "h/b.json.asc", bytes: Array("SIG-B".utf8)),
            TarEntry(name: "h/notes.md", bytes: []),
        ])
        try put(gzip(archive), dir + "/snaps.tgz")
        let batch = collectSnapshotInputs(paths: [dir + "/snaps.tgz"])
        #expect(batch.rejections.isEmpty)
        #expect(batch.items.map(\.displayPath) == [dir + "/snaps.tgz:h/a.json", dir + "/snaps.tgz:h/b.json.gz"])
        #expect(batch.items.map(\.name) == ["a.json", "b.json"])
        #expect(batch.items[1].bytes == Array("{\"v\":2}".utf8))
        #expect(batch.items.map(\.ascPath) == [dir + "/snaps.tgz:h/a.json.asc", dir + "/snaps.tgz:h/b.json.asc"])
        #expect(batch.skipped.map(\.path) == [dir + "/snaps.tgz:h/notes.md"])

        try put("escape", dir + "/x.json")
        try put("{}", dir + "/ok.json")
        try mustRun(
            "tar", ["-P", "-cf", "evil.tar", "--transform", "s,^x.json$,../../x.json,", "x.json", "ok.json"], in: dir)
        let evil = collectSnapshotInputs(paths: [dir + "/evil.tar"])
        #expect(evil.items.map(\.displayPath) == [dir + "/evil.tar:ok.json"])
        #expect(evil.rejections.map(\.error) == ["member '../../x.json': path escapes the archive"])
        #expect(evil.rejections.first?.bytes == Array("escape".utf8))
    }

    @Test("a truncated .tar.gz is rejected, and its complete leading members are still read")
    func truncatedArchive() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        let archive = try writeTar([
            TarEntry(name: "a.json", bytes: Array("{}".utf8)),
            TarEntry(name: "b.json", bytes: pseudoRandomBytes(50_000)),
        ])
        let compressed = gzip(archive)
        try put(Array(compressed.prefix(compressed.count - 2000)), dir + "/cut.tar.gz")
        let batch = collectSnapshotInputs(paths: [dir + "/cut.tar.gz"])
        #expect(batch.items.map(\.name) == ["a.json"])
        #expect(batch.rejections.count == 1)
        #expect(batch.rejections.first?.error.hasPrefix("gzip: truncated stream") == true)
    }

    @Test("the real history archive: 65 snapshots, 63 with a signature, nothing rejected")
    func realHistory() throws {
        let batch = collectSnapshotInputs(paths: [Self.history])
        #expect(batch.rejections.isEmpty)
        #expect(batch.items.count == 65)
        #expect(batch.items.filter { $0.ascBytes != nil }.count == 63)
        #expect(batch.items.allSatisfy { $0.name.hasSuffix(".policy.json") && !$0.wasCompressed })
        #expect(batch.items.first?.displayPath == Self.history + ":20180330T194849Z-a6f6f47.policy.json")
        #expect(batch.skipped.isEmpty)
    }

    @Test("readInputFile inflates .gz names and reads others as they are")
    func readInput() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        let text = Array("domain,email\nexample.com,x\n".utf8)
        try put(gzip(text), dir + "/domains.csv.gz")
        try put(text, dir + "/domains.csv")
        #expect(try readInputFile(dir + "/domains.csv.gz") == text)
        #expect(try readInputFile(dir + "/domains.csv") == text)
        try put(text, dir + "/fake.csv.gz")
        do {
            _ = try readInputFile(dir + "/fake.csv.gz")
            Issue.record("plain text accepted as gzip")
        } catch {
            #expect(error.message.hasPrefix(dir + "/fake.csv.gz: gzip: corrupt stream at compressed byte"))
        }
    }

    @Test("LineReader on a .gz file: numbers, CRLF, empty lines, last line without newline")
    func lineReaderGzip() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        try put(gzip(Array("{\"a\":1}\r\n\n{\"b\":2}\nlast".utf8)), dir + "/obs.jsonl.gz")
        let reader = try LineReader(path: dir + "/obs.jsonl.gz")
        var items: [LineReader.Item] = []
        while let item = try reader.next() { items.append(item) }
        #expect(
            items == [
                .line(number: 1, bytes: Array("{\"a\":1}".utf8)), .line(number: 2, bytes: []),
                .line(number: 3, bytes: Array("{\"b\":2}".utf8)), .line(number: 4, bytes: Array("last".utf8)),
            ])
    }

    @Test("an over-long line is reported with its number and skipped, never loaded", arguments: [false, true])
    func lineReaderOverlong(compressed: Bool) throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        var text = Array("first\n".utf8)
        text += [UInt8](repeating: UInt8(ascii: "x"), count: 300_000) + [UInt8(ascii: "\n")]
        text += Array("third\n".utf8) + [UInt8](repeating: UInt8(ascii: "y"), count: 150_001)
        let path = dir + (compressed ? "/lines.jsonl.gz" : "/lines.jsonl")
        try put(compressed ? gzip(text) : text, path)
        let reader = try LineReader(path: path, limits: Limits(maxLineBytes: 100_000))
        var items: [LineReader.Item] = []
        while let item = try reader.next() { items.append(item) }
        #expect(
            items == [
                .line(number: 1, bytes: Array("first".utf8)), .tooLong(number: 2, length: 300_000, limit: 100_000),
                .line(number: 3, bytes: Array("third".utf8)), .tooLong(number: 4, length: 150_001, limit: 100_000),
            ])
    }

    @Test("LineReader on a missing file and on corrupt gzip throws with the path")
    func lineReaderErrors() throws {
        #expect(throws: PathError.self) { try LineReader(path: "/nonexistent/x.jsonl") }
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        try put(Array(gzip(pseudoRandomBytes(200_000)).prefix(100_000)), dir + "/cut.jsonl.gz")
        let reader = try LineReader(path: dir + "/cut.jsonl.gz")
        do {
            while try reader.next() != nil {}
            Issue.record("truncated gzip read to the end")
        } catch {
            #expect(
                error.message == dir + "/cut.jsonl.gz: gzip: truncated stream: input ends at compressed byte 100000")
        }
    }
}
