/// One named schema change: SQL statements run in one transaction and recorded in `schema_migrations`.
public struct Migration: Sendable, Equatable {
    /// The ledger name, `NNNN-topic`; never reused.
    public let name: String
    /// The DDL, `;`-separated, without `BEGIN`/`COMMIT` (the migrator wraps it in a transaction).
    public let sql: String

    /// Creates a migration.
    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }
}

/// One row of the migration ledger.
public struct AppliedMigration: Sendable, Equatable {
    /// The migration's name.
    public let name: String
    /// When it was applied (RFC 3339 UTC, as given to `migrate`).
    public let appliedAt: String

    /// Creates a ledger row.
    public init(name: String, appliedAt: String) {
        self.name = name
        self.appliedAt = appliedAt
    }
}

/// The schema: an ordered, append-only list of migrations and the code that applies them.
public enum Migrations {
    /// Every migration this build knows, in the order they apply.
    ///
    /// APPEND ONLY. A shipped migration is never edited, renamed, reordered or removed: databases in the
    /// field have already run it, and `ShippedMigrationsTests` pins its SQL. To change the schema, define a
    /// new `Migration` (next number) in your own file and add one line at the end of this list.
    public static let all: [Migration] = [
        .core0001,
        .snapshots0002,
        .requests0003,
        .reconcile0004,
        .observations0005,
        .aggregatedScans0006,
        .runner0007,
        .observationsLean0008,
    ]

    /// Applies the migrations `db` is missing, in order, each in its own transaction, recording each with
    /// `now`; returns the names applied (empty when the schema was already current).
    ///
    /// Refuses a database whose ledger names a migration this build does not know (a newer policylist wrote
    /// it) or whose applied migrations are not a prefix of `migrations`. Safe to run from several processes
    /// at once: each step re-reads the ledger under the write lock.
    @discardableResult
    public static func migrate(_ db: Database, now: String, migrations: [Migration] = all) throws -> [String] {
        // The common case, an up-to-date schema, takes no write lock.
        guard try !pending(db, migrations: migrations).isEmpty else { return [] }
        var appliedNow: [String] = []
        while true {
            let next: Migration? = try db.transaction { db in
                if try !ledgerExists(db) {
                    try requireEmpty(db)
                    // The ledger is the migrator's own bootstrap; every other table comes from a migration.
                    try db.execute(
                        """
                        CREATE TABLE schema_migrations (
                            name TEXT PRIMARY KEY CHECK (name <> ''),
                            applied_at TEXT NOT NULL
                                CHECK (applied_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z')
                        ) STRICT
                        """)
                }
                let done = try check(ledgerNames(db), against: migrations)
                guard done < migrations.count else { return nil }
                let migration = migrations[done]
                do {
                    try db.executeScript(migration.sql)
                    try requireForeignKeysHold(db)
                    try db.execute(
                        "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                        [.text(migration.name), .text(now)])
                } catch let error as StoreError {
                    throw StoreError.migrationFailed(name: migration.name, cause: error)
                }
                return migration
            }
            guard let next else { return appliedNow }
            appliedNow.append(next.name)
        }
    }

    /// The migrations `db` still needs (without applying them); throws like `migrate` on a foreign ledger.
    /// Read-only stages use it to refuse a database that is behind.
    public static func pending(_ db: Database, migrations: [Migration] = all) throws -> [Migration] {
        try validateList(migrations)
        guard try ledgerExists(db) else {
            try requireEmpty(db)
            return migrations
        }
        let done = try check(ledgerNames(db), against: migrations)
        return Array(migrations[done...])
    }

    /// The ledger, in the order the migrations were applied (empty if there is no ledger yet).
    public static func applied(_ db: Database) throws -> [AppliedMigration] {
        guard try ledgerExists(db) else { return [] }
        return try db.query("SELECT name, applied_at FROM schema_migrations ORDER BY rowid").map {
            AppliedMigration(name: try $0.get(0), appliedAt: try $0.get(1))
        }
    }

    private static func ledgerExists(_ db: Database) throws -> Bool {
        try db.scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations')",
            as: Bool.self) ?? false
    }

    private static func ledgerNames(_ db: Database) throws -> [String] {
        try db.query("SELECT name FROM schema_migrations ORDER BY rowid").map { try $0.get(0) }
    }

    /// A file with tables but no ledger is not ours (or predates migrations): never build on top of it.
    private static func requireEmpty(_ db: Database) throws {
        let tables = try db.query(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        ).map { try $0.get(0, as: String.self) }
        guard tables.isEmpty else {
            throw StoreError.migration(
                "\(db.path) has tables (\(tables.joined(separator: ", "))) but no schema_migrations ledger; "
                    + "it is not a policylist database")
        }
    }

    /// How many of `migrations` the ledger has applied; throws unless the ledger is a prefix of the list.
    private static func check(_ names: [String], against migrations: [Migration]) throws -> Int {
        let known = Set(migrations.map(\.name))
        let unknown = names.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw StoreError.migration(
                "the database was migrated by a newer policylist: unknown migration(s) "
                    + unknown.joined(separator: ", ") + "; use a policylist that knows them")
        }
        guard names == migrations.prefix(names.count).map(\.name) else {
            throw StoreError.migration(
                "applied migrations [\(names.joined(separator: ", "))] are not a prefix of this build's "
                    + "[\(migrations.map(\.name).joined(separator: ", "))]")
        }
        return names.count
    }

    private static func validateList(_ migrations: [Migration]) throws {
        var seen = Set<String>()
        for migration in migrations where migration.name.isEmpty || !seen.insert(migration.name).inserted {
            throw StoreError.migration("migration list names \"\(migration.name)\" twice or empty")
        }
    }

    private static func requireForeignKeysHold(_ db: Database) throws {
        let violations = try db.query("PRAGMA foreign_key_check")
        guard let first = violations.first else { return }
        let table = (try? first.get(0, as: String.self)) ?? "?"
        throw StoreError.migration("\(violations.count) foreign key violation(s), first in table \(table)")
    }
}

extension Migration {
    /// Blobs, rejected inputs, and the run ledger. Shipped: never edit.
    static let core0001 = Migration(
        name: "0001-core",
        sql: """
            CREATE TABLE blobs (
                sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
                size INTEGER NOT NULL CHECK (size >= 0),
                data BLOB NOT NULL
            ) STRICT;

            CREATE TABLE rejected_inputs (
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind <> ''),
                source TEXT NOT NULL CHECK (source <> ''),
                location TEXT,
                blob TEXT REFERENCES blobs (sha256),
                error TEXT NOT NULL CHECK (error <> ''),
                recorded_at TEXT NOT NULL
                    CHECK (recorded_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z')
            ) STRICT;
            -- One record per (kind, source, location, blob); NULLs count as equal here, unlike in UNIQUE.
            CREATE UNIQUE INDEX rejected_inputs_identity ON rejected_inputs (
                kind, source, location IS NULL, ifnull(location, ''), blob IS NULL, ifnull(blob, '')
            );

            CREATE TABLE runs (
                id TEXT PRIMARY KEY CHECK (id <> ''),
                pipeline TEXT NOT NULL CHECK (pipeline <> ''),
                pipeline_sha256 TEXT NOT NULL
                    CHECK (length(pipeline_sha256) = 64 AND pipeline_sha256 NOT GLOB '*[^0-9a-f]*'),
                started_at TEXT NOT NULL
                    CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'),
                ended_at TEXT
                    CHECK (ended_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'),
                status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
                CHECK ((status = 'running') = (ended_at IS NULL))
            ) STRICT;
            -- The run lock as an invariant: at most one run is in progress.
            CREATE UNIQUE INDEX runs_one_running ON runs (status) WHERE status = 'running';

            CREATE TABLE run_stages (
                run_id TEXT NOT NULL REFERENCES runs (id),
                position INTEGER NOT NULL CHECK (position >= 0),
                name TEXT NOT NULL CHECK (name <> ''),
                -- The stage's command line as a JSON array of strings.
                argv TEXT NOT NULL CHECK (json_valid(argv) AND json_type(argv) = 'array'),
                started_at TEXT
                    CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'),
                ended_at TEXT
                    CHECK (ended_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'),
                exit_code INTEGER CHECK (exit_code BETWEEN 0 AND 255),
                summary TEXT,
                PRIMARY KEY (run_id, position),
                CHECK (ended_at IS NULL OR started_at IS NOT NULL),
                CHECK (exit_code IS NULL OR ended_at IS NOT NULL)
            ) STRICT;
            """)
}
