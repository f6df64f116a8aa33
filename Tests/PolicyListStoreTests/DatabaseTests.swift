import Foundation
import PolicyListCore
import PolicyListStore
import Testing

@Suite("Database: binding, reading, cache, errors")
struct DatabaseTests {
    static let values: [SQLValue] = [
        .null, .int(0), .int(-1), .int(Int64.min), .int(Int64.max), .double(3.25), .double(-1e300),
        .text(""), .text("plain"), .text("naïve 日本語 🇩🇪 ß"), .text("nul\u{0}inside"),
        .blob([]), .blob([0]), .blob([0, 0, 1, 0, 255, 0]), .blob(Array(0...255)),
    ]

    @Test("every SQLValue binds and reads back identically", arguments: values)
    func roundTrip(value: SQLValue) throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try db.execute("CREATE TABLE t (v ANY) STRICT")
            try db.execute("INSERT INTO t (v) VALUES (?)", [value])
            let rows = try db.query("SELECT v, typeof(v) AS type FROM t")
            #expect(rows.count == 1)
            #expect(try rows[0].value(0) == value)
            #expect(try rows[0].get("type", as: String.self).uppercased() == value.typeName)
            // And as a parameter in a WHERE clause (equality by value, not by pointer or C string).
            if value != .null {
                #expect(try db.scalar("SELECT count(*) FROM t WHERE v = ?", [value], as: Int.self) == 1)
            }
        }
    }

    @Test("text with NUL and non-ASCII keeps its exact UTF-8 length")
    func textLengths() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            let text = "a\u{0}é日🇩🇪"
            #expect(try db.scalar("SELECT length(CAST(? AS BLOB))", [.text(text)], as: Int.self) == text.utf8.count)
        }
    }

    @Test("a reused statement binds each execution's own bytes: growing, shrinking and past the kept arena size")
    func reusedStatementBindsFreshBytes() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a ANY, b ANY, c ANY) STRICT")
            // Deterministic sizes from a few bytes to 3 MiB and back, texts with NUL and non-ASCII, empty values.
            let sizes = [0, 1, 7, 300, 70_000, 3 << 20, 5, 0, 1 << 20 + 1, 2, 64]
            var expected: [[SQLValue]] = []
            for (index, size) in sizes.enumerated() {
                let blob = (0..<size).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761 &+ index) >> 7) }
                let text = String(repeating: "é\u{0}日", count: size / 7) + "#\(index)"
                let row: [SQLValue] = [.blob(blob), .text(text), index.isMultiple(of: 3) ? .null : .text("")]
                expected.append(row)
                try db.execute("INSERT INTO t (a, b, c) VALUES (?, ?, ?)", row)
            }
            // The same rows again in one multi-row statement, reused twice with other values in between.
            let two = "INSERT INTO t (a, b, c) VALUES (?, ?, ?), (?, ?, ?)"
            try db.execute(two, expected[5] + expected[1])
            try db.execute(two, expected[2] + expected[8])
            expected += [expected[5], expected[1], expected[2], expected[8]]
            let rows = try db.query("SELECT a, b, c FROM t ORDER BY id")
            #expect(rows.count == expected.count)
            for (row, want) in zip(rows, expected) {
                #expect(try [row.value(0), row.value(1), row.value(2)] == want)
            }
            // A query's parameter bytes are its own too (compared by value inside SQLite).
            for want in expected {
                let count = try db.scalar(
                    "SELECT count(*) FROM t WHERE a = ? AND b = ?", [want[0], want[1]], as: Int.self)
                #expect((count ?? 0) >= 1)
            }
        }
    }

    @Test("literals and conversions produce the expected values")
    func literals() throws {
        let values: [SQLValue] = [nil, 42, 2.5, "x", true, false]
        #expect(values == [.null, .int(42), .double(2.5), .text("x"), .int(1), .int(0)])
        #expect(SQLValue(Optional<String>.none) == .null)
        #expect(SQLValue(Optional("y")) == .text("y"))
        #expect(SQLValue([UInt8]([1, 2])) == .blob([1, 2]))
        #expect(SQLValue(7) == .int(7))
        #expect(Int(sqlValue: .int(Int64.max)) == Int(Int64.max))
        #expect(Double(sqlValue: .int(3)) == 3.0)
        #expect(Bool(sqlValue: .int(2)) == nil)
        #expect(String(sqlValue: .blob([65])) == nil)
        #expect(Optional<String>(sqlValue: .null) == .some(nil))
        #expect(Optional<String>(sqlValue: .int(1)) == nil)
    }

    @Test("columns read by index and by name, with typed getters and optionals")
    func readByIndexAndName() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            let row = try #require(
                try db.query("SELECT 1 AS n, 'two' AS s, NULL AS z, x'00ff' AS b, 1.5 AS d").first)
            #expect(row.columns == ["n", "s", "z", "b", "d"])
            #expect(try row.get(0, as: Int64.self) == 1)
            #expect(try row.get("n", as: Int.self) == 1)
            #expect(try row.get("N", as: Int.self) == 1)  // case-insensitive fallback, as in SQL
            #expect(try row.get("s", as: String.self) == "two")
            #expect(try row.get("z", as: String?.self) == nil)
            #expect(try row.get("s", as: String?.self) == "two")
            #expect(try row.get("b", as: [UInt8].self) == [0, 255])
            #expect(try row.get("d", as: Double.self) == 1.5)
        }
    }

    @Test("a type mismatch or missing column names the column, the types and the SQL")
    func typeMismatch() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            let sql = "SELECT 'abc' AS size"
            let row = try #require(try db.query(sql).first)
            let mismatch = expectStoreError { _ = try row.get("size", as: Int64.self) }
            #expect(mismatch?.message.contains("\"size\" holds TEXT, expected Int64") == true)
            #expect(mismatch?.message.contains(sql) == true)
            let null = expectStoreError { _ = try db.scalar("SELECT NULL", as: String.self) }
            #expect(null?.message.contains("holds NULL, expected String") == true)
            let missing = expectStoreError { _ = try row.get("nope", as: String.self) }
            #expect(missing?.message.contains("no column named \"nope\"") == true)
            let outOfRange = expectStoreError { _ = try row.value(3) }
            #expect(outOfRange?.message.contains("no column 3") == true)
        }
    }

    @Test("the statement cache prepares each SQL text once and reuses it")
    func statementCache() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try db.execute("CREATE TABLE t (v INTEGER NOT NULL) STRICT")
            let insert = "INSERT INTO t (v) VALUES (?)"
            let before = db.cachedStatementCount
            try db.execute(insert, [1])
            let handle = try #require(db.cachedStatementHandle(insert))
            for value in 2...50 { try db.execute(insert, [.int(Int64(value))]) }
            #expect(db.cachedStatementCount == before + 1)
            #expect(db.cachedStatementHandle(insert) == handle)
            #expect(try db.scalar("SELECT sum(v) FROM t", as: Int.self) == 1275)
            #expect(db.cachedStatementCount == before + 2)
            db.close()
            #expect(db.cachedStatementCount == 0)
        }
    }

    @Test("running the same SQL inside its own forEach uses a separate statement")
    func reentrantStatement() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try db.execute("CREATE TABLE t (v INTEGER NOT NULL) STRICT")
            for value in 1...3 { try db.execute("INSERT INTO t (v) VALUES (?)", [.int(Int64(value))]) }
            let sql = "SELECT v FROM t WHERE v >= ? ORDER BY v"
            var pairs: [[Int]] = []
            try db.forEach(sql, [1]) { outer in
                let start: Int = try outer.get(0)
                let inner = try db.query(sql, [.int(Int64(start))]).map { try $0.get(0, as: Int.self) }
                pairs.append([start] + inner)
            }
            #expect(pairs == [[1, 1, 2, 3], [2, 2, 3], [3, 3]])
        }
    }

    @Test("forEach streams every row and stops at the first thrown error")
    func forEachStreams() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try db.execute("CREATE TABLE t (v INTEGER NOT NULL) STRICT")
            try db.transaction { db in
                for value in 0..<10_000 { try db.execute("INSERT INTO t (v) VALUES (?)", [.int(Int64(value))]) }
            }
            var count = 0
            var sum = 0
            try db.forEach("SELECT v FROM t ORDER BY v") { row in
                count += 1
                sum += try row.get(0, as: Int.self)
            }
            #expect(count == 10_000)
            #expect(sum == 49_995_000)
            var seen = 0
            #expect(throws: Marker.self) {
                try db.forEach("SELECT v FROM t ORDER BY v") { _ in
                    seen += 1
                    if seen == 5 { throw Marker() }
                }
            }
            #expect(seen == 5)
            // The statement was reset: it runs again from the start.
            #expect(try db.query("SELECT v FROM t ORDER BY v").count == 10_000)
        }
    }

    @Test("scalar, lastInsertRowID and changes")
    func scalarAndCounters() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT")
            #expect(try db.scalar("SELECT v FROM t", as: String.self) == nil)
            try db.execute("INSERT INTO t (v) VALUES (?)", ["a"])
            #expect(db.lastInsertRowID == 1)
            try db.execute("INSERT INTO t (v) VALUES (?)", ["b"])
            #expect(db.lastInsertRowID == 2)
            try db.execute("UPDATE t SET v = ?", ["c"])
            #expect(db.changes == 2)
            #expect(try db.scalar("SELECT count(*) FROM t WHERE v = ?", ["c"], as: Int.self) == 2)
        }
    }

    @Test("errors carry the SQLite code, SQLite's message and the SQL text")
    func errorsQuoteSQL() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            let syntax = expectStoreError { try db.execute("SELEKT 1") }
            #expect(syntax?.message.contains("\"SELEKT 1\"") == true)
            #expect(syntax?.message.contains("syntax error") == true)
            #expect(syntax?.exitCode == .failure)

            try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY) STRICT")
            let insert = "INSERT INTO t (k) VALUES (?)"
            try db.execute(insert, ["x"])
            let duplicate = expectStoreError { try db.execute(insert, ["x"]) }
            #expect(duplicate?.message.contains(insert) == true)
            #expect(duplicate?.message.contains("UNIQUE constraint failed: t.k") == true)
            #expect(duplicate?.sqliteCode == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
            #expect(duplicate?.exitCode == .failure)
            // A STRICT table refuses the wrong type instead of storing it.
            let strict = expectStoreError { try db.execute(insert, [.blob([1])]) }
            #expect(strict?.message.contains("cannot store BLOB value in TEXT column t.k") == true)

            let count = expectStoreError { try db.execute(insert, []) }
            #expect(count?.message.contains("expected 1 argument(s), got 0") == true)
            let two = expectStoreError { try db.execute("SELECT 1; SELECT 2") }
            #expect(two?.message.contains("more than one statement") == true)
            try db.execute("SELECT 1; -- a trailing comment is fine")
        }
    }

    @Test("executeScript runs every statement and quotes the one that fails")
    func executeScript() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            try db.executeScript(
                """
                CREATE TABLE a (x INTEGER) STRICT;
                -- comment between statements
                CREATE TABLE b (y TEXT) STRICT;
                """)
            #expect(try db.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", as: Int.self) == 2)
            let error = expectStoreError {
                try db.executeScript("CREATE TABLE c (z INTEGER) STRICT; INSERT INTO nowhere VALUES (1);")
            }
            #expect(error?.message.contains("no such table: nowhere") == true)
            #expect(error?.message.contains("INSERT INTO nowhere VALUES (1);") == true)
            #expect(error?.message.contains("CREATE TABLE c") == false)
        }
    }

    @Test("open sets WAL, foreign keys, busy timeout and synchronous=NORMAL")
    func pragmas() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite", busyTimeout: .milliseconds(1500))
            #expect(try db.scalar("PRAGMA journal_mode", as: String.self) == "wal")
            #expect(try db.scalar("PRAGMA foreign_keys", as: Int.self) == 1)
            #expect(try db.scalar("PRAGMA busy_timeout", as: Int.self) == 1500)
            #expect(try db.scalar("PRAGMA synchronous", as: Int.self) == 1)
            let defaults = try Database(path: dir + "/t.sqlite")
            #expect(try defaults.scalar("PRAGMA busy_timeout", as: Int.self) == 10_000)
            try db.execute("CREATE TABLE p (id INTEGER PRIMARY KEY) STRICT")
            try db.execute("CREATE TABLE c (p INTEGER NOT NULL REFERENCES p (id)) STRICT")
            let error = expectStoreError { try db.execute("INSERT INTO c (p) VALUES (?)", [7]) }
            #expect(error?.message.contains("FOREIGN KEY constraint failed") == true)
        }
    }

    @Test("a closed connection throws instead of crashing")
    func closed() throws {
        try withTempDirectory { dir in
            let db = try Database(path: dir + "/t.sqlite")
            db.close()
            db.close()
            let error = expectStoreError { try db.execute("SELECT 1") }
            #expect(error == .closed(path: dir + "/t.sqlite"))
        }
    }
}
