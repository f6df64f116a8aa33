import PolicyListCore
import PolicyListStore
import Testing

@Suite("0001-core: constraints hold")
struct SchemaTests {
    static let sha = String(repeating: "ab", count: 32)

    @Test("runs: status values, end instant consistency and at most one running run")
    func runs() throws {
        try withMigratedDatabase { db in
            let insert =
                "INSERT INTO runs (id, pipeline, pipeline_sha256, started_at, ended_at, status) VALUES (?, ?, ?, ?, ?, ?)"
            try db.execute(
                insert, ["r1", "refresh", .text(Self.sha), "2024-01-01T00:00:00Z", "2024-01-01T00:05:00Z", "ok"])
            try db.execute(insert, ["r2", "refresh", .text(Self.sha), "2024-01-02T00:00:00Z", nil, "running"])
            let second = expectStoreError {
                try db.execute(insert, ["r3", "refresh", .text(Self.sha), "2024-01-03T00:00:00Z", nil, "running"])
            }
            #expect(second?.message.contains("UNIQUE constraint failed") == true)
            let status = expectStoreError {
                try db.execute(
                    insert, ["r4", "refresh", .text(Self.sha), "2024-01-03T00:00:00Z", "2024-01-03T00:00:01Z", "done"])
            }
            #expect(status?.message.contains("CHECK constraint failed") == true)
            let unfinished = expectStoreError {
                try db.execute(insert, ["r5", "refresh", .text(Self.sha), "2024-01-03T00:00:00Z", nil, "ok"])
            }
            #expect(unfinished?.message.contains("CHECK constraint failed") == true)
            let badHash = expectStoreError {
                try db.execute(insert, ["r6", "refresh", "ABC", "2024-01-03T00:00:00Z", "2024-01-03T00:00:01Z", "ok"])
            }
            #expect(badHash?.message.contains("CHECK constraint failed") == true)
        }
    }

    @Test("run_stages: belongs to a run, argv is a JSON array, one row per position")
    func runStages() throws {
        try withMigratedDatabase { db in
            try db.execute(
                "INSERT INTO runs (id, pipeline, pipeline_sha256, started_at, status) VALUES (?, ?, ?, ?, 'running')",
                ["r1", "refresh", .text(Self.sha), "2024-01-01T00:00:00Z"])
            let insert = "INSERT INTO run_stages (run_id, position, name, argv) VALUES (?, ?, ?, ?)"
            try db.execute(insert, ["r1", 0, "ingest", #"["policylist-ingest","--db","x.sqlite"]"#])
            #expect(throws: StoreError.self) { try db.execute(insert, ["r1", 0, "observe", "[]"]) }
            #expect(throws: StoreError.self) { try db.execute(insert, ["nope", 1, "observe", "[]"]) }
            #expect(throws: StoreError.self) {
                try db.execute(insert, ["r1", 1, "observe", "policylist-observe --db x"])
            }
        }
    }

    @Test("blobs: the address must be 64 lowercase hex characters")
    func blobAddress() throws {
        try withMigratedDatabase { db in
            let insert = "INSERT INTO blobs (sha256, size, data) VALUES (?, 0, x'')"
            #expect(throws: StoreError.self) { try db.execute(insert, ["abc"]) }
            #expect(throws: StoreError.self) { try db.execute(insert, [.text(String(repeating: "AB", count: 32))]) }
            try db.execute(insert, [.text(Self.sha)])
        }
    }
}
