import Foundation
import PolicyListCore
import PolicyListStore
import Testing

@Suite("BlobStore: compressed, content-addressed, verified")
struct BlobStoreTests {
    @Test("bytes round-trip through compression", arguments: [0, 1, 5_000_000])
    func roundTrip(count: Int) throws {
        try withMigratedDatabase { db in
            let blobs = BlobStore(db)
            let bytes = pseudoRandomBytes(count: count, seed: UInt64(count))
            let (hash, isNew) = try blobs.put(bytes)
            #expect(isNew)
            #expect(hash == SHA256.hex(bytes))
            #expect(try blobs.contains(hash))
            #expect(try blobs.get(hash) == bytes)
            #expect(try db.scalar("SELECT size FROM blobs WHERE sha256 = ?", [.text(hash)], as: Int.self) == count)
        }
    }

    @Test(
        "a 100 MB input round-trips (opt-in: POLICYLIST_LARGE_TESTS=1)",
        .enabled(if: ProcessInfo.processInfo.environment["POLICYLIST_LARGE_TESTS"] == "1"))
    func hundredMegabytes() throws {
        try withMigratedDatabase { db in
            let bytes = pseudoRandomBytes(count: 100_000_000, seed: 100)
            let (hash, isNew) = try BlobStore(db).put(bytes)
            #expect(isNew)
            #expect(try BlobStore(db).get(hash) == bytes)
        }
    }

    @Test("repetitive input is stored compressed")
    func compresses() throws {
        try withMigratedDatabase { db in
            let line = Array(#"{"mode": "enforce", "mxs": [".mail.example.com"]},"#.utf8)
            let bytes = Array((0..<200_000).map { _ in line }.joined())  // ~10 MB
            let (hash, _) = try BlobStore(db).put(bytes)
            let stored = try #require(
                try db.scalar("SELECT length(data) FROM blobs WHERE sha256 = ?", [.text(hash)], as: Int.self))
            #expect(stored * 50 < bytes.count)
            #expect(try BlobStore(db).get(hash) == bytes)
        }
    }

    @Test("putting the same bytes again is a no-op that reports isNew == false")
    func idempotentPut() throws {
        try withMigratedDatabase { db in
            let blobs = BlobStore(db)
            let first = try blobs.put(Array("policy.json".utf8))
            let second = try blobs.put(Array("policy.json".utf8))
            #expect(first.isNew && !second.isNew)
            #expect(first.hash == second.hash)
            #expect(try db.scalar("SELECT count(*) FROM blobs", as: Int.self) == 1)
            #expect(try blobs.put(Array("policy.json\n".utf8)).isNew)
        }
    }

    @Test("a flipped byte in the stored data is reported as corruption")
    func flippedByte() throws {
        try withMigratedDatabase { db in
            let blobs = BlobStore(db)
            let (hash, _) = try blobs.put(pseudoRandomBytes(count: 100_000, seed: 7))
            var data = try #require(
                try db.scalar("SELECT data FROM blobs WHERE sha256 = ?", [.text(hash)], as: [UInt8].self))
            data[data.count / 2] ^= 0x01
            try db.execute("UPDATE blobs SET data = ? WHERE sha256 = ?", [.blob(data), .text(hash)])
            let error = expectStoreError { _ = try blobs.get(hash) }
            #expect(error?.message.hasPrefix("blob \(hash): corrupt:") == true)
        }
    }

    @Test("valid zlib data holding other bytes fails the hash check")
    func swappedContent() throws {
        try withMigratedDatabase { db in
            let blobs = BlobStore(db)
            let (victim, _) = try blobs.put(Array("aaaa".utf8))
            let (other, _) = try blobs.put(Array("bbbb".utf8))
            try db.execute(
                "UPDATE blobs SET data = (SELECT data FROM blobs WHERE sha256 = ?) WHERE sha256 = ?",
                [.text(other), .text(victim)])
            let error = expectStoreError { _ = try blobs.get(victim) }
            #expect(error == .corruptBlob(hash: victim, problem: "content hashes to \(other)"))
        }
    }

    @Test("a wrong recorded size is reported as corruption", arguments: [Int64(3), 5, 1 << 40])
    func wrongSize(size: Int64) throws {
        try withMigratedDatabase { db in
            let blobs = BlobStore(db)
            let (hash, _) = try blobs.put(Array("abcd".utf8))
            try db.execute("UPDATE blobs SET size = ? WHERE sha256 = ?", [.int(size), .text(hash)])
            let error = expectStoreError { _ = try blobs.get(hash) }
            #expect(error?.message.contains("corrupt") == true)
            #expect(error?.exitCode == .failure)
        }
    }

    @Test("a truncated stream is reported as corruption")
    func truncated() throws {
        try withMigratedDatabase { db in
            let blobs = BlobStore(db)
            let (hash, _) = try blobs.put(pseudoRandomBytes(count: 10_000, seed: 3))
            try db.execute("UPDATE blobs SET data = substr(data, 1, 500) WHERE sha256 = ?", [.text(hash)])
            let error = expectStoreError { _ = try blobs.get(hash) }
            #expect(error == .corruptBlob(hash: hash, problem: "zlib stream is truncated"))
        }
    }

    @Test("an unknown hash is not found, not empty")
    func notFound() throws {
        try withMigratedDatabase { db throws in
            let hash = SHA256.hex([UInt8]())
            #expect(try !BlobStore(db).contains(hash))
            let error = expectStoreError { _ = try BlobStore(db).get(hash) }
            #expect(error == .blobNotFound(hash: hash))
        }
    }
}

@Suite("SHA256")
struct SHA256Tests {
    @Test(
        "known vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
        ])
    func vectors(input: String, expected: String) {
        #expect(SHA256.hex(Array(input.utf8)) == expected)
        #expect(SHA256.hex(input.utf8) == expected)  // any byte sequence, contiguous or not
    }

    @Test("a million 'a's, from a non-contiguous sequence")
    func millionA() {
        let lazy = (0..<1_000_000).lazy.map { _ in UInt8(ascii: "a") }
        #expect(SHA256.hex(lazy) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
