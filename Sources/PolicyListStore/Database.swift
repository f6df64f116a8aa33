import CSQLite

/// One SQLite connection with a statement cache and closure transactions.
///
/// Thread confinement: a `Database` is not `Sendable`. Use it from one thread or task at a time (the one
/// that opened it); a task that needs the store concurrently opens its own connection. SQLite's WAL mode
/// lets many readers and one writer share the file across connections and processes.
public final class Database {
    /// How to open the file.
    public enum Mode: Sendable {
        /// Read and write; create the file if it is missing; WAL journal.
        case readWrite
        /// Read only; the file must exist.
        case readOnly
    }

    /// The path the connection was opened with.
    public let path: String
    /// The mode the connection was opened with.
    public let mode: Mode
    private var connection: OpaquePointer?
    private var cache: [String: Statement] = [:]

    /// Opens `path` and sets WAL, foreign keys, `busy_timeout` (how long to wait for a lock) and
    /// `synchronous=NORMAL`.
    public init(path: String, mode: Mode = .readWrite, busyTimeout: Duration = .seconds(10)) throws {
        self.path = path
        self.mode = mode
        var opened: OpaquePointer?
        let flags =
            mode == .readWrite
            ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
            : SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &opened, flags, nil)
        guard rc == SQLITE_OK, let opened else {
            let message = opened.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "out of memory"
            let code = opened.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(opened)
            throw StoreError.open(path: path, code: code, message: message)
        }
        connection = opened
        sqlite3_extended_result_codes(opened, 1)
        // SQLite silently falls back to read-only when the file is write-protected; a writer wants to know now.
        if mode == .readWrite && sqlite3_db_readonly(opened, "main") == 1 {
            close()
            throw StoreError.readOnlyFile(path: path)
        }
        let (seconds, attoseconds) = busyTimeout.components
        let milliseconds = max(0, min(Int64(Int32.max), seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        sqlite3_busy_timeout(opened, Int32(milliseconds))
        do {
            if mode == .readWrite {
                try execute("PRAGMA journal_mode=WAL")
            }
            try execute("PRAGMA foreign_keys=ON")
            try execute("PRAGMA synchronous=NORMAL")
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    /// Finalizes every cached statement and closes the connection; later calls throw `.closed`.
    public func close() {
        cache.removeAll()
        sqlite3_close_v2(connection)
        connection = nil
    }

    /// Runs one statement to completion (rows, if any, are discarded).
    public func execute(_ sql: String, _ args: [SQLValue] = []) throws {
        try run(sql, args) { _, _ in }
    }

    /// Runs several `;`-separated statements without parameters (migrations); an error quotes the failing one.
    public func executeScript(_ sql: String) throws {
        let db = try open()
        var rest = Substring(sql)
        while !rest.isEmpty {
            var prepared: OpaquePointer?
            var consumed = 0
            let text = String(rest)
            let rc = text.withCString { start -> Int32 in
                var tail: UnsafePointer<CChar>?
                let rc = sqlite3_prepare_v2(db, start, -1, &prepared, &tail)
                consumed = tail.map { start.distance(to: $0) } ?? text.utf8.count
                return rc
            }
            let statementText = String(decoding: text.utf8.prefix(consumed), as: UTF8.self)
            defer { sqlite3_finalize(prepared) }
            guard rc == SQLITE_OK else { throw Self.error(db, rc, statementText) }
            guard let prepared else { break }  // only whitespace or comments left
            var step = sqlite3_step(prepared)
            while step == SQLITE_ROW { step = sqlite3_step(prepared) }
            guard step == SQLITE_DONE else { throw Self.error(db, step, statementText) }
            rest = Substring(String(decoding: text.utf8.dropFirst(consumed), as: UTF8.self))
        }
    }

    /// Runs a query and returns all its rows.
    public func query(_ sql: String, _ args: [SQLValue] = []) throws -> [Row] {
        var rows: [Row] = []
        try forEach(sql, args) { rows.append($0) }
        return rows
    }

    /// Runs a query and calls `body` for each row as SQLite produces it, without collecting them.
    public func forEach(_ sql: String, _ args: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
        var columns: [String]?
        try run(sql, args) { statement, _ in
            let names = columns ?? statement.columnNames()
            columns = names
            try body(statement.row(columns: names))
        }
    }

    /// The first column of the first row as `T`, or `nil` when there is no row.
    public func scalar<T: SQLValueConvertible>(
        _ sql: String, _ args: [SQLValue] = [], as type: T.Type = T.self
    ) throws -> T? {
        var result: T?
        try run(sql, args) { statement, stop in
            guard statement.columnCount > 0 else {
                throw StoreError.column("the statement returns no column", sql: sql)
            }
            result = try statement.row(columns: statement.columnNames()).get(0, as: T.self)
            stop = true
        }
        return result
    }

    /// The rowid of the most recent successful `INSERT` on this connection.
    public var lastInsertRowID: Int64 {
        connection.map { sqlite3_last_insert_rowid($0) } ?? 0
    }

    /// The number of rows changed by the most recent `INSERT`, `UPDATE` or `DELETE` on this connection.
    public var changes: Int {
        connection.map { Int(sqlite3_changes64($0)) } ?? 0
    }

    /// Whether a transaction is open on this connection.
    public var isInTransaction: Bool {
        connection.map { sqlite3_get_autocommit($0) == 0 } ?? false
    }

    /// Runs `body` in a transaction: `BEGIN IMMEDIATE` (take the write lock now, so a busy database fails
    /// here rather than halfway), commit when `body` returns, roll back when it throws. Inside another
    /// transaction it uses a savepoint, so an inner failure undoes only the inner work.
    @discardableResult
    public func transaction<T>(_ body: (Database) throws -> T) throws -> T {
        let nested = isInTransaction
        try execute(nested ? "SAVEPOINT nested" : "BEGIN IMMEDIATE")
        let result: T
        do {
            result = try body(self)
        } catch {
            rollback(nested: nested)
            throw error
        }
        do {
            // RELEASE of the same name releases the innermost savepoint with that name: nesting is LIFO.
            if !nested { FaultInjection.beforeCommit() }
            try execute(nested ? "RELEASE nested" : "COMMIT")
        } catch {
            rollback(nested: nested)
            throw error
        }
        return result
    }

    /// Best effort: the error that caused the rollback is the one worth reporting.
    private func rollback(nested: Bool) {
        if nested {
            try? execute("ROLLBACK TO nested")
            try? execute("RELEASE nested")
        } else if isInTransaction {
            // SQLite may already have rolled back by itself (e.g. SQLITE_FULL); then there is nothing to do.
            try? execute("ROLLBACK")
        }
    }

    /// The number of prepared statements held in the cache.
    package var cachedStatementCount: Int { cache.count }

    /// The SQLite handle of the cached statement for `sql`, if any (lets tests see reuse).
    package func cachedStatementHandle(_ sql: String) -> OpaquePointer? { cache[sql]?.handle }

    private func open() throws -> OpaquePointer {
        guard let connection else { throw StoreError.closed(path: path) }
        return connection
    }

    /// A cached statement for `sql`, or a fresh one if the cached one is executing (re-entrant use).
    private func statement(_ sql: String) throws -> Statement {
        let db = try open()
        if let cached = cache[sql] {
            if !cached.inUse { return cached }
            return try Statement(connection: db, sql: sql, persistent: false)
        }
        let statement = try Statement(connection: db, sql: sql, persistent: true)
        cache[sql] = statement
        return statement
    }

    /// Binds, steps through every row (or until `onRow` sets `stop`), and always resets the statement.
    private func run(
        _ sql: String, _ args: [SQLValue], onRow: (Statement, inout Bool) throws -> Void
    ) throws {
        let db = try open()
        let statement = try statement(sql)
        statement.inUse = true
        defer {
            statement.reset()
            statement.inUse = false
        }
        try statement.bind(args, connection: db)
        var stop = false
        while !stop {
            let rc = sqlite3_step(statement.handle)
            switch rc {
            case SQLITE_ROW: try onRow(statement, &stop)
            case SQLITE_DONE: return
            default: throw Self.error(db, rc, sql)
            }
        }
    }

    /// The error for a failed call on `connection`, quoting `sql`.
    static func error(_ connection: OpaquePointer, _ rc: Int32, _ sql: String) -> StoreError {
        let extended = sqlite3_extended_errcode(connection)
        // The connection's last error can be stale for some codes; trust the return code's primary part.
        let code = (extended & 0xff) == (rc & 0xff) ? extended : rc
        let message = sqlite3_errmsg(connection).map { String(cString: $0) } ?? StoreError.codeName(code)
        return .sqlite(code: code, message: message, sql: sql)
    }
}
