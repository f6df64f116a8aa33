import CSQLite

/// One prepared statement, owned by the `Database` that prepared it and finalized when released.
///
/// Cached statements are reused for every execution of the same SQL text; `inUse` stops a nested
/// execution of the same SQL (inside a `forEach` body) from resetting the outer one: it gets a fresh,
/// uncached statement instead.
final class Statement {
    let handle: OpaquePointer
    let sql: String
    var inUse = false

    /// Prepares exactly one statement; trailing whitespace and comments are fine, a second statement is not.
    init(connection: OpaquePointer, sql: String, persistent: Bool) throws {
        var prepared: OpaquePointer?
        var tailOffset = 0
        let flags = UInt32(persistent ? SQLITE_PREPARE_PERSISTENT : 0)
        let rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(connection, text, -1, flags, &prepared, &tail)
            if let tail { tailOffset = text.distance(to: tail) }
            return rc
        }
        guard rc == SQLITE_OK else {
            sqlite3_finalize(prepared)
            throw Database.error(connection, rc, sql)
        }
        guard let prepared else {
            throw StoreError.sqlite(code: SQLITE_MISUSE, message: "no SQL statement", sql: sql)
        }
        self.handle = prepared
        self.sql = sql
        let tail = String(decoding: sql.utf8.dropFirst(tailOffset), as: UTF8.self)
        if try Self.containsStatement(connection, tail) {
            throw StoreError.sqlite(
                code: SQLITE_MISUSE, message: "more than one statement (use executeScript)", sql: sql)
        }
    }

    deinit {
        sqlite3_finalize(handle)
        arena?.deallocate()
    }

    private static func containsStatement(_ connection: OpaquePointer, _ sql: String) throws -> Bool {
        guard sql.contains(where: { !$0.isWhitespace && $0 != ";" }) else { return false }
        var prepared: OpaquePointer?
        let rc = sqlite3_prepare_v2(connection, sql, -1, &prepared, nil)
        defer { sqlite3_finalize(prepared) }
        return rc != SQLITE_OK || prepared != nil
    }

    /// The bytes of the text and blob values bound for the current execution: SQLite reads them in place
    /// (`SQLITE_STATIC`) instead of copying each value into a buffer of its own (a `malloc` and a copy per
    /// value: a tenth of an observation import's CPU, 36 values a row). Owned by the statement, rewritten by
    /// every `bind` and never touched between `bind` and the `reset` that ends the execution; every
    /// execution binds all parameters, so no binding ever points at an earlier execution's bytes.
    private var arena: UnsafeMutableRawPointer?
    private var arenaCapacity = 0

    /// An arena kept after an execution is released past this size (a large blob bound once).
    private static let keptArenaBytes = 1 << 20

    /// Binds `args` by position; the count must match the statement's parameters.
    func bind(_ args: [SQLValue], connection: OpaquePointer) throws {
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard args.count == expected else {
            throw StoreError.sqlite(
                code: SQLITE_RANGE, message: "expected \(expected) argument(s), got \(args.count)", sql: sql)
        }
        var bytes = 0
        for value in args {
            switch value {
            case .text(let text): bytes += text.utf8.count
            case .blob(let blob): bytes += blob.count
            case .null, .int, .double: break
            }
        }
        if bytes > arenaCapacity {
            arena?.deallocate()
            arenaCapacity = max(bytes, 2 * arenaCapacity)
            arena = UnsafeMutableRawPointer.allocate(byteCount: arenaCapacity, alignment: 8)
        }
        var used = 0
        for (offset, value) in args.enumerated() {
            let position = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(handle, position)
            case .int(let number):
                rc = sqlite3_bind_int64(handle, position, number)
            case .double(let number):
                rc = sqlite3_bind_double(handle, position, number)
            case .text(let text):
                var text = text
                rc = text.withUTF8 { utf8 -> Int32 in
                    // A nil pointer would bind NULL, so the empty string gets a real (empty) C string.
                    guard let source = utf8.baseAddress, let arena else {
                        return sqlite3_bind_text(handle, position, "", 0, policylist_sqlite_transient)
                    }
                    let start = arena + used
                    start.copyMemory(from: source, byteCount: utf8.count)
                    used += utf8.count
                    return sqlite3_bind_text64(
                        handle, position, start.assumingMemoryBound(to: CChar.self), UInt64(utf8.count),
                        policylist_sqlite_static, UInt8(SQLITE_UTF8))
                }
            case .blob(let blob):
                rc = blob.withUnsafeBytes { raw -> Int32 in
                    // Same for the empty blob: a nil pointer would bind NULL.
                    guard let source = raw.baseAddress, !raw.isEmpty, let arena else {
                        return sqlite3_bind_zeroblob(handle, position, 0)
                    }
                    let start = arena + used
                    start.copyMemory(from: source, byteCount: raw.count)
                    used += raw.count
                    return sqlite3_bind_blob64(handle, position, start, UInt64(raw.count), policylist_sqlite_static)
                }
            }
            guard rc == SQLITE_OK else { throw Database.error(connection, rc, sql) }
        }
    }

    /// The number of result columns.
    var columnCount: Int32 { sqlite3_column_count(handle) }

    /// The result column names.
    func columnNames() -> [String] {
        (0..<sqlite3_column_count(handle)).map { index in
            sqlite3_column_name(handle, index).map { String(cString: $0) } ?? "column\(index)"
        }
    }

    /// The value of column `index` of the current row.
    func value(at index: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER:
            return .int(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT:
            return .double(sqlite3_column_double(handle, index))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(handle, index))
            guard let text = sqlite3_column_text(handle, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, index))
            guard let bytes = sqlite3_column_blob(handle, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    /// The current row as a `Row`.
    func row(columns: [String]) -> Row {
        Row(columns: columns, values: (0..<Int32(columns.count)).map(value(at:)), sql: sql)
    }

    /// Makes the statement ready for the next execution. The bindings are left as they are (the next `bind`
    /// sets every parameter, and `sqlite3_clear_bindings` over a few thousand parameters of a multi-row
    /// `INSERT` costs more than the insert's own binding); the bound bytes live in `arena`, which is released
    /// here when a large blob made it big.
    func reset() {
        sqlite3_reset(handle)
        if arenaCapacity > Self.keptArenaBytes {
            // SQLite may not look at the old bindings again: clear them before their bytes go.
            sqlite3_clear_bindings(handle)
            arena?.deallocate()
            arena = nil
            arenaCapacity = 0
        }
    }
}
