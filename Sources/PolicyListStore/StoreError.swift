import CSQLite
import PolicyListCore

/// Everything that can go wrong in the store, with the context needed to act on it.
public enum StoreError: ExitCodeError, Equatable, CustomStringConvertible {
    /// SQLite returned `code` (extended result code) with `message` while running `sql`.
    case sqlite(code: Int32, message: String, sql: String)
    /// The database file at `path` could not be opened.
    case open(path: String, code: Int32, message: String)
    /// The database was opened for writing but SQLite could only open it read-only.
    case readOnlyFile(path: String)
    /// The connection was already closed.
    case closed(path: String)
    /// A row had no such column, or the column held another type.
    case column(String, sql: String)
    /// The migration ledger does not match this build's migrations.
    case migration(String)
    /// Migration `name` failed and was rolled back; `cause` says why.
    indirect case migrationFailed(name: String, cause: StoreError)
    /// No blob is stored under this hash.
    case blobNotFound(hash: String)
    /// A stored blob does not decompress to the bytes its hash names.
    case corruptBlob(hash: String, problem: String)
    /// zlib refused to compress.
    case compression(String)

    /// The SQLite extended result code, when SQLite reported the error.
    public var sqliteCode: Int32? {
        switch self {
        case .sqlite(let code, _, _), .open(_, let code, _): code
        case .readOnlyFile: SQLITE_READONLY
        case .migrationFailed(_, let cause): cause.sqliteCode
        default: nil
        }
    }

    /// Busy or locked → 75 (retry later); read-only, cannot open, I/O, disk full → 74; all else → 1.
    public var exitCode: ExitCode {
        guard let code = sqliteCode else { return .failure }
        switch code & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED: return .tempFail
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_FULL: return .ioError
        default: return .failure
        }
    }

    /// One line naming what failed, SQLite's words and the SQL it was running.
    public var message: String {
        switch self {
        case .sqlite(let code, let message, let sql):
            "SQLite error \(code) (\(Self.codeName(code))): \(message) in \(Self.quote(sql))"
        case .open(let path, let code, let message):
            "\(path): cannot open database: SQLite error \(code) (\(Self.codeName(code))): \(message)"
        case .readOnlyFile(let path):
            "\(path): database opened for writing but the file is read-only"
        case .closed(let path):
            "\(path): database connection is closed"
        case .column(let problem, let sql):
            "\(problem) in \(Self.quote(sql))"
        case .migration(let problem):
            "schema migrations: \(problem)"
        case .migrationFailed(let name, let cause):
            "schema migration \(name) failed (rolled back): \(cause.message)"
        case .blobNotFound(let hash):
            "blob \(hash): not in the store"
        case .corruptBlob(let hash, let problem):
            "blob \(hash): corrupt: \(problem)"
        case .compression(let problem):
            "zlib: \(problem)"
        }
    }

    /// Same as `message`.
    public var description: String { message }

    /// SQLite's English text for a result code ("database is locked").
    static func codeName(_ code: Int32) -> String {
        guard let text = sqlite3_errstr(code) else { return "unknown" }
        return String(cString: text)
    }

    /// The SQL in double quotes on one line, shortened if it is very long (migrations).
    static func quote(_ sql: String) -> String {
        let oneLine = sql.split(whereSeparator: \.isNewline).map { $0.trimmingPrefixWhitespace() }
            .joined(separator: " ")
        let limit = 400
        let shown = oneLine.count > limit ? String(oneLine.prefix(limit)) + "…" : oneLine
        return "\"\(shown)\""
    }
}

extension Substring {
    fileprivate func trimmingPrefixWhitespace() -> Substring {
        drop(while: { $0 == " " || $0 == "\t" })
    }
}
