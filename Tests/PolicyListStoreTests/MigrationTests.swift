import PolicyListCore
import PolicyListStore
import Testing

@Suite("Migrations: ledger, idempotence, refusal")
struct MigrationTests {
    static let now = "2024-05-06T07:08:09Z"
    static let extra = Migration(name: "0002-test-extra", sql: "CREATE TABLE extra (x INTEGER NOT NULL) STRICT;")
    static let future = Migration(name: "9999-future", sql: "CREATE TABLE future (x INTEGER) STRICT;")

    /// Every schema object, to compare before and after.
    private func schema(_ db: Database) throws -> [String] {
        try db.query("SELECT type || ' ' || name || ' ' || ifnull(sql, '') FROM sqlite_schema ORDER BY name").map {
            try $0.get(0)
        }
    }

    @Test("a fresh database gets every migration, recorded in order with the given instant")
    func fresh() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/s.sqlite")
            #expect(try Migrations.pending(db).map(\.name) == Migrations.all.map(\.name))
            let applied = try Migrations.migrate(db, now: Self.now)
            #expect(applied == Migrations.all.map(\.name))
            #expect(applied.first == "0001-core")
            #expect(try Migrations.applied(db) == applied.map { AppliedMigration(name: $0, appliedAt: Self.now) })
            #expect(try Migrations.pending(db).isEmpty)
            // Every table is STRICT.
            let loose = try db.query(
                "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND strict = 0 "
                    + "AND name NOT LIKE 'sqlite%'")
            #expect(loose.isEmpty)
            let tables = try db.query(
                "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
            ).map { try $0.get(0, as: String.self) }
            // 0001's tables; later migrations add their own.
            #expect(Set(["blobs", "rejected_inputs", "run_stages", "runs", "schema_migrations"]).isSubset(of: tables))
        }
    }

    @Test("migrating twice changes nothing")
    func idempotent() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/s.sqlite")
            try Migrations.migrate(db, now: Self.now)
            let ledger = try Migrations.applied(db)
            let before = try schema(db)
            #expect(try Migrations.migrate(db, now: "2030-01-01T00:00:00Z") == [])
            #expect(try Migrations.applied(db) == ledger)
            #expect(try schema(db) == before)
            // A second connection (a second stage) sees the same and also does nothing.
            let other = try Database(path: dir + "/s.sqlite")
            #expect(try Migrations.migrate(other, now: "2030-01-01T00:00:00Z") == [])
        }
    }

    @Test("an appended migration is applied alone, after the ones already there")
    func appended() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/s.sqlite")
            try Migrations.migrate(db, now: Self.now)
            let applied = try Migrations.migrate(
                db, now: "2024-06-01T00:00:00Z", migrations: Migrations.all + [Self.extra])
            #expect(applied == [Self.extra.name])
            #expect(
                try Migrations.applied(db).last
                    == AppliedMigration(name: Self.extra.name, appliedAt: "2024-06-01T00:00:00Z"))
        }
    }

    @Test("a ledger naming a migration this build does not know is refused")
    func unknownMigration() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/s.sqlite")
            try Migrations.migrate(db, now: Self.now, migrations: Migrations.all + [Self.future])
            let before = try schema(db)
            let error = expectStoreError { try Migrations.migrate(db, now: Self.now) }
            #expect(error?.message.contains("newer policylist") == true)
            #expect(error?.message.contains("9999-future") == true)
            #expect(error?.exitCode == .failure)
            let readOnly = try Database(path: dir + "/s.sqlite", mode: .readOnly)
            #expect(throws: StoreError.self) { try Migrations.pending(readOnly) }
            #expect(try schema(db) == before)
        }
    }

    @Test("applied migrations that are not a prefix of the list are refused")
    func notAPrefix() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/s.sqlite")
            try Migrations.migrate(db, now: Self.now, migrations: Migrations.all + [Self.future])
            let error = expectStoreError {
                try Migrations.migrate(db, now: Self.now, migrations: Migrations.all + [Self.extra, Self.future])
            }
            #expect(error?.message.contains("not a prefix") == true)
            #expect(try !Migrations.applied(db).contains { $0.name == Self.extra.name })
        }
    }

    @Test("a failing migration is rolled back whole and named in the error")
    func failingMigration() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/s.sqlite")
            let broken = Migration(
                name: "9999-broken", sql: "CREATE TABLE half (x INTEGER) STRICT; CREATE TABLE oops (x NOPE) STRICT;")
            let error = expectStoreError {
                try Migrations.migrate(db, now: Self.now, migrations: Migrations.all + [broken])
            }
            #expect(error?.message.contains("9999-broken failed") == true)
            #expect(error?.message.contains("CREATE TABLE oops") == true)
            // Every shipped migration committed in its own transaction; the broken one left nothing behind.
            #expect(try Migrations.applied(db).map(\.name) == Migrations.all.map(\.name))
            #expect(try db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'half'", as: Int.self) == 0)
        }
    }

    @Test("a database with tables but no ledger is not ours and is refused")
    func foreignDatabase() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/s.sqlite")
            try db.execute("CREATE TABLE somebody_elses (x INTEGER)")
            let error = expectStoreError { try Migrations.migrate(db, now: Self.now) }
            #expect(error?.message.contains("not a policylist database") == true)
        }
    }

    @Test("a migration list with a duplicate name is refused before touching the database")
    func duplicateNames() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/s.sqlite")
            let error = expectStoreError {
                try Migrations.migrate(db, now: Self.now, migrations: Migrations.all + [Migrations.all[0]])
            }
            #expect(error?.message.contains("twice") == true)
            #expect(try Migrations.applied(db).isEmpty)
        }
    }

    @Test("the ledger refuses an instant that is not RFC 3339 UTC")
    func badInstant() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/s.sqlite")
            let error = expectStoreError { try Migrations.migrate(db, now: "yesterday") }
            #expect(error?.message.contains("CHECK constraint failed") == true)
            #expect(try Migrations.applied(db).isEmpty)
        }
    }
}

/// Shipped migrations are never edited: their SQL is pinned here. Appending a migration means appending
/// its hash below; a changed hash for an existing name means someone edited history.
@Suite("Migrations: shipped SQL is pinned")
struct ShippedMigrationsTests {
    static let pinned: [(name: String, sha256: String)] = [
        ("0001-core", "321fb7abf9a87a6d0d1243a822fa016a2581d4ba736f7c59bab25c206893fc08"),
        ("0002-snapshots", "d6822bd75b7e56b271d050020878967655803748df2de96587976c2855c4f4d0"),
        ("0003-queue-and-requests", "8ce21cc747dd1eb228f2203d49eb5e28d1a5b86b2653184ca9f031d06126e843"),
        ("0004-reconcile-and-publish", "87296c7dcb2d6828b573bf21a1ec08d4e5e15eeef4f5715dd57801bfefae5cf0"),
        ("0005-observations", "66685704215d7c068abb5fa49c74c31262fe88a1ce1c92e005f8cf1ff561e951"),
        ("0006-aggregated-scans", "a023d43ae16d14157e9e6b25c9aee03e1c6170ece75995f8df430243225724af"),
        ("0007-runner", "78d7857222d4118a8cb7494d4f3093e2ce662303caa3d213e90ea998184146f4"),
        ("0008-observations-lean", "23b3954808b3f08d71cb86d5087c2e266e72d1ee9d78bfc43e04d582c0d02441"),
    ]

    @Test("every shipped migration's SQL is unchanged and the list only grows")
    func pinned() {
        #expect(Migrations.all.count >= Self.pinned.count)
        for (migration, pin) in zip(Migrations.all, Self.pinned) {
            #expect(migration.name == pin.name)
            #expect(SHA256.hex(Array(migration.sql.utf8)) == pin.sha256, "migration \(pin.name) was edited")
        }
        let unpinned = Migrations.all.dropFirst(Self.pinned.count).map {
            "(\"\($0.name)\", \"\(SHA256.hex(Array($0.sql.utf8)))\")"
        }
        #expect(unpinned.isEmpty, "pin the new migrations here: \(unpinned.joined(separator: ", "))")
    }
}
