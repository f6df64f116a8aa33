import PolicyListStore
import Testing

@Suite("Database: transactions as closures")
struct TransactionTests {
    private func makeTable(_ db: Database) throws {
        try db.execute("CREATE TABLE t (v TEXT NOT NULL) STRICT")
    }

    private func values(_ db: Database) throws -> [String] {
        try db.query("SELECT v FROM t ORDER BY rowid").map { try $0.get(0) }
    }

    @Test("returning commits and hands back the body's value")
    func commit() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try makeTable(db)
            let result = try db.transaction { db -> Int in
                #expect(db.isInTransaction)
                try db.execute("INSERT INTO t (v) VALUES (?)", ["a"])
                return 42
            }
            #expect(result == 42)
            #expect(!db.isInTransaction)
            // Visible to another connection: really committed.
            let other = try Database(path: dir + "/t.sqlite")
            #expect(try values(other) == ["a"])
        }
    }

    @Test("throwing rolls back and rethrows the body's error")
    func rollback() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try makeTable(db)
            #expect(throws: Marker()) {
                try db.transaction { db in
                    try db.execute("INSERT INTO t (v) VALUES (?)", ["a"])
                    throw Marker()
                }
            }
            #expect(!db.isInTransaction)
            #expect(try values(db) == [])
        }
    }

    @Test("a failing nested transaction rolls back only its savepoint")
    func nestedRollback() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try makeTable(db)
            try db.transaction { db in
                try db.execute("INSERT INTO t (v) VALUES (?)", ["outer-1"])
                try db.transaction { db in
                    try db.execute("INSERT INTO t (v) VALUES (?)", ["inner-ok"])
                }
                #expect(throws: Marker()) {
                    try db.transaction { db in
                        try db.execute("INSERT INTO t (v) VALUES (?)", ["inner-failed"])
                        try db.transaction { db in
                            try db.execute("INSERT INTO t (v) VALUES (?)", ["inner-inner"])
                        }
                        throw Marker()
                    }
                }
                #expect(db.isInTransaction)
                try db.execute("INSERT INTO t (v) VALUES (?)", ["outer-2"])
            }
            #expect(try values(db) == ["outer-1", "inner-ok", "outer-2"])
        }
    }

    @Test("an outer rollback also undoes nested work that had succeeded")
    func outerRollbackUndoesInner() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try makeTable(db)
            #expect(throws: Marker()) {
                try db.transaction { db in
                    try db.transaction { db in try db.execute("INSERT INTO t (v) VALUES (?)", ["inner"]) }
                    throw Marker()
                }
            }
            #expect(try values(db) == [])
        }
    }

    @Test("a failing statement inside a transaction rolls everything back")
    func sqlErrorRollsBack() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try makeTable(db)
            let error = expectStoreError {
                try db.transaction { db in
                    try db.execute("INSERT INTO t (v) VALUES (?)", ["a"])
                    try db.execute("INSERT INTO t (v) VALUES (?)", [nil])
                }
            }
            #expect(error?.message.contains("NOT NULL constraint failed: t.v") == true)
            #expect(try values(db) == [])
            #expect(!db.isInTransaction)
        }
    }
}
