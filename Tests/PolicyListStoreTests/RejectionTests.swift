import PolicyListCore
import PolicyListStore
import Testing

@Suite("Rejections: bad inputs are kept")
struct RejectionTests {
    static let now = "2024-01-02T03:04:05Z"

    @Test("a rejection keeps its raw bytes in the blob store")
    func keepsBytes() throws {
        try withMigratedDatabase { db in
            let bytes: [UInt8] = Array(#"{"policies": {"a": 1, "a": 2}}"#.utf8) + [0, 0xff]
            let (id, isNew) = try Rejections(db).record(
                kind: "snapshot", source: "snapshots/x.json", location: "byte 22", bytes: bytes,
                error: "duplicate key \"a\" in policies", at: Self.now)
            #expect(isNew)
            let list = try Rejections(db).list()
            #expect(
                list == [
                    RejectedInput(
                        id: id, kind: "snapshot", source: "snapshots/x.json", location: "byte 22",
                        blob: SHA256.hex(bytes), error: "duplicate key \"a\" in policies", recordedAt: Self.now)
                ])
            #expect(try BlobStore(db).get(SHA256.hex(bytes)) == bytes)
        }
    }

    @Test("recording the same input twice keeps one record, also with NULL location and no bytes")
    func idempotent() throws {
        try withMigratedDatabase { db in
            let rejections = Rejections(db)
            let cases: [(String?, [UInt8]?)] = [("line 3", [1]), (nil, [1]), ("line 3", nil), (nil, nil)]
            var ids: [Int64] = []
            for (location, bytes) in cases {
                let first = try rejections.record(
                    kind: "observation", source: "obs.jsonl", location: location, bytes: bytes, error: "bad",
                    at: Self.now)
                let again = try rejections.record(
                    kind: "observation", source: "obs.jsonl", location: location, bytes: bytes, error: "other words",
                    at: "2025-01-01T00:00:00Z")
                #expect(first.isNew && !again.isNew)
                #expect(first.id == again.id)
                ids.append(first.id)
            }
            #expect(Set(ids).count == cases.count)
            let list = try rejections.list()
            #expect(list.map(\.id) == ids)
            #expect(list.allSatisfy { $0.error == "bad" && $0.recordedAt == Self.now })
            #expect(list.map(\.location) == ["line 3", nil, "line 3", nil])
            #expect(list.map(\.blob) == [SHA256.hex([1]), SHA256.hex([1]), nil, nil])
        }
    }

    @Test("a rejection recorded in a transaction that rolls back leaves nothing")
    func rollsBackWithCaller() throws {
        try withMigratedDatabase { db throws in
            #expect(throws: Marker()) {
                try db.transaction { db in
                    try Rejections(db).record(
                        kind: "snapshot", source: "s", location: nil, bytes: [9, 9], error: "e", at: Self.now)
                    throw Marker()
                }
            }
            #expect(try Rejections(db).list().isEmpty)
            #expect(try !BlobStore(db).contains(SHA256.hex([9, 9])))
        }
    }

    @Test("an instant that is not RFC 3339 UTC is refused")
    func badInstant() throws {
        try withMigratedDatabase { db in
            let error = expectStoreError {
                try Rejections(db).record(
                    kind: "snapshot", source: "s", location: nil, bytes: nil, error: "e", at: "2024-01-02 03:04:05")
            }
            #expect(error?.message.contains("CHECK constraint failed") == true)
        }
    }
}
