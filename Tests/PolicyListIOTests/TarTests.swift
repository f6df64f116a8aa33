import Glibc
import PolicyListCore
import Testing

@testable import PolicyListIO

@Suite("Tar")
struct TarTests {
    static let longName = String(repeating: "n", count: 115) + ".json"  // 120 characters, one component

    /// A directory with a regular file, a nested one, a 120-character name and a symlink.
    static func makeTree() throws -> String {
        let directory = try temporaryDirectory()
        try put("{\"a\":1}", directory + "/tree/a.json")
        try put("nested", directory + "/tree/sub/b.txt")
        try put("long", directory + "/tree/sub/" + longName)
        #expect(symlink("a.json", directory + "/tree/link.json") == 0)
        return directory
    }

    @Test(
        "archives written by the real tar: files read, long names kept, symlinks rejected", arguments: ["gnu", "pax"])
    func realTar(format: String) throws {
        let directory = try Self.makeTree()
        defer { removeTree(directory) }
        try mustRun("tar", ["--format=\(format)", "-cf", "x.tar", "-C", "tree", "."], in: directory)
        let contents = try readTar(readFile(directory + "/x.tar"))
        let files = Dictionary(uniqueKeysWithValues: contents.files.map { ($0.name, $0.bytes) })
        #expect(files.keys.sorted() == ["a.json", "sub/b.txt", "sub/" + Self.longName])
        #expect(files["a.json"] == Array("{\"a\":1}".utf8))
        #expect(files["sub/" + Self.longName] == Array("long".utf8))
        let link = contents.rejected.first { $0.kind == "symlink" }
        #expect(link?.name == "./link.json")
        #expect(link?.message == "member './link.json': symlink -> a.json not extracted")
        #expect(contents.rejected.filter { $0.kind == "directory" }.map(\.name).sorted() == ["./", "./sub/"])
    }

    @Test("unsafe names are rejected with a reason, safe members next to them are still read")
    func unsafeNames() throws {
        let directory = try temporaryDirectory()
        defer { removeTree(directory) }
        try put("escape", directory + "/x")
        try put("fine", directory + "/ok.json")
        try put("absolute", directory + "/y")
        try mustRun(
            "tar", ["-P", "-cf", "evil.tar", "--transform", "s,^x$,../../x,", "x", "ok.json", directory + "/y"],
            in: directory)
        let contents = try readTar(readFile(directory + "/evil.tar"))
        #expect(contents.files.map(\.name) == ["ok.json"])
        let messages = contents.rejected.map(\.message)
        #expect(messages.contains("member '../../x': path escapes the archive"))
        #expect(messages.contains("member '\(directory)/y': absolute path"))
        #expect(contents.rejected.first?.bytes == Array("escape".utf8))
    }

    @Test(
        "member name rules",
        arguments: [
            ("a/b.json", "a/b.json"), ("./a//b.json", "a/b.json"), ("../x", nil), ("a/../../x", nil),
            ("/etc/passwd", nil),
            ("", nil), ("./", nil), ("a\u{0}b", nil), ("a/..", nil), ("..a/b", "..a/b"),
        ] as [(String, String?)])
    func names(name: String, expected: String?) {
        let result = try? normalizeMemberName(name).get()
        #expect(result == expected)
    }

    @Test("a truncated archive reports the byte offset and keeps the members before it")
    func truncated() throws {
        let archive = try writeTar([
            TarEntry(name: "a.json", bytes: Array("first".utf8)),
            TarEntry(name: "b.json", bytes: pseudoRandomBytes(2000)),
        ])
        let cut = Array(archive.prefix(1024 + 700))
        #expect(throws: TarError.truncated(offset: cut.count, expected: "2000 bytes of member data from byte 1536")) {
            try readTar(cut)
        }
        let (salvaged, error) = readTarSalvaging(cut)
        #expect(salvaged.files.map(\.name) == ["a.json"])
        #expect(error != nil)
        #expect(throws: TarError.truncated(offset: 1024, expected: "a 512-byte header")) {
            try readTar(Array(archive.prefix(1024 + 100)))
        }
    }

    @Test("a damaged header fails its checksum at the header's offset")
    func checksum() throws {
        var archive = try writeTar([
            TarEntry(name: "a.json", bytes: Array("first".utf8)), TarEntry(name: "b.json", bytes: [1]),
        ])
        archive[1024 + 10] ^= 0x20
        #expect(throws: TarError.badChecksum(offset: 1024)) { try readTar(archive) }
        #expect(throws: TarError.badChecksum(offset: 0)) {
            try readTar(Array("x".utf8) + [UInt8](repeating: 7, count: 600))
        }
    }

    @Test("member size, total size and member count limits")
    func limits() throws {
        let archive = try writeTar((0..<5).map { TarEntry(name: "f\($0).json", bytes: pseudoRandomBytes(1000)) })
        let small = try readTar(archive, limits: Limits(maxTarMemberBytes: 999))
        #expect(small.files.isEmpty)
        #expect(small.rejected.first?.reason == "1000 bytes exceeds the 999 bytes member limit")
        #expect(throws: TarError.totalTooLarge(limit: 2500)) {
            try readTar(archive, limits: Limits(maxTarTotalBytes: 2500))
        }
        #expect(throws: TarError.tooManyMembers(limit: 4)) { try readTar(archive, limits: Limits(maxTarMembers: 4)) }
    }

    @Test("the writer is deterministic and the real tar reads it back, long names included")
    func writer() throws {
        let deep = (0..<12).map { "directory\($0)" }.joined(separator: "/") + "/policy.json"  // 138, splits
        let entries = [
            TarEntry(name: "index.tsv", bytes: Array("file\tsha256\n".utf8)),
            TarEntry(name: "versions/" + Self.longName, bytes: pseudoRandomBytes(3000)),  // 129, one long component
            TarEntry(name: deep, bytes: Array("{}".utf8)),
            TarEntry(name: "empty", bytes: []),
        ]
        let archive = try writeTar(entries, mtime: 1_590_000_000)
        #expect(archive == (try writeTar(entries, mtime: 1_590_000_000)))
        #expect(archive.count % 512 == 0)
        #expect(try readTar(archive).files.map { TarEntry(name: $0.name, bytes: $0.bytes) } == entries)

        let directory = try temporaryDirectory()
        defer { removeTree(directory) }
        try put(gzip(archive), directory + "/a.tar.gz")
        let listing = String(decoding: try mustRun("tar", ["-tvzf", "a.tar.gz"], in: directory), as: UTF8.self)
        let lines = listing.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines.allSatisfy { $0.hasPrefix("-rw-r--r-- 0/0") && $0.contains("2020-05-20") })
        #expect(lines.map { String($0.split(separator: " ").last ?? "") } == entries.map(\.name))
        try mustRun("tar", ["-xzf", "a.tar.gz"], in: directory)
        #expect(try readFile(directory + "/versions/" + Self.longName) == entries[1].bytes)
        #expect(try readFile(directory + "/" + deep) == Array("{}".utf8))
    }

    @Test("the writer refuses names it would not read back", arguments: ["../x", "/abs", "", "a//b", "./a", "d/"])
    func writerRefuses(name: String) {
        #expect(throws: TarError.self) { try writeTar([TarEntry(name: name, bytes: [])]) }
    }
}
