/// One result row: the column names and values of a step, copied out of SQLite.
public struct Row: Sendable, Equatable {
    /// The column names, in result order.
    public let columns: [String]
    /// The values, in result order.
    public let values: [SQLValue]
    /// The statement that produced the row, quoted in errors.
    public let sql: String

    /// Creates a row (normally done by `Database`).
    public init(columns: [String], values: [SQLValue], sql: String) {
        self.columns = columns
        self.values = values
        self.sql = sql
    }

    /// The value of the column at `index`; throws if there is no such column.
    public func value(_ index: Int) throws -> SQLValue {
        guard values.indices.contains(index) else {
            throw StoreError.column("no column \(index) (the row has \(values.count))", sql: sql)
        }
        return values[index]
    }

    /// The value of the first column named `name` (exact, then case-insensitive as SQLite does).
    public func value(_ name: String) throws -> SQLValue {
        try value(index(of: name))
    }

    /// The column at `index` converted to `T`; throws naming the column and both types on a mismatch.
    public func get<T: SQLValueConvertible>(_ index: Int, as type: T.Type = T.self) throws -> T {
        let raw = try value(index)
        guard let converted = T(sqlValue: raw) else {
            throw StoreError.column(
                "column \(index) \"\(columns[index])\" holds \(raw.typeName), expected \(T.self)", sql: sql)
        }
        return converted
    }

    /// The column named `name` converted to `T`; throws naming the column and both types on a mismatch.
    public func get<T: SQLValueConvertible>(_ name: String, as type: T.Type = T.self) throws -> T {
        try get(index(of: name), as: type)
    }

    private func index(of name: String) throws -> Int {
        if let exact = columns.firstIndex(of: name) { return exact }
        let folded = name.lowercased()
        if let loose = columns.firstIndex(where: { $0.lowercased() == folded }) { return loose }
        throw StoreError.column("no column named \"\(name)\" (columns: \(columns.joined(separator: ", ")))", sql: sql)
    }
}
