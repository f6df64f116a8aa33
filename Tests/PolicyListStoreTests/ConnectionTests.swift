import Foundation
import PolicyListCore
import PolicyListStore
import Testing

@Suite("Two connections, locks and read-only files")
struct ConnectionTests {
    @Test("a second writer times out with exit code 75 while the first holds the write lock")
    func busyWriter() throws {
        try withTempDirectory { dir in
            let path = dir + "/s.sqlite"
            let writer = try Database(path: path)
            try Migrations.migrate(writer, now: "2024-01-01T00:00:00Z")
            let other = try Database(path: path, busyTimeout: .milliseconds(100))
            try writer.transaction { writer in
                try writer.execute("INSERT INTO blobs (sha256, size, data) VALUES (?, 0, x'')", [.text(SHA256.hex([]))])
                let clock = ContinuousClock()
                let started = clock.now
                let error = expectStoreError {
                    try other.transaction { other in try other.execute("DELETE FROM blobs") }
                }
                #expect(clock.now - started >= .milliseconds(90))  // it did wait for the timeout
                #expect(error?.exitCode == .tempFail)
                #expect(error?.exitCode.rawValue == 75)
                #expect((error?.sqliteCode ?? 0) & 0xff == 5)  // SQLITE_BUSY
                #expect(error?.message.contains("BEGIN IMMEDIATE") == true)
                #expect(!other.isInTransaction)
            }
            // Once the lock is released the same connection writes fine.
            try other.transaction { other in try other.execute("DELETE FROM blobs") }
        }
    }

    @Test("a reader during a write sees the last committed state")
    func readerDuringWrite() throws {
        try withTempDirectory { dir in
            let path = dir + "/s.sqlite"
            let writer = try Database(path: path)
            try writer.execute("CREATE TABLE t (v TEXT NOT NULL) STRICT")
            try writer.execute("INSERT INTO t (v) VALUES (?)", ["committed"])
            let reader = try Database(path: path, mode: .readOnly)
            try writer.transaction { writer in
                try writer.execute("INSERT INTO t (v) VALUES (?)", ["pending"])
                try writer.execute("UPDATE t SET v = ? WHERE v = ?", ["changed", "committed"])
                #expect(try reader.query("SELECT v FROM t").map { try $0.get(0, as: String.self) } == ["committed"])
            }
            #expect(
                try reader.query("SELECT v FROM t ORDER BY v").map { try $0.get(0, as: String.self) } == [
                    "changed", "pending",
                ])
        }
    }

    @Test("writing through a read-only connection is an I/O-class error (74)")
    func readOnlyConnection() throws {
        try withTempDirectory { dir in
            let path = dir + "/s.sqlite"
            try Migrations.migrate(try Database(path: path), now: "2024-01-01T00:00:00Z")
            let reader = try Database(path: path, mode: .readOnly)
            let error = expectStoreError { try BlobStore(reader).put([1, 2, 3]) }
            #expect(error?.exitCode == .ioError)
            #expect(error?.message.contains("readonly") == true)
        }
    }

    /// Root ignores permission bits, so as root the file is made immutable (`chattr +i`) instead.
    @Test("opening a write-protected file for writing is an I/O-class error (74)")
    func writeProtectedFile() throws {
        try withTempDirectory { dir in
            let path = dir + "/s.sqlite"
            try Migrations.migrate(try Database(path: path), now: "2024-01-01T00:00:00Z")
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
            let asRoot = getuid() == 0
            if asRoot { try runChattr("+i", path) }
            defer { if asRoot { try? runChattr("-i", path) } }
            let error = expectStoreError { _ = try Database(path: path) }
            #expect(error == .readOnlyFile(path: path))
            #expect(error?.exitCode == .ioError)
        }
    }

    private func runChattr(_ flag: String, _ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        process.arguments = [flag, path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "chattr \(flag) \(path) failed")
    }

    @Test("a file that cannot be opened is an I/O-class error (74) naming the path")
    func cannotOpen() throws {
        try withTempDirectory { dir in
            let missingDirectory = dir + "/no/such/dir/s.sqlite"
            let error = expectStoreError { _ = try Database(path: missingDirectory) }
            #expect(error?.exitCode == .ioError)
            #expect(error?.message.hasPrefix(missingDirectory) == true)
            let missingFile = expectStoreError { _ = try Database(path: dir + "/absent.sqlite", mode: .readOnly) }
            #expect(missingFile?.exitCode == .ioError)
        }
    }
}
