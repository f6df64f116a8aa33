import Glibc
import PolicyListCore
import Testing

@testable import PolicyListIO

@Suite("AtomicFile")
struct AtomicFileTests {
    /// Names in a directory other than . and ..
    static func listing(_ directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    @Test("writes and replaces a file, leaving no temp file behind")
    func writeAndReplace() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        try writeFileAtomically(Array("first".utf8), to: dir + "/policy.json")
        try writeFileAtomically("second, longer", to: dir + "/policy.json")
        #expect(try readFile(dir + "/policy.json") == Array("second, longer".utf8))
        #expect(Self.listing(dir) == ["policy.json"])
        var info = stat()
        #expect(stat(dir + "/policy.json", &info) == 0 && info.st_mode & 0o777 == 0o644)
    }

    @Test("a failed rename leaves the existing target intact, removes the temp file and names the path")
    func failureKeepsExisting() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        try put("keep me", dir + "/out/inside.txt")
        do {
            try writeFileAtomically(Array("new".utf8), to: dir + "/out")
            Issue.record("rename over a non-empty directory succeeded")
        } catch {
            #expect(error.path == dir + "/out")
            #expect(error.operation == "rename")
            #expect(error.exitCode == .ioError)
            #expect(error.message.hasPrefix(dir + "/out: rename: "))
        }
        #expect(try readFile(dir + "/out/inside.txt") == Array("keep me".utf8))
        #expect(Self.listing(dir) == ["out"])
    }

    @Test("a missing directory is an I/O error naming the file")
    func missingDirectory() throws {
        #expect(throws: FileError(path: "/nonexistent-dir/x.json", operation: "create temp file", errno: ENOENT)) {
            try writeFileAtomically(Array("x".utf8), to: "/nonexistent-dir/x.json")
        }
    }

    @Test("disk full midway: the old file stays, the temp file goes, the message says disk full")
    func diskFull() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        try put("old contents", dir + "/policy.json")
        var calls = 0
        do {
            // The first write lands half the bytes, the second fails the way a full disk does.
            try writeFileAtomically(pseudoRandomBytes(10_000), to: dir + "/policy.json", mode: 0o644) {
                fd, pointer, count in
                calls += 1
                if calls == 1 { return Glibc.write(fd, pointer, count / 2) }
                errno = ENOSPC
                return -1
            }
            Issue.record("a failing write was reported as success")
        } catch {
            #expect(error == FileError(path: dir + "/policy.json", operation: "write", errno: ENOSPC))
            #expect(error.message == dir + "/policy.json: write: disk full (No space left on device)")
            #expect(error.isDiskFull)
            #expect(error.exitCode == .ioError)
        }
        #expect(calls == 2)
        #expect(try readFile(dir + "/policy.json") == Array("old contents".utf8))
        #expect(Self.listing(dir) == ["policy.json"])
        #expect(
            FileError(path: "/out/policy.json", operation: "write", errno: EDQUOT).message
                == "/out/policy.json: write: disk full: quota exceeded (Disk quota exceeded)")
    }

    @Test("createDirectory makes parents, accepts existing directories, refuses files in the way")
    func directories() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        try createDirectory(dir + "/a/b/c")
        try createDirectory(dir + "/a/b/c")
        #expect(Self.listing(dir + "/a/b") == ["c"])
        try put("file", dir + "/f")
        #expect(throws: FileError(path: dir + "/f", operation: "mkdir", errno: ENOTDIR)) {
            try createDirectory(dir + "/f/sub")
        }
    }
}
